// sf_bsread_writer behind our sf_bsread_buffer: the writer finds the replay service next to the
// buffer's output address and writes ranges that started before the writer was even asked.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { encodeMessage, type EncodeChannel } from '../../src/bsread/index.js';
import type { StreamSender } from '../helpers/stream-sender.js';
import { h5py } from '../helpers/h5py.js';
import { freePort } from '../helpers/net.js';
import { stopAllPrograms } from '../helpers/process.js';
import { waitFor } from '../helpers/wait.js';
import { bufferStatus, startBuffer } from '../unit/buffer/helpers.js';
import { PARAMETERS, range, READ_FILE, sender, startWriter, testMessage, type FileContent } from './writer-helpers.js';

const senders: StreamSender[] = [];
const dir = mkdtempSync(join(tmpdir(), 'writer-buffer-'));
after(async () => {
  for (const s of senders) s.close();
  await stopAllPrograms();
  rmSync(dir, { recursive: true, force: true });
});

async function bufferWith(send: (s: StreamSender) => Promise<void>, expectDepth: number): Promise<{ src: StreamSender; out: number; status: number }> {
  const src = await sender();
  senders.push(src);
  const out = await freePort();
  const status = await freePort();
  await startBuffer([src.endpoint, '-o', String(out), '-b', '1000', '--status_port', String(status)]);
  await send(src);
  await waitFor(`${expectDepth} messages buffered`, async () => (await bufferStatus(status)).buffer.depth >= expectDepth, 15_000);
  return { src, out, status };
}

test('start_pulse_id in the past (within the buffer): replayed from exactly there, then live, to the stop', async () => {
  const { src, out } = await bufferWith(async (s) => {
    for (let p = 1000; p < 1100; p++) await s.send(testMessage(p));
  }, 100);
  const path = join(dir, 'past.h5');
  const w = await startWriter(`tcp://127.0.0.1:${out}`, path);
  await w.call('POST', '/parameters', JSON.stringify(PARAMETERS));
  const r = await w.call('PUT', '/start_pulse_id/1020');
  assert.equal(r.state, 'ok', r.status);
  assert.equal(((await w.call('GET', '/statistics'))['statistics'] as { source: string }).source, 'replay');
  assert.equal((await w.call('PUT', '/stop_pulse_id/1150')).state, 'ok');
  for (let p = 1100; p <= 1160; p++) await src.send(testMessage(p));
  assert.equal(await w.proc.exited, 0, w.proc.stderr());
  const f = await h5py<FileContent>(path, READ_FILE);
  assert.deepEqual(f.pulse_id, range(1020, 1150), 'no gap or duplicate at the seam between buffered and live');
  assert.deepEqual(
    f.scalar,
    range(1020, 1150).map((p) => p * 1.5),
  );
  assert.equal(f.attrs['missing_pulse_ids'], 0);
  assert.equal(f.attrs['replay_gap'], 0);
});

test('a start older than the buffer: the gap is reported as missing pulse ids', async () => {
  const { out } = await bufferWith(async (s) => {
    for (let p = 5000; p < 5050; p++) await s.send(testMessage(p));
  }, 50);
  const w = await startWriter(`tcp://127.0.0.1:${out}`, '/dev/null');
  await w.call('PUT', '/stop_pulse_id/5049');
  await w.call('PUT', '/start_pulse_id/4990');
  assert.equal(await w.proc.exited, 0, w.proc.stderr());
  assert.match(w.proc.stderr(), /"rowsWritten":50,"missingPulseIds":10/);
  assert.match(w.proc.stderr(), /"replay_gap":10/);
});

test("the seed's integration test through the buffer: a channel missing, then values, then a changed shape; start 0 stop 29 → 30 rows, data(1) 10 rows", async () => {
  const m = (p: number): Buffer[] => {
    const shape: EncodeChannel =
      p < 10 ? { def: { name: 'SHAPE', type: 'float64', shape: [1] }, value: p } : { def: { name: 'SHAPE', type: 'float64', shape: [3] }, value: new Float64Array([p, p, p]) };
    const sometimes: EncodeChannel =
      p < 10
        ? { def: { name: 'SOMETIMES', type: 'int64', shape: [1] }, value: null }
        : p < 20
          ? { def: { name: 'SOMETIMES', type: 'int64', shape: [1] }, value: BigInt(p) }
          : { def: { name: 'SOMETIMES', type: 'int64', shape: [2] }, value: new BigInt64Array([BigInt(p), BigInt(-p)]) };
    return encodeMessage({ pulseId: p, globalTimestamp: { sec: 1_700_000_000, ns: p * 10_000_000 }, channels: [shape, sometimes] });
  };
  const { out } = await bufferWith(async (s) => {
    for (let p = 0; p <= 30; p++) await s.send(m(p));
  }, 31);
  const path = join(dir, 'seed-integration.h5');
  const w = await startWriter(`tcp://127.0.0.1:${out}`, path);
  await w.call('POST', '/parameters', JSON.stringify(PARAMETERS));
  assert.equal((await w.call('PUT', '/start_pulse_id/0')).state, 'ok');
  assert.equal((await w.call('PUT', '/stop_pulse_id/29')).state, 'ok');
  assert.equal(await w.proc.exited, 0, w.proc.stderr());
  const f = await h5py<Record<string, unknown>>(
    path,
    `
f = h5py.File(path, "r")
result = {
  "keys_shape": sorted(f["/data/SHAPE"].keys()),
  "shape_old": f["/data/SHAPE/data(1)"][:],
  "shape_new": f["/data/SHAPE/data"][:],
  "pulse_id": f["/data/SHAPE/pulse_id"][:],
  "sometimes_keys": sorted(f["/data/SOMETIMES"].keys()),
  "sometimes_old": f["/data/SOMETIMES/data(1)"][:],
  "sometimes_new": f["/data/SOMETIMES/data"][:],
  "sometimes_present": f["/data/SOMETIMES/is_data_present"][:],
}
`,
  );
  assert.deepEqual(f['pulse_id'], range(0, 29), '30 rows');
  assert.deepEqual(f['keys_shape'], ['data', 'data(1)', 'is_data_present', 'pulse_id']);
  assert.deepEqual(
    f['shape_old'],
    range(0, 9).map((p) => [p]),
    'data(1) with 10 rows',
  );
  assert.deepEqual(
    f['shape_new'],
    range(0, 29).map((p) => (p < 10 ? [0, 0, 0] : [p, p, p])),
    'data with 30 rows, the first 10 zero',
  );
  assert.deepEqual(
    f['sometimes_present'],
    range(0, 29).map((p) => (p < 10 ? 0 : 1)),
  );
  assert.deepEqual(
    f['sometimes_old'],
    range(0, 19).map((p) => [p < 10 ? 0 : p]),
    'the stub became data at its first value, zeros before',
  );
  assert.deepEqual(
    f['sometimes_new'],
    range(0, 29).map((p) => (p < 20 ? [0, 0] : [p, -p])),
  );
});

test("images through buffer and writer with recycled receive blocks: every row holds its own pulse's bytes (bitshuffle direct and plain)", { timeout: 60_000 }, async () => {
  // Rows of a message stay referenced until written; the writer's receive blocks are reused once
  // a message is handed back, so a row kept past that would show a later pulse's bytes.
  const side = 256; // messages of ~200 kB: received into slabs (64 kB and more)
  const image = (p: number): Uint16Array => {
    const a = new Uint16Array(side * side);
    for (let k = 0; k < a.length; k++) a[k] = (p * 7 + k * 13 + (k >> 5)) & 0xffff;
    return a;
  };
  const msg = (p: number): Buffer[] =>
    encodeMessage({
      pulseId: p,
      globalTimestamp: { sec: 1_700_000_000, ns: p },
      channels: [
        { def: { name: 'CAM', type: 'uint16', shape: [side, side], compression: 'bitshuffle_lz4' }, value: image(p) },
        { def: { name: 'WAVE', type: 'uint16', shape: [side * side] }, value: image(p + 1) },
        { def: { name: 'X', type: 'float64' }, value: p * 0.25 },
      ],
    });
  const { src, out } = await bufferWith(async (s) => {
    for (let p = 100; p < 160; p++) await s.send(msg(p));
  }, 60);
  const path = join(dir, 'images.h5');
  const w = await startWriter(`tcp://127.0.0.1:${out}`, path);
  await w.call('POST', '/parameters', JSON.stringify(PARAMETERS));
  assert.equal((await w.call('PUT', '/start_pulse_id/110')).state, 'ok');
  assert.equal((await w.call('PUT', '/stop_pulse_id/259')).state, 'ok');
  for (let p = 160; p < 270; p++) await src.send(msg(p));
  assert.equal(await w.proc.exited, 0, w.proc.stderr());
  const f = await h5py<{ pid: number[]; cam: number[]; wave: number[]; x: number[] }>(
    path,
    `
f = h5py.File(path, "r")
cam = f["data"]["CAM"]["data"][()].reshape(-1, ${side * side}).astype("int64")
wave = f["data"]["WAVE"]["data"][()].reshape(-1, ${side * side}).astype("int64")
k = np.arange(${side * side}, dtype="int64")
pid = f["data"]["CAM"]["pulse_id"][()]
# per row: does it equal the image of its own pulse id? (1 = yes)
result = {
  "pid": pid,
  "cam": [int(np.array_equal(cam[i], (int(p) * 7 + k * 13 + (k >> 5)) & 0xffff)) for i, p in enumerate(pid)],
  "wave": [int(np.array_equal(wave[i], ((int(p) + 1) * 7 + k * 13 + (k >> 5)) & 0xffff)) for i, p in enumerate(pid)],
  "x": f["data"]["X"]["data"][()].reshape(-1),
}
`,
  );
  assert.deepEqual(f.pid, range(110, 259));
  assert.deepEqual(f.cam, new Array(150).fill(1), "every bitshuffle row is its own pulse's image");
  assert.deepEqual(f.wave, new Array(150).fill(1), "every plain image row is its own pulse's image");
  assert.deepEqual(
    f.x,
    range(110, 259).map((p) => p * 0.25),
  );
});
