// sf_bsread_writer behind our sf_bsread_buffer: the writer finds the replay service next to the
// buffer's output address and writes ranges that started before the writer was even asked.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { encodeMessage, type EncodeChannel } from '../../src/bsread/index.js';
import type { StreamSender } from '../../src/transport/index.js';
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
  assert.deepEqual(f.scalar, range(1020, 1150).map((p) => p * 1.5));
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
  assert.deepEqual(f['shape_old'], range(0, 9).map((p) => [p]), 'data(1) with 10 rows');
  assert.deepEqual(f['shape_new'], range(0, 29).map((p) => (p < 10 ? [0, 0, 0] : [p, p, p])), 'data with 30 rows, the first 10 zero');
  assert.deepEqual(f['sometimes_present'], range(0, 29).map((p) => (p < 10 ? 0 : 1)));
  assert.deepEqual(f['sometimes_old'], range(0, 19).map((p) => [p < 10 ? 0 : p]), 'the stub became data at its first value, zeros before');
  assert.deepEqual(f['sometimes_new'], range(0, 29).map((p) => (p < 20 ? [0, 0] : [p, -p])));
});
