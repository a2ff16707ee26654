// The addon's libzmq receiver and sender (native/zmq_transport.cc) against zeromq.js peers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as zmq from 'zeromq';
import { BsreadError } from '../../../src/errors.js';
import { BsreadReceiver, encodeMessage } from '../../../src/bsread/index.js';
import { frameViews } from '../../../src/transport/index.js';
import { NativeStreamReceiver, uint8Views } from '../../../src/transport/native-receiver.js';

async function pushSocket(): Promise<zmq.Push> {
  const s = new zmq.Push({ linger: 0, sendHighWaterMark: 1000 });
  await s.bind('tcp://127.0.0.1:0');
  return s;
}

test('frames arrive byte-identical, including empty frames, in order; all views agree', async () => {
  const push = await pushSocket();
  const r = new NativeStreamReceiver({ address: push.lastEndpoint!, receiveTimeoutMs: 2000 });
  try {
    const sent: Buffer[][] = [];
    for (let p = 0; p < 5; p++) {
      const frames = encodeMessage({
        pulseId: p,
        globalTimestamp: { sec: 1, ns: p },
        channels: [
          { def: { name: 'A', type: 'float64' }, value: p + 0.5 },
          { def: { name: 'B', type: 'int32', shape: [3] }, value: [p, 2, 3] },
        ],
      });
      sent.push(frames);
      await push.send(frames);
    }
    await push.send([Buffer.from('x'), Buffer.alloc(0), Buffer.from('tail')]);
    const rx = new BsreadReceiver();
    for (let p = 0; p < 5; p++) {
      const m = await r.receive();
      assert.ok(m !== null);
      const views = [frameViews(m), uint8Views(m)];
      for (const v of views) {
        assert.equal(v.length, sent[p]!.length);
        for (let f = 0; f < v.length; f++) assert.equal(Buffer.compare(v[f]!, sent[p]![f]!), 0);
      }
      const msg = rx.open(uint8Views(m));
      assert.ok(msg.kind !== 'not_data');
      assert.equal(msg.pulseId, p);
      assert.equal(msg.value(0), p + 0.5);
    }
    const last = await r.receive();
    assert.deepEqual(last === null ? null : frameViews(last).map((b) => b.toString()), ['x', '', 'tail']);
  } finally {
    r.close();
    push.close();
  }
});

test('receive() returns null on timeout; close() is idempotent and ends a pending receive', async () => {
  const push = await pushSocket();
  const r = new NativeStreamReceiver({ address: push.lastEndpoint!, receiveTimeoutMs: 50 });
  assert.equal(await r.receive(), null);
  const r2 = new NativeStreamReceiver({ address: push.lastEndpoint!, receiveTimeoutMs: 5000 });
  const pending = r2.receiveBatch(10);
  const t0 = Date.now();
  r2.close();
  r2.close();
  assert.deepEqual(await pending, []);
  assert.ok(Date.now() - t0 < 2000);
  assert.equal(await r2.receive(), null);
  r.close();
  push.close();
});

test('a full queue applies back-pressure: nothing is lost', async () => {
  const push = await pushSocket();
  const r = new NativeStreamReceiver({ address: push.lastEndpoint!, highWaterMark: 4, queueMessages: 2, receiveTimeoutMs: 2000 });
  try {
    const n = 300;
    const sending = (async () => {
      for (let i = 0; i < n; i++) await push.send([Buffer.from(String(i))]);
    })();
    await new Promise((res) => setTimeout(res, 100));
    assert.ok(r.stats().queued <= 2);
    for (let i = 0; i < n; i++) {
      const m = await r.receive();
      assert.ok(m !== null, `message ${i}`);
      assert.equal(m.data.toString(), String(i));
    }
    await sending;
  } finally {
    r.close();
    push.close();
  }
});

test('a bad address is refused', () => {
  assert.throws(
    () => new NativeStreamReceiver({ address: 'tcp://host' }),
    (e: unknown) => e instanceof BsreadError,
  );
});

test('a receive loop over a full queue still gives timers their turn (no event-loop starvation)', async () => {
  const push = new zmq.Push({ linger: 0, sendHighWaterMark: 5000 });
  await push.bind('tcp://127.0.0.1:0');
  const r = new NativeStreamReceiver({ address: push.lastEndpoint!, highWaterMark: 5000, queueMessages: 5000, receiveTimeoutMs: 2000 });
  try {
    const n = 3000;
    for (let i = 0; i < n; i++) await push.send([Buffer.from(String(i))]);
    // Wait until the receiver thread holds (nearly) everything, so every receive() below resolves at once.
    for (let i = 0; i < 200 && r.stats().queued + r.stats().received < n; i++) await new Promise((res) => setTimeout(res, 10));
    await new Promise((res) => setTimeout(res, 50));
    let timerAt: number | null = null;
    setTimeout(() => (timerAt = got), 0);
    let got = 0;
    while (got < n) {
      const m = await r.receive();
      assert.ok(m !== null);
      assert.equal(m.data.toString(), String(got));
      got++;
    }
    assert.ok(timerAt !== null && timerAt < 1000, `a 0 ms timer ran only after ${timerAt ?? 'all'} of ${n} messages`);
  } finally {
    r.close();
    push.close();
  }
});

test('nothing is delivered after close(), even from a batch already taken', async () => {
  const push = await pushSocket();
  const r = new NativeStreamReceiver({ address: push.lastEndpoint!, receiveTimeoutMs: 2000 });
  try {
    for (let i = 0; i < 10; i++) await push.send([Buffer.from(String(i))]);
    const first = await r.receive();
    assert.ok(first !== null);
    r.close();
    assert.equal(await r.receive(), null);
    assert.deepEqual(await r.receiveBatch(), []);
  } finally {
    r.close();
    push.close();
  }
});

/** A message of `bytes` bytes in two frames, every byte derived from `seed` (checkable later). */
function patterned(seed: number, bytes: number): Buffer[] {
  const a = Buffer.alloc(bytes);
  for (let k = 0; k < bytes; k += 4) a.writeUInt32LE((seed * 2654435761 + k) >>> 0, k);
  return [Buffer.from(`m${seed}`), a];
}

function intact(m: { data: Buffer; offsets: Uint32Array }, seed: number, bytes: number): boolean {
  const expected = Buffer.concat(patterned(seed, bytes));
  return m.offsets.length === 3 && m.data.equals(expected);
}

test('recycleSlabs: released blocks are refilled, held ones are never overwritten, bigger messages still arrive whole', async () => {
  const push = await pushSocket();
  const r = new NativeStreamReceiver({ address: push.lastEndpoint!, receiveTimeoutMs: 2000, recycleSlabs: 2, batch: 1 });
  const size = 200_000;
  try {
    // Message 0 is held (never released) while 20 more pass through the two slabs.
    await push.send(patterned(0, size));
    const held = (await r.receive())!;
    assert.ok(intact(held, 0, size));
    const blocks = new Set<ArrayBufferLike>();
    let recycled = 0;
    for (let s = 1; s <= 20; s++) {
      await push.send(patterned(s, size));
      const m = (await r.receive())!;
      assert.ok(intact(m, s, size), `message ${s}`);
      if (m.slot >= 0) {
        recycled++;
        blocks.add(m.data.buffer);
      }
      r.release(m);
      r.release(m); // a second release is a no-op
      assert.equal(m.slot, -1);
    }
    assert.ok(intact(held, 0, size), 'the held message kept its bytes');
    assert.ok(recycled >= 18, `${recycled} of 20 messages came in slabs`);
    assert.ok(blocks.size <= 2, `${blocks.size} distinct blocks for 2 slabs`);
    // A message bigger than any slab arrives whole, then smaller ones again.
    for (const [s, bytes] of [
      [21, 3 * size],
      [22, size],
      [23, 3 * size],
    ] as const) {
      await push.send(patterned(s, bytes));
      const m = (await r.receive())!;
      assert.ok(intact(m, s, bytes), `message ${s} of ${bytes} bytes`);
      r.release(m);
    }
    r.release(held);
  } finally {
    r.close();
    push.close();
  }
});

test('recycleSlabs: a message still held at close() keeps its bytes; releasing it afterwards is safe', async () => {
  const push = await pushSocket();
  const r = new NativeStreamReceiver({ address: push.lastEndpoint!, receiveTimeoutMs: 2000, recycleSlabs: 4, batch: 4 });
  const size = 150_000;
  for (let s = 0; s < 6; s++) await push.send(patterned(s, size));
  const first = (await r.receive())!;
  const second = (await r.receive())!;
  r.release(first);
  r.close();
  push.close();
  assert.ok(intact(second, 1, size));
  r.release(second);
  assert.ok(intact(second, 1, size), 'the view stays readable after its slab is dropped');
  assert.equal(await r.receive(), null);
});
