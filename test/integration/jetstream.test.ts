// The recent past in NATS JetStream, with real processes: nats-server (Debian's), the buffer
// publishing into a stream, the writer reading nats://…/NAME. Files read back with h5py.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { encodeMessage, prepareDataHeader, resolveChannelDef } from '../../src/bsread/index.js';
import { NatsServer } from '../../src/demo/nats-server.js';
import { PART_HEADROOM_BYTES, publishParts } from '../../src/jetstream/index.js';
import { packFrames } from '../../src/transport/index.js';
import { h5py } from '../helpers/h5py.js';
import { freePort } from '../helpers/net.js';
import { runProgram, stopAllPrograms } from '../helpers/process.js';
import type { StreamSender } from '../helpers/stream-sender.js';
import { waitFor } from '../helpers/wait.js';
import { bufferStatus, startBuffer } from '../unit/buffer/helpers.js';
import { nowStamp, PARAMETERS, range, sender, startWriter } from './writer-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'jetstream-'));
const senders: StreamSender[] = [];
let nats: NatsServer;

before(async () => {
  nats = await NatsServer.start({ storeDir: join(dir, 'store') });
});
after(async () => {
  for (const s of senders) s.close();
  await stopAllPrograms();
  await nats?.stop('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

// 1024×768 uint16 = 1.5 MB: more than the server's default max_payload (1 MB), so stored in parts.
const WIDTH = 1024;
const HEIGHT = 768;
const DEFS = [
  resolveChannelDef({ name: 'SCALAR', type: 'float64', shape: [1] }),
  resolveChannelDef({ name: 'TEXT', type: 'string', shape: [1] }),
  resolveChannelDef({ name: 'CAM', type: 'uint16', shape: [WIDTH, HEIGHT] }),
];
const header = prepareDataHeader(DEFS);

/** Pulse p: SCALAR = p * 1.5, TEXT = "p<p>", CAM every fifth pulse with pixel k = (7p + k) mod 65536. */
function message(p: number, ts = { sec: 1_700_000_000 + Math.floor(p / 100), ns: (p % 100) * 10_000_000 }): Buffer[] {
  let cam: Uint16Array | null = null;
  if (p % 5 === 0) {
    cam = new Uint16Array(WIDTH * HEIGHT);
    for (let k = 0; k < cam.length; k++) cam[k] = (7 * p + k) & 0xffff;
  }
  return encodeMessage({
    pulseId: p,
    globalTimestamp: ts,
    header,
    channels: [
      { def: DEFS[0]!, value: p * 1.5 },
      { def: DEFS[1]!, value: `p${p}` },
      { def: DEFS[2]!, value: cam },
    ],
  });
}

interface Js {
  published: number;
  duplicates: number;
  pending_acks: number;
  last_published_pulse_id: number | null;
  connected: boolean;
  given_up: number;
  first_pulse_id: number | null;
  last_pulse_id: number | null;
}

async function jetstream(statusPort: number): Promise<Js> {
  return ((await bufferStatus(statusPort)) as unknown as { jetstream: Js }).jetstream;
}

async function bufferArgs(source: string, stream: string): Promise<{ args: string[]; statusPort: number }> {
  const statusPort = await freePort();
  const out = await freePort();
  return {
    statusPort,
    args: [
      source,
      '-o',
      String(out),
      '--replay_port',
      String(await freePort()),
      '--status_port',
      String(statusPort),
      '-b',
      '1000',
      '--jetstream',
      nats.url,
      '--jetstream_stream',
      stream,
    ],
  };
}

async function sendAll(s: StreamSender, pulses: number[], make: (p: number) => Buffer[] = message): Promise<void> {
  for (const p of pulses) await s.send(make(p));
}

const READ = `
f = h5py.File(path, "r")
pid = f["/data/SCALAR/pulse_id"][:]
cam_present = f["/data/CAM/is_data_present"][:]
cam = f["/data/CAM/data"]
bad = []
k = np.arange(${WIDTH * HEIGHT}, dtype=np.int64)
for i, p in enumerate(f["/data/CAM/pulse_id"][:]):
    if cam_present[i]:
        if not np.array_equal(cam[i].ravel().astype(np.int64), (7 * int(p) + k) % 65536): bad.append(int(p))
result = {
  "pulse_id": pid,
  "scalar": f["/data/SCALAR/data"][:, 0],
  "text": [s.decode() if isinstance(s, bytes) else s for s in f["/data/TEXT/data"][:]],
  "cam_pulse_id": f["/data/CAM/pulse_id"][:],
  "cam_present": cam_present,
  "cam_bad": bad,
  "attrs": {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in f.attrs.items()},
}
`;

const READ_SCALARS = `
f = h5py.File(path, "r")
result = {"pulse_id": f["/data/SCALAR/pulse_id"][:], "attrs": {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in f.attrs.items()}}
`;

interface Content {
  pulse_id: number[];
  scalar: number[];
  text: string[];
  cam_pulse_id: number[];
  cam_present: number[];
  cam_bad: number[];
  attrs: Record<string, unknown>;
}

test('pulses survive a buffer SIGKILL and nats-server restarts; the file holds exactly the range with every value', async () => {
  const src = await sender();
  senders.push(src);
  const { args, statusPort } = await bufferArgs(src.endpoint, 'DURABLE');
  const buffer = await startBuffer(args);
  await sendAll(src, range(1, 200));
  await waitFor(
    'the buffer to publish pulses 1..200',
    async () => {
      const j = await jetstream(statusPort);
      return j.last_published_pulse_id === 200 && j.pending_acks === 0;
    },
    60_000,
  );
  const before = await jetstream(statusPort);
  assert.equal(before.published, 200);
  assert.equal(before.given_up, 0);
  const metrics = await (await fetch(`http://127.0.0.1:${statusPort}/metrics`)).text();
  assert.match(metrics, /^bsread_jetstream_published_total\{stream="DURABLE"\} 200$/m);
  assert.match(metrics, /^bsread_jetstream_connected\{stream="DURABLE"\} 1$/m);

  await buffer.stop('SIGKILL');
  await nats.restart();

  const file = join(dir, 'durable.h5');
  const writer = await startWriter(`${nats.url}/DURABLE`, file);
  assert.equal((await writer.call('POST', '/parameters', JSON.stringify(PARAMETERS))).state, 'ok');
  assert.equal((await writer.call('PUT', '/stop_pulse_id/400')).state, 'ok');
  assert.equal((await writer.call('PUT', '/start_pulse_id/101')).state, 'ok');

  const buffer2 = await startBuffer(args);
  await sendAll(src, range(201, 300));
  // The server goes away while both are running: the buffer republishes from its memory, the
  // writer reads on after the last message it took.
  await waitFor(
    'the writer to pass pulse 250',
    async () => ((await writer.call('GET', '/statistics')) as unknown as { statistics: { last_pulse_id: number } }).statistics.last_pulse_id >= 250,
    60_000,
  );
  await nats.restart();
  await sendAll(src, range(301, 420));
  const code = await Promise.race([writer.proc.exited, new Promise((r) => setTimeout(() => r('timeout'), 90_000))]);
  assert.equal(code, 0, writer.proc.stderr().slice(-3000));
  const after2 = await jetstream(statusPort);
  assert.equal(after2.given_up, 0);
  await buffer2.stop();

  const c = await h5py<Content>(file, READ);
  const want = range(101, 400);
  assert.deepEqual(c.pulse_id, want);
  assert.deepEqual(
    c.scalar,
    want.map((p) => p * 1.5),
  );
  assert.deepEqual(
    c.text,
    want.map((p) => `p${p}`),
  );
  assert.deepEqual(c.cam_pulse_id, want);
  assert.deepEqual(
    c.cam_present,
    want.map((p) => (p % 5 === 0 ? 1 : 0)),
  );
  assert.deepEqual(c.cam_bad, []);
  assert.equal(c.attrs.rows_written, 300);
  assert.equal(c.attrs.missing_pulse_ids, 0);
  assert.equal(c.attrs.replay_gap, 0);
});

test('a start older than the stream reports the gap; start_now writes live data only', async () => {
  const src = await sender();
  senders.push(src);
  const { args, statusPort } = await bufferArgs(src.endpoint, 'LIVE');
  const buffer = await startBuffer(args);
  const small = (p: number, ts?: { sec: number; ns: number }): Buffer[] => message(p * 5 + 1, ts); // never a camera
  await sendAll(src, range(1000, 1049), (p) => small(p));
  await waitFor('the stream to hold them', async () => (await jetstream(statusPort)).last_published_pulse_id === 1049 * 5 + 1, 30_000);

  // The stream's first pulse is 5001; asking from 4991 leaves a gap of 10.
  const gapFile = join(dir, 'gap.h5');
  const w1 = await startWriter(`${nats.url}/LIVE`, gapFile);
  await w1.call('POST', '/parameters', JSON.stringify(PARAMETERS));
  await w1.call('PUT', `/stop_pulse_id/${1010 * 5 + 1}`);
  assert.equal((await w1.call('PUT', '/start_pulse_id/4991')).state, 'ok');
  assert.equal(await w1.proc.exited, 0, w1.proc.stderr().slice(-2000));
  const g = await h5py<Content>(gapFile, READ_SCALARS);
  assert.deepEqual(
    g.pulse_id,
    range(1000, 1010).map((p) => p * 5 + 1),
  );
  assert.equal(g.attrs.replay_gap, 10);

  // start_now: the stored past has old timestamps; only what comes after the start is written.
  const liveFile = join(dir, 'live.h5');
  const w2 = await startWriter(`${nats.url}/LIVE`, liveFile);
  await w2.call('POST', '/parameters', JSON.stringify(PARAMETERS));
  assert.equal((await w2.call('PUT', '/start_now')).state, 'ok');
  await new Promise((r) => setTimeout(r, 200));
  for (const p of range(2000, 2029)) {
    await src.send(small(p, nowStamp()));
    await new Promise((r) => setTimeout(r, 10));
  }
  await waitFor('live pulses published', async () => (await jetstream(statusPort)).last_published_pulse_id === 2029 * 5 + 1, 30_000);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal((await w2.call('PUT', '/stop_now')).state, 'ok');
  assert.equal(await w2.proc.exited, 0, w2.proc.stderr().slice(-2000));
  const l = await h5py<Content>(liveFile, READ_SCALARS);
  assert.deepEqual(
    l.pulse_id,
    range(2000, 2029).map((p) => p * 5 + 1),
  );
  await buffer.stop();
});

test('a stream the buffer cannot use is a clear error at start', async () => {
  const src = await sender();
  senders.push(src);
  // Replicas 3 on a single server.
  const { args } = await bufferArgs(src.endpoint, 'R3');
  const r = await runProgram('sf_bsread_buffer', [...args, '--replicas', '3'], 30_000);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /cannot create JetStream stream R3 \(replicas 3/);
  // A server that is not there: the buffer starts and says so in /status (it keeps trying).
  const { args: a2, statusPort } = await bufferArgs(src.endpoint, 'AWAY');
  const deadPort = await freePort();
  const away = a2.map((x) => (x === nats.url ? `nats://127.0.0.1:${deadPort}` : x));
  const b = await startBuffer(away);
  const j = await waitFor('the status port', async () => await jetstream(statusPort).catch(() => null), 10_000);
  assert.equal(j.connected, false);
  assert.equal(j.published, 0);
  await b.stop();
  // Bad arguments are usage errors.
  const u = await runProgram('sf_bsread_buffer', [src.endpoint, '--jetstream', nats.url], 30_000);
  assert.equal(u.code, 2);
  assert.match(u.stderr, /--jetstream and --jetstream_stream go together/);
  const w = await runProgram('sf_bsread_writer', [`${nats.url}/no.dots`, join(dir, 'x.h5'), '-1', String(await freePort())], 30_000);
  assert.equal(w.code, 2, w.stderr);
  assert.match(w.stderr, /stream name "no.dots" is not usable/);
});

test('while the server is away the buffer keeps intake; what its ring still holds is published when it is back, the rest counted', async () => {
  const own = await NatsServer.start({ storeDir: join(dir, 'store-away') });
  try {
    const src = await sender();
    senders.push(src);
    const statusPort = await freePort();
    const b = await startBuffer([
      src.endpoint,
      '-o',
      String(await freePort()),
      '--replay_port',
      String(await freePort()),
      '--status_port',
      String(statusPort),
      '-b',
      '100',
      '--jetstream',
      own.url,
      '--jetstream_stream',
      'AWAY',
    ]);
    const small = (p: number): Buffer[] => message(p * 5 + 1);
    await sendAll(src, range(1, 50), small);
    await waitFor('50 published', async () => (await jetstream(statusPort)).published === 50, 30_000);
    await own.stop();
    await waitFor('the buffer to notice', async () => !(await jetstream(statusPort)).connected, 30_000);
    await sendAll(src, range(51, 350), small); // 300 messages, the ring keeps the last 100
    await waitFor('intake of all', async () => (await bufferStatus(statusPort)).input.received === 350, 30_000);
    await own.restart();
    const j = await waitFor(
      'the ring to be published',
      async () => {
        const x = await jetstream(statusPort);
        return x.last_published_pulse_id === 350 * 5 + 1 && x.pending_acks === 0 ? x : null;
      },
      60_000,
    );
    assert.equal(j.given_up, 200);
    assert.equal(j.published, 150);
    const w = await waitFor(
      'the stream extent',
      async () => {
        const x = await jetstream(statusPort);
        return x.first_pulse_id !== null && x.last_pulse_id === 350 * 5 + 1 ? x : null;
      },
      10_000,
    );
    assert.equal(w.first_pulse_id, 1 * 5 + 1);
    await b.stop();
  } finally {
    await own.stop('SIGKILL', { removeStore: true });
  }
});

test('a writer whose NATS server is not there refuses the start with a clear error and keeps running', async () => {
  const file = join(dir, 'never.h5');
  const w = await startWriter(`nats://127.0.0.1:${await freePort()}/NOWHERE`, file);
  const r = await w.call('PUT', '/start_pulse_id/1');
  assert.equal(r.state, 'error');
  assert.match(r.status, /cannot reach a NATS server at 127\.0\.0\.1:\d+/);
  assert.equal((await w.call('GET', '/status')).state, 'ok', 'the writer still answers');
  assert.equal(w.proc.child.exitCode, null);
  // The stream missing on a running server is just as clear.
  const w2 = await startWriter(`${nats.url}/MISSING`, join(dir, 'missing.h5'));
  const r2 = await w2.call('PUT', '/start_pulse_id/1');
  assert.equal(r2.state, 'error');
  assert.match(r2.status, /JetStream stream MISSING does not exist/);
  await w.proc.stop();
  await w2.proc.stop();
});

test('two buffers publishing the same pulses into one stream store each pulse once (message id from the pulse id)', async () => {
  const a = await sender();
  const b = await sender();
  senders.push(a, b);
  const sa = await bufferArgs(a.endpoint, 'TWICE');
  const sb = await bufferArgs(b.endpoint, 'TWICE');
  const ba = await startBuffer(sa.args);
  const bb = await startBuffer(sb.args);
  // Camera pulses (every fifth) are split into parts: those are deduplicated part by part.
  await sendAll(a, range(1, 40));
  await waitFor('buffer A to publish 40', async () => (await jetstream(sa.statusPort)).last_published_pulse_id === 40, 30_000);
  await sendAll(b, range(1, 40));
  const jb = await waitFor(
    'buffer B to publish 40',
    async () => {
      const x = await jetstream(sb.statusPort);
      return x.last_published_pulse_id === 40 && x.pending_acks === 0 ? x : null;
    },
    30_000,
  );
  assert.equal(jb.duplicates, 40);
  assert.equal(jb.published, 0);
  const st = await waitFor(
    'the stream extent',
    async () => {
      const x = (await bufferStatus(sb.statusPort)) as unknown as { jetstream: { stream_messages: number | null; last_pulse_id: number | null } };
      return x.jetstream.last_pulse_id === 40 ? x.jetstream : null;
    },
    10_000,
  );
  // Camera pulses are stored in parts (the server's default max_payload is 1 MiB).
  const stored = range(1, 40).reduce((n, p) => n + publishParts(packFrames(message(p)), 1024 * 1024 - PART_HEADROOM_BYTES).length, 0);
  assert.ok(stored > 40);
  assert.equal(st.stream_messages, stored);
  await Promise.all([ba.stop(), bb.stop()]);
});
