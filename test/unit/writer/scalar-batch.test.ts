// The batched path for plain scalar channels (ScalarBatch) must write exactly what the
// channel-by-channel path writes. Messages with packed frames (what the addon's receivers and the
// buffer's replay deliver) take the batched path; the same messages as separate frames take the
// per-channel path. Seeded random streams with missing values, malformed frames, channels that
// appear, disappear and change type, small arrays, strings, big-endian values, flushes and a
// late stop go through both; h5py reads both files, and every dataset (name, dtype, shape, bytes)
// must match.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { BsreadReceiver, encodeMessage, type BsreadMessage, type ChannelDefInput, type ValueInput } from '../../../src/bsread/index.js';
import { PackedFrameList } from '../../../src/transport/frame-list.js';
import { packFrames } from '../../../src/transport/packed-frames.js';
import { Rng } from '../../helpers/mutate.js';
import { SwissFelFile } from '../../../src/writer/swissfel-file.js';
import { h5py } from '../../helpers/h5py.js';
import { dumpDatasets, tempDir } from './format-util.js';

interface Spec {
  def: ChannelDefInput;
  value: (p: number) => ValueInput;
}

const SPECS: Spec[] = [
  { def: { name: 'A:F64', type: 'float64' }, value: (p) => p * 0.5 - 3 },
  { def: { name: 'A:F32', type: 'float32' }, value: (p) => p / 4 },
  { def: { name: 'A:I32', type: 'int32' }, value: (p) => (p % 1000) - 500 },
  { def: { name: 'A:U8', type: 'uint8' }, value: (p) => p % 256 },
  { def: { name: 'A:I64', type: 'int64' }, value: (p) => BigInt(p) * 1000n - 7n },
  { def: { name: 'A:BOOL', type: 'bool' }, value: (p) => p % 3 === 0 },
  { def: { name: 'A:ARR3', type: 'float64', shape: [3] }, value: (p) => [p, -p, p / 2] },
  { def: { name: 'A:ARR100', type: 'int16', shape: [100] }, value: (p) => Array.from({ length: 100 }, (_, k) => (p + k) % 3000) },
  { def: { name: 'A:BIG', type: 'float64', encoding: 'big' }, value: (p) => p + 0.25 },
  { def: { name: 'A:STR', type: 'string' }, value: (p) => `v${p}` },
];

/** A changed definition some messages use instead (same name, another type: data(1)). */
const CHANGED: Spec = { def: { name: 'A:F32', type: 'int16' }, value: (p) => p % 100 };

const receiver = new BsreadReceiver();

/** One seeded stream: per message, each channel may be absent, missing, malformed or changed. */
function stream(seed: number, count: number): { frames: Uint8Array[]; malformed: number[] }[] {
  const g = new Rng(seed);
  const r = () => g.next();
  const out: { frames: Uint8Array[]; malformed: number[] }[] = [];
  // Some stretches keep one header (so that the batch is made and used), others change it often.
  let layout = SPECS.map((s) => s);
  for (let m = 0; m < count; m++) {
    const p = 5000 + m * (r() < 0.05 ? 3 : 1);
    if (r() < 0.08) {
      layout = SPECS.filter(() => r() < 0.85).map((s) => (s === SPECS[1] && r() < 0.3 ? CHANGED : s));
      if (r() < 0.2) layout = [...layout].reverse();
    }
    const channels = layout.map((s) => ({ def: s.def, value: r() < 0.15 ? null : s.value(p + 1000 * seed) }));
    const frames = encodeMessage({ pulseId: p, globalTimestamp: { sec: 1700000000 + p, ns: 0 }, channels });
    // Now and then a value frame of the wrong size (malformed: written as missing and counted).
    const malformed: number[] = [];
    for (let i = 0; i < channels.length; i++) {
      const k = 2 + 2 * i;
      if (channels[i]!.value !== null && r() < 0.01 && frames[k]!.length > 1) {
        frames[k] = frames[k]!.subarray(0, frames[k]!.length - 1);
        malformed.push(i);
      }
    }
    out.push({ frames, malformed });
  }
  return out;
}

function asList(frames: Uint8Array[]): BsreadMessage {
  const m = receiver.open(frames);
  if (m.kind !== 'data') throw new Error('not a data message');
  return m;
}

function asPacked(frames: Uint8Array[]): BsreadMessage {
  const { data, offsets } = packFrames(frames);
  const list = PackedFrameList.from(data, offsets);
  if (typeof list === 'string') throw new Error(list);
  const m = receiver.open(list);
  if (m.kind !== 'data') throw new Error('not a data message');
  return m;
}

/** Writes the stream, flushing every `flushEvery` messages, then cuts after `lastPulseId` and closes. */
function write(path: string, msgs: BsreadMessage[], flushEvery: number, lastPulseId: number) {
  const f = SwissFelFile.create({ path, flushIntervalMs: 1e9 });
  let k = 0;
  for (const m of msgs) {
    f.write(m);
    if (++k % flushEvery === 0) f.flush();
  }
  const cut = f.truncateAfter(lastPulseId);
  const withValue = f.rowsWithValue();
  const errors = f.channelErrorCounts();
  const rows = f.rows;
  const batched = f.batchedMessages;
  f.close();
  return { cut, withValue, errors, rows, batched };
}

/** Every dataset of the file: dtype, shape and its raw bytes (hex; strings as a JSON list), by path. */
function dump(path: string): Promise<Record<string, { dtype: string; shape: number[]; value: string }>> {
  return dumpDatasets<string>(
    path,
    "v.tobytes().hex() if isinstance(v, np.ndarray) and v.dtype.kind != 'O' else json.dumps([x.decode() if isinstance(x, bytes) else str(x) for x in np.ravel(v)]) if isinstance(v, np.ndarray) else str(v)",
  );
}

for (const [seed, count, flushEvery] of [
  [1, 400, 37],
  [2, 700, 150],
  [3, 300, 1],
] as const) {
  test(`batched and per-channel paths write the same file (seed ${seed}, ${count} messages, flush every ${flushEvery})`, async () => {
    const dir = tempDir('sf-bsread-batch-');
    const s = stream(seed, count);
    const lastPulseId = 5000 + Math.floor(count * 0.9);
    const a = write(
      join(dir, 'list.h5'),
      s.map((x) => asList(x.frames)),
      flushEvery,
      lastPulseId,
    );
    const b = write(
      join(dir, 'packed.h5'),
      s.map((x) => asPacked(x.frames)),
      flushEvery,
      lastPulseId,
    );
    // The test means something only if the batch was used, and the malformed frames happened.
    assert.equal(a.batched, 0, 'separate frames never take the batched path');
    assert.ok(b.batched > count / 4, `packed messages should mostly be batched, got ${b.batched} of ${count}`);
    assert.ok(
      s.some((x) => x.malformed.length > 0),
      'the stream should contain malformed frames',
    );
    assert.deepEqual({ ...b, batched: 0 }, { ...a, batched: 0 });
    const [da, db] = await Promise.all([dump(join(dir, 'list.h5')), dump(join(dir, 'packed.h5'))]);
    assert.deepEqual(Object.keys(db).sort(), Object.keys(da).sort());
    for (const name of Object.keys(da)) assert.deepEqual(db[name], da[name], name);
    // And the file holds what was sent: every row's pulse id is one of the stream's.
    assert.ok(Object.keys(da).some((n) => n.endsWith('A:F64/data')));
  });
}

test('a batched channel that turns malformed mid-batch keeps every row in order', async () => {
  const dir = tempDir('sf-bsread-batch-');
  const msgs: Uint8Array[][] = [];
  for (let p = 100; p < 140; p++) {
    const frames = encodeMessage({
      pulseId: p,
      globalTimestamp: { sec: 1700000000, ns: p },
      channels: [
        { def: { name: 'X', type: 'float64' }, value: p },
        { def: { name: 'Y', type: 'int32' }, value: p % 7 === 0 ? null : -p },
      ],
    });
    if (p === 120) frames[2] = frames[2]!.subarray(0, 3); // X malformed at pulse 120
    msgs.push(frames);
  }
  const path = join(dir, 'x.h5');
  const f = SwissFelFile.create({ path, flushIntervalMs: 1e9 });
  for (const m of msgs) f.write(asPacked(m));
  assert.ok(f.batchedMessages >= 30);
  f.close();
  const got = await h5py<{ x: number[]; xp: number[]; xid: number[]; y: number[]; yp: number[] }>(
    path,
    `
f = h5py.File(path, 'r')
result = {"x": f["data/X/data"][()].ravel(), 'xp': f['data/X/is_data_present'][()], 'xid': f['data/X/pulse_id'][()], "y": f["data/Y/data"][()].ravel(), 'yp': f['data/Y/is_data_present'][()]}
`,
  );
  const pulses = Array.from({ length: 40 }, (_, k) => 100 + k);
  assert.deepEqual(got.xid, pulses);
  assert.deepEqual(
    got.x,
    pulses.map((p) => (p === 120 ? 0 : p)),
  );
  assert.deepEqual(
    got.xp,
    pulses.map((p) => (p === 120 ? 0 : 1)),
  );
  assert.deepEqual(
    got.y,
    pulses.map((p) => (p % 7 === 0 ? 0 : -p)),
  );
  assert.deepEqual(
    got.yp,
    pulses.map((p) => (p % 7 === 0 ? 0 : 1)),
  );
});

test('channels whose first values come late are batched too', () => {
  const dir = tempDir('sf-bsread-batch-');
  const f = SwissFelFile.create({ path: join(dir, 'late.h5'), flushIntervalMs: 1e9 });
  // Every value missing for the first 5 messages: nothing qualifies when the batch is first made.
  for (let p = 1; p <= 400; p++) {
    const frames = encodeMessage({
      pulseId: p,
      globalTimestamp: { sec: 1700000000, ns: p },
      channels: [
        { def: { name: 'L1', type: 'float64' }, value: p <= 5 ? null : p },
        { def: { name: 'L2', type: 'uint8' }, value: p <= 5 ? null : p % 200 },
      ],
    });
    f.write(asPacked(frames));
  }
  assert.ok(f.batchedMessages >= 250, `${f.batchedMessages} of 400 messages batched`);
  assert.deepEqual(f.rowsWithValue(), { L1: 395, L2: 395 });
  f.close();
});

test('a channel whose frames always have the wrong size is left out of the batch; the rest stays batched', async () => {
  const dir = tempDir('sf-bsread-batch-');
  const msgs: Uint8Array[][] = [];
  for (let p = 1; p <= 300; p++) {
    const frames = encodeMessage({
      pulseId: p,
      globalTimestamp: { sec: 1700000000, ns: p },
      channels: [
        { def: { name: 'BAD', type: 'float64' }, value: p },
        { def: { name: 'Y', type: 'float64' }, value: -p },
        { def: { name: 'Z', type: 'int32' }, value: p * 3 },
      ],
    });
    if (p > 10) frames[2] = frames[2]!.subarray(0, 5); // BAD: good at first, then 5 bytes for a float64 every time
    msgs.push(frames);
  }
  const a = write(
    join(dir, 'list.h5'),
    msgs.map((m) => asList(m)),
    50,
    1000,
  );
  const b = write(
    join(dir, 'packed.h5'),
    msgs.map((m) => asPacked(m)),
    50,
    1000,
  );
  assert.ok(b.batched >= 280, `${b.batched} of 300 messages batched`);
  assert.deepEqual(b.withValue, { BAD: 10, Y: 300, Z: 300 });
  assert.deepEqual({ ...b, batched: 0 }, { ...a, batched: 0 });
  assert.equal(
    Object.values(b.errors).reduce((x, y) => x + y, 0),
    290,
    JSON.stringify(b.errors),
  );
  const [da, db] = await Promise.all([dump(join(dir, 'list.h5')), dump(join(dir, 'packed.h5'))]);
  assert.deepEqual(db, da);
});
