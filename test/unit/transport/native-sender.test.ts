// The addon's libzmq sender (NativeStreamSender) against a zeromq.js PULL peer.
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as zmq from 'zeromq';
import { BsreadError } from '../../../src/errors.js';
import { encodeMessage } from '../../../src/bsread/index.js';
import { packFrames } from '../../../src/transport/index.js';
import { NativeStreamSender } from '../../../src/transport/native-sender.js';

function pull(endpoint: string): zmq.Pull {
  const p = new zmq.Pull({ linger: 0, receiveTimeout: 2000 });
  p.connect(endpoint);
  return p;
}

const message = (p: number): Buffer[] =>
  encodeMessage({
    pulseId: p,
    globalTimestamp: { sec: 1, ns: p },
    channels: [
      { def: { name: 'A', type: 'float64' }, value: p + 0.5 },
      { def: { name: 'S', type: 'string' }, value: '' },
    ],
  });

test('frames and packed messages arrive byte-identical and in order, empty frames included', async () => {
  const s = await NativeStreamSender.bind({ address: 'tcp://127.0.0.1:0', highWaterMark: 100 });
  assert.match(s.endpoint, /^tcp:\/\/127\.0\.0\.1:\d+$/);
  const r = pull(s.endpoint);
  try {
    const sent: Buffer[][] = [];
    for (let p = 1; p <= 4; p++) {
      const frames = message(p);
      sent.push(frames);
      if (p % 2 === 0) {
        const packed = packFrames(frames);
        assert.equal(await s.sendPacked(packed.data, packed.offsets), true);
      } else {
        assert.equal(await s.send(frames), true);
      }
    }
    for (const want of sent) {
      const got = await r.receive();
      assert.equal(got.length, want.length);
      for (let i = 0; i < want.length; i++) assert.equal(Buffer.compare(got[i]!, want[i]!), 0, `frame ${i}`);
    }
  } finally {
    s.close();
    r.close();
  }
});

test('with no peer, dropWhenFull drops and counts; otherwise send waits until a peer connects', async () => {
  const s = await NativeStreamSender.bind({ address: 'tcp://127.0.0.1:0', dropWhenFull: true });
  assert.equal(await s.send([Buffer.from('x')]), false);
  assert.equal(s.dropped, 1);
  s.close();

  const w = await NativeStreamSender.bind({ address: 'tcp://127.0.0.1:0' });
  let done = false;
  const sending = w.send([Buffer.from('late')]).then((ok) => {
    done = true;
    return ok;
  });
  await new Promise((res) => setTimeout(res, 50));
  assert.equal(done, false, 'PUSH without a peer must not send');
  const r = pull(w.endpoint);
  try {
    assert.equal(await sending, true);
    assert.equal((await r.receive())[0]!.toString(), 'late');
  } finally {
    w.close();
    r.close();
  }
});

test('close() is idempotent and ends a waiting send with false', async () => {
  const s = await NativeStreamSender.bind({ address: 'tcp://127.0.0.1:0' });
  const pending = s.send([Buffer.from('never')]);
  s.close();
  s.close();
  assert.equal(await pending, false);
  assert.equal(await s.send([Buffer.from('after')]), false);
});

test('bad offsets, bad frames and a bad address are refused with a clear error', async () => {
  const s = await NativeStreamSender.bind({ address: 'tcp://127.0.0.1:0', dropWhenFull: true });
  try {
    await assert.rejects(s.sendPacked(Buffer.from('abc'), Uint32Array.of(0, 9)), /past the end/);
    await assert.rejects(s.sendPacked(Buffer.from('abc'), Uint32Array.of(2, 1, 3)), /must not decrease/);
    await assert.rejects(s.sendPacked(Buffer.from('abc'), Uint32Array.of(0)), /at least 2/);
    // Wrong element types are refused, not read past their end.
    await assert.rejects(s.sendPacked(Buffer.from('abc'), Uint16Array.of(0, 1, 3) as unknown as Uint32Array), /Uint32Array/);
    await assert.rejects(s.sendPacked(new Uint16Array(4) as unknown as Uint8Array, Uint32Array.of(0, 2)), /Uint8Array/);
    await assert.rejects(s.send([]), /at least one frame/);
    await assert.rejects(s.send(['x' as unknown as Uint8Array]), /not a Uint8Array/);
  } finally {
    s.close();
  }
  const first = await NativeStreamSender.bind({ address: 'tcp://127.0.0.1:0' });
  try {
    await assert.rejects(NativeStreamSender.bind({ address: first.endpoint }), (e: unknown) => e instanceof BsreadError && /cannot bind/.test(e.message));
  } finally {
    first.close();
  }
  await assert.rejects(NativeStreamSender.bind({ address: 'tcp://host' }), BsreadError);
});

test('process.exit() right after closing a lingering sender exits cleanly (no abort at teardown)', () => {
  const url = new URL('../../../src/transport/native-sender.js', import.meta.url).href;
  const script = `
import { NativeStreamSender } from ${JSON.stringify(url)};
const s = await NativeStreamSender.bind({ address: 'tcp://127.0.0.1:0', linger: 5000 });
const pending = s.send([Buffer.from('queued, never delivered')]);
s.close();
await pending;
process.exit(0);`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, `exit ${r.status} signal ${r.signal}: ${r.stderr}`);
});
