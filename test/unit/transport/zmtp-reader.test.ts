// The addon's own ZMTP reader (native/zmtp_reader.cc): against libzmq PUSH sockets (zeromq.js
// and the addon's sender) byte for byte the same as the libzmq reader, and against a hand-made
// peer (plain TCP, frames written byte by byte from ZMTP 3.0) for what libzmq never sends: cut
// messages, protocol errors, PING, long size fields for small frames.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import * as zmq from 'zeromq';
import { NativeStreamReceiver, NativeStreamSender, type NativeMessage } from '../../../src/transport/index.js';

function framesOf(m: NativeMessage): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i + 1 < m.offsets.length; i++) out.push(Buffer.from(m.data.subarray(m.offsets[i]!, m.offsets[i + 1]!)));
  return out;
}

/** A deterministic pseudo-random message: sizes around the 1-byte/8-byte size boundary, empty frames, big frames. */
function message(seed: number, frames: number): Buffer[] {
  let x = seed * 2654435761 + 1;
  const next = (): number => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x;
  };
  const sizes = [0, 1, 8, 16, 254, 255, 256, 257, 65535, 65536, 300_000];
  const out: Buffer[] = [];
  for (let f = 0; f < frames; f++) {
    const r = next();
    const n = r % 10 < 8 ? (r % 3) * 8 : sizes[r % sizes.length]!;
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i += 97) b[i] = (seed + f + i) & 255;
    out.push(b);
  }
  return out;
}

async function receiveAll(r: NativeStreamReceiver, n: number): Promise<Buffer[][]> {
  const got: Buffer[][] = [];
  while (got.length < n) {
    const m = await r.receive();
    if (m === null) break;
    got.push(framesOf(m));
  }
  return got;
}

test('zmtp and libzmq readers deliver the same bytes from a zeromq.js PUSH and from the addon sender', async () => {
  const sent = [message(1, 3), message(2, 20_002), message(3, 1), message(4, 400), [Buffer.alloc(0)], message(5, 2000)];
  for (const peer of ['zeromq.js', 'addon sender'] as const) {
    const results: Record<string, Buffer[][]> = {};
    for (const reader of ['zmtp', 'libzmq'] as const) {
      let send: (frames: Buffer[]) => Promise<unknown>;
      let endpoint: string;
      let close: () => void;
      if (peer === 'zeromq.js') {
        const s = new zmq.Push({ linger: 0, sendHighWaterMark: 1000 });
        await s.bind('tcp://127.0.0.1:0');
        endpoint = s.lastEndpoint!;
        send = (f) => s.send(f);
        close = () => s.close();
      } else {
        const s = await NativeStreamSender.bind({ address: 'tcp://127.0.0.1:0', mode: 'push' });
        endpoint = s.endpoint;
        send = (f) => s.send(f);
        close = () => s.close();
      }
      const r = new NativeStreamReceiver({ address: endpoint, reader, receiveTimeoutMs: 5000 });
      try {
        for (const m of sent) await send(m);
        results[reader] = await receiveAll(r, sent.length);
        if (reader === 'zmtp') assert.equal(r.stats().connections, 1);
      } finally {
        r.close();
        close();
      }
    }
    for (const reader of ['zmtp', 'libzmq']) {
      const got = results[reader]!;
      assert.equal(got.length, sent.length, `${reader} from ${peer}: messages`);
      for (let i = 0; i < sent.length; i++) {
        assert.equal(got[i]!.length, sent[i]!.length, `${reader} from ${peer}: frames of message ${i}`);
        for (let f = 0; f < sent[i]!.length; f++) assert.ok(got[i]![f]!.equals(sent[i]![f]!), `${reader} from ${peer}: message ${i} frame ${f}`);
      }
    }
  }
});

test('zmtp: a full queue holds the peer back and nothing is lost', async () => {
  const push = new zmq.Push({ linger: 0, sendHighWaterMark: 10 });
  await push.bind('tcp://127.0.0.1:0');
  const r = new NativeStreamReceiver({ address: push.lastEndpoint!, reader: 'zmtp', queueMessages: 2, receiveTimeoutMs: 5000 });
  try {
    const n = 300;
    const sending = (async () => {
      for (let i = 0; i < n; i++) await push.send([Buffer.from(`m${i}`), Buffer.alloc(20_000, i & 255)]);
    })();
    let got = 0;
    while (got < n) {
      const m = await r.receive();
      assert.ok(m !== null, `message ${got} arrived`);
      assert.equal(framesOf(m)[0]!.toString(), `m${got}`);
      if (got % 50 === 0) await new Promise((res) => setTimeout(res, 20));
      got++;
    }
    await sending;
    assert.ok(r.stats().waitsQueueFull > 0, 'the reader waited for room');
  } finally {
    r.close();
    push.close();
  }
});

test('zmtp with recycleSlabs: the queue stays as the consumer sized it, so every message after the first few comes in a slab', async () => {
  const push = new zmq.Push({ linger: 0, sendHighWaterMark: 1000 });
  await push.bind('tcp://127.0.0.1:0');
  // The writer's shape: a few queued messages, slabs for all it may hold; the HWM (100) must not
  // add queue room the slabs do not cover.
  const r = new NativeStreamReceiver({ address: push.lastEndpoint!, reader: 'zmtp', recycleSlabs: 8, queueMessages: 4, batch: 2, highWaterMark: 100, receiveTimeoutMs: 5000 });
  try {
    const n = 60;
    for (let i = 0; i < n; i++) await push.send([Buffer.from(`m${i}`), Buffer.alloc(100_000, i & 255)]);
    await new Promise((res) => setTimeout(res, 300)); // let the reader fill its queue
    let outsideSlabs = 0;
    for (let i = 0; i < n; i++) {
      const m = await r.receiveNext();
      assert.ok(m !== null, `message ${i}`);
      assert.equal(framesOf(m)[0]!.toString(), `m${i}`);
      if (i >= 10 && m.slot < 0) outsideSlabs++;
    }
    assert.equal(outsideSlabs, 0, 'messages delivered outside the slabs after the first 10');
    assert.ok((r.stats().slabs ?? 0) <= 8);
  } finally {
    r.close();
    push.close();
  }
});

test('zmtp: connects once the peer binds, and again after the peer restarts on the same port', async () => {
  const probe = new zmq.Push({ linger: 0 });
  await probe.bind('tcp://127.0.0.1:0');
  const endpoint = probe.lastEndpoint!;
  probe.close();
  await new Promise((res) => setTimeout(res, 50));
  const r = new NativeStreamReceiver({ address: endpoint, reader: 'zmtp', receiveTimeoutMs: 5000 });
  try {
    for (let run = 0; run < 2; run++) {
      const push = new zmq.Push({ linger: 1000 });
      await push.bind(endpoint);
      await push.send([Buffer.from(`run ${run}`)]);
      const m = await r.receive();
      assert.ok(m !== null, `message of run ${run}`);
      assert.equal(framesOf(m)[0]!.toString(), `run ${run}`);
      push.close();
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal(r.stats().connections, 2);
    assert.equal(r.stats().protocolErrors, 0);
  } finally {
    r.close();
  }
});

// ---- a hand-made ZMTP 3.0 peer --------------------------------------------------------------

const GREETING = Buffer.concat([Buffer.from([0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 3, 0]), Buffer.from('NULL'), Buffer.alloc(16 + 1 + 31)]);

function command(name: string, data: Buffer = Buffer.alloc(0)): Buffer {
  const body = Buffer.concat([Buffer.from([name.length]), Buffer.from(name), data]);
  return Buffer.concat([Buffer.from([0x04, body.length]), body]);
}

function ready(socketType: string): Buffer {
  const value = Buffer.alloc(4);
  value.writeUInt32BE(socketType.length);
  return command('READY', Buffer.concat([Buffer.from([11]), Buffer.from('Socket-Type'), value, Buffer.from(socketType)]));
}

/** One message frame; `long` forces the 8-byte size field even for a small body. */
function frame(body: Buffer, more: boolean, long = body.length > 255): Buffer {
  const head = long ? Buffer.alloc(9) : Buffer.alloc(2);
  head[0] = (more ? 1 : 0) | (long ? 2 : 0);
  if (long) head.writeBigUInt64BE(BigInt(body.length), 1);
  else head[1] = body.length;
  return Buffer.concat([head, body]);
}

/**
 * A TCP server that plays one script per connection: each script gets the socket and what the
 * reader sent so far (its greeting and READY are checked by the tests that need them).
 */
async function handMadePeer(scripts: ((s: Socket, received: () => Buffer) => Promise<void> | void)[]): Promise<{ server: Server; address: string; done: Promise<void> }> {
  let n = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((res) => (resolveDone = res));
  const server = createServer((s) => {
    const script = scripts[n++];
    if (script === undefined) {
      s.destroy();
      return;
    }
    let got: Buffer = Buffer.alloc(0);
    s.on('data', (d: Buffer) => (got = Buffer.concat([got, d])));
    s.on('error', () => {});
    void Promise.resolve(script(s, () => got)).then(() => {
      if (n >= scripts.length) resolveDone();
    });
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  return { server, address: `tcp://127.0.0.1:${(server.address() as AddressInfo).port}`, done };
}

async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 10));
  }
}

test('zmtp: greets as ZMTP 3.0 NULL and says PULL; a message cut by a disconnect is dropped whole, the next connection goes on', async () => {
  let readerHello: Buffer = Buffer.alloc(0);
  const peer = await handMadePeer([
    async (s, received) => {
      s.write(GREETING);
      s.write(ready('PUSH'));
      await until('the reader greeting and READY', () => received().length >= 64 + 28);
      readerHello = received();
      // one whole message (a small frame with an 8-byte size field), then half of another
      s.write(Buffer.concat([frame(Buffer.from('one'), true), frame(Buffer.from('two'), false, true)]));
      s.write(Buffer.concat([frame(Buffer.from('cut'), true), frame(Buffer.alloc(1000, 7), true).subarray(0, 500)]));
      await new Promise((res) => setTimeout(res, 50));
      s.destroy();
    },
    (s) => {
      s.write(Buffer.concat([GREETING, ready('PUSH'), frame(Buffer.from('after'), true), frame(Buffer.alloc(70_000, 3), false)]));
    },
  ]);
  const r = new NativeStreamReceiver({ address: peer.address, reader: 'zmtp', receiveTimeoutMs: 5000 });
  try {
    const first = await r.receive();
    assert.deepEqual(first === null ? null : framesOf(first).map((b) => b.toString()), ['one', 'two']);
    const second = await r.receive();
    assert.ok(second !== null);
    const f = framesOf(second);
    assert.equal(f[0]!.toString(), 'after', 'the cut message is not delivered');
    assert.ok(f[1]!.equals(Buffer.alloc(70_000, 3)));
    assert.equal(r.stats().connections, 2);
    assert.equal(r.stats().protocolErrors, 0);
    // The reader's greeting: signature, version 3.0, NULL, not as-server; then READY Socket-Type PULL.
    assert.deepEqual([...readerHello.subarray(0, 12)], [0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 3, 0]);
    assert.equal(readerHello.subarray(12, 16).toString(), 'NULL');
    assert.equal(readerHello[32], 0);
    assert.ok(readerHello.subarray(64).equals(ready('PULL')));
  } finally {
    r.close();
    peer.server.close();
  }
});

test('zmtp: PING is answered with PONG and its context, also between the frames of a message; other commands are ignored', async () => {
  let pong: Buffer | null = null;
  const peer = await handMadePeer([
    async (s, received) => {
      // READY with an 8-byte size field (as for more than 255 bytes of metadata)
      const r = ready('PUSH').subarray(2);
      const longReady = Buffer.concat([Buffer.from([0x06, 0, 0, 0, 0, 0, 0, 0, r.length]), r]);
      s.write(Buffer.concat([GREETING, longReady]));
      await until('the reader READY', () => received().length >= 64 + 28);
      // a PING between the frames of a message
      s.write(frame(Buffer.from('still'), true));
      s.write(command('PING', Buffer.from([0, 10, 0xca, 0xfe])));
      s.write(command('SOMETHING'));
      await until('PONG', () => received().length >= 64 + 28 + 9);
      pong = received().subarray(64 + 28);
      s.write(frame(Buffer.from('here'), false));
    },
  ]);
  const r = new NativeStreamReceiver({ address: peer.address, reader: 'zmtp', receiveTimeoutMs: 5000 });
  try {
    const m = await r.receive();
    assert.deepEqual(m === null ? null : framesOf(m).map((b) => b.toString()), ['still', 'here']);
    assert.ok(pong !== null);
    assert.ok((pong as Buffer).equals(command('PONG', Buffer.from([0xca, 0xfe]))));
  } finally {
    r.close();
    peer.server.close();
  }
});

test('zmtp: peers that break the protocol are disconnected and counted with a reason; the receiver keeps running', async () => {
  const zmtp2 = Buffer.from([0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 1, 8]);
  const cases: [string, Buffer, RegExp][] = [
    ['not ZeroMQ', Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'.repeat(4)), /does not speak ZMTP/],
    ['ZMTP 2.0', zmtp2, /revision 1 .*libzmq/],
    ['PUB socket', Buffer.concat([GREETING, ready('PUB')]), /PUB socket; a PULL input needs PUSH/],
    ['CURVE', Buffer.concat([GREETING.subarray(0, 12), Buffer.from('CURVE'), Buffer.alloc(64 - 17)]), /security mechanism CURVE/],
    ['no READY', Buffer.concat([GREETING, frame(Buffer.from('data first'), false)]), /no READY/],
    ['ERROR', Buffer.concat([GREETING, command('ERROR', Buffer.concat([Buffer.from([6]), Buffer.from('go away')]))]), /refused the connection: go awa/],
  ];
  for (const [what, bytes, reason] of cases) {
    const peer = await handMadePeer([
      (s) => {
        s.write(bytes);
      },
    ]);
    const r = new NativeStreamReceiver({ address: peer.address, reader: 'zmtp', receiveTimeoutMs: 100 });
    try {
      await until(`${what}: the protocol error`, () => (r.stats().protocolErrors ?? 0) >= 1);
      assert.match(r.stats().lastProtocolError ?? '', reason, what);
      assert.equal(r.stats().connections, 0, what);
      assert.equal(await r.receive(), null, what);
    } finally {
      r.close();
      peer.server.close();
    }
  }
});

test('zmtp: a peer that accepts the connection but never greets is given up after the handshake timeout, and tried again', async () => {
  const peer = await handMadePeer([() => {}, () => {}, () => {}, () => {}, () => {}]);
  const r = new NativeStreamReceiver({ address: peer.address, reader: 'zmtp', zmtpHandshakeTimeoutMs: 150, receiveTimeoutMs: 100 });
  try {
    await until('two handshake timeouts', () => (r.stats().protocolErrors ?? 0) >= 2);
    assert.match(r.stats().lastProtocolError ?? '', /no ZMTP handshake within 150 ms/);
    assert.equal(r.stats().connections, 0);
  } finally {
    r.close();
    peer.server.close();
  }
});

test('zmtp: close() returns promptly while connecting, during a silent handshake and while waiting for data', async () => {
  // nothing listens (a port that was just free)
  const probe = createServer();
  await new Promise<void>((res) => probe.listen(0, '127.0.0.1', res));
  const freePort = (probe.address() as AddressInfo).port;
  await new Promise((res) => probe.close(res));
  const silent = await handMadePeer([() => {}]);
  const idle = await handMadePeer([(s) => void s.write(Buffer.concat([GREETING, ready('PUSH')]))]);
  try {
    for (const address of [`tcp://127.0.0.1:${freePort}`, silent.address, idle.address]) {
      const r = new NativeStreamReceiver({ address, reader: 'zmtp', receiveTimeoutMs: 10_000 });
      await new Promise((res) => setTimeout(res, 150));
      const pending = r.receive();
      const t0 = Date.now();
      r.close();
      assert.equal(await pending, null);
      assert.ok(Date.now() - t0 < 1000, `close() of a reader of ${address} took ${Date.now() - t0} ms`);
    }
  } finally {
    silent.server.close();
    idle.server.close();
  }
});

test('zmtp: addresses and modes it cannot read are refused with a clear message', () => {
  assert.throws(() => new NativeStreamReceiver({ address: 'tcp://127.0.0.1:5', mode: 'sub', reader: 'zmtp' }), /pull mode only/);
  assert.throws(() => new NativeStreamReceiver({ address: 'tcp://*:5', reader: 'zmtp' }), /name the host/);
});
