// SwissFelFile behaviour beyond the fixtures: the seed's format tests, channels appearing and
// disappearing by name, malformed values, truncation, output paths, /general, attributes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeMainHeader, encodeMessage, md5hex, BsreadReceiver, type BsreadMessage } from '../../../src/bsread/index.js';
import { H5File } from '../../../src/h5/index.js';
import { SwissFelFile } from '../../../src/writer/swissfel-file.js';
import { h5py } from '../../helpers/h5py.js';
import { dumpDatasets, message, tempDir, writeFile, type Ch } from './format-util.js';

/** Every dataset as {dtype, shape, value}. */
function dump(path: string): Promise<Record<string, { dtype: string; shape: number[]; value: unknown }>> {
  return dumpDatasets(path, 'v.tolist() if isinstance(v, np.ndarray) else v');
}

const f64 = (name: string, value: number | null): Ch => ({ def: { name, type: 'float64' }, value });

test('seed test: a channel missing for 10 messages then present for 10 → data has 20 rows, the first 10 zero', async () => {
  const path = join(tempDir(), 'missing.h5');
  const msgs = [];
  for (let p = 0; p < 20; p++) msgs.push(message(100 + p, [f64('A', p), f64('B', p < 10 ? null : p)]));
  writeFile(path, msgs);
  const d = await dump(path);
  assert.deepEqual(d['data/B/data']!.shape, [20, 1]);
  assert.deepEqual(
    d['data/B/data']!.value,
    Array.from({ length: 20 }, (_, p) => [p < 10 ? 0 : p]),
  );
  assert.deepEqual(
    d['data/B/pulse_id']!.value,
    Array.from({ length: 20 }, (_, p) => 100 + p),
  );
  assert.deepEqual(
    d['data/B/is_data_present']!.value,
    Array.from({ length: 20 }, (_, p) => (p < 10 ? 0 : 1)),
  );
  assert.deepEqual(
    d['data/A/pulse_id']!.value,
    Array.from({ length: 20 }, (_, p) => 100 + p),
  );
});

test('seed test: a scalar for 10 messages then a 3-element array for 10 → data(1) has 10 rows, data 20', async () => {
  const path = join(tempDir(), 'change.h5');
  const msgs = [];
  for (let p = 0; p < 20; p++) {
    msgs.push(message(p, [p < 10 ? { def: { name: 'X', type: 'int32' }, value: p } : { def: { name: 'X', type: 'int32', shape: [3] }, value: [p, p, p] }]));
  }
  writeFile(path, msgs);
  const d = await dump(path);
  assert.deepEqual(d['data/X/data(1)'], { dtype: 'int32', shape: [10, 1], value: Array.from({ length: 10 }, (_, p) => [p]) });
  assert.deepEqual(d['data/X/data'], {
    dtype: 'int32',
    shape: [20, 3],
    value: Array.from({ length: 20 }, (_, p) => (p < 10 ? [0, 0, 0] : [p, p, p])),
  });
});

test('channels are matched by name: appearing midway, disappearing, reordered headers', async () => {
  const path = join(tempDir(), 'names.h5');
  const msgs = [
    message(1, [f64('A', 1), f64('C', 10)]),
    message(2, [f64('A', 2), f64('C', 20)]),
    message(3, [f64('B', 300), f64('A', 3)]), // B appears, C disappears, order changes
    message(4, [f64('A', 4), f64('B', 400)]),
    message(5, [f64('C', 50), f64('A', 5), f64('B', 500)]), // C is back
  ];
  const f = writeFile(path, msgs);
  assert.equal(f.rows, 5);
  const d = await dump(path);
  assert.deepEqual(d['data/A/data']!.value, [[1], [2], [3], [4], [5]]);
  assert.deepEqual(d['data/B/data']!.value, [[0], [0], [300], [400], [500]]);
  assert.deepEqual(d['data/B/pulse_id']!.value, [1, 2, 3, 4, 5]); // earlier rows carry their pulse ids too
  assert.deepEqual(d['data/B/is_data_present']!.value, [0, 0, 1, 1, 1]);
  assert.deepEqual(d['data/C/data']!.value, [[10], [20], [0], [0], [50]]);
  assert.deepEqual(d['data/C/pulse_id']!.value, [1, 2, 3, 4, 5]);
  assert.deepEqual(d['data/C/is_data_present']!.value, [1, 1, 0, 0, 1]);
});

test('a channel never present gets pulse_id and is_data_present only; /general at the first message', async () => {
  const path = join(tempDir(), 'never.h5');
  writeFile(path, [message(7, [f64('A', 1), f64('N', null)]), message(8, [f64('A', 2), f64('N', null)])], {
    parameters: { user: 'p12345', process: 'daq µ', created: '2024-01-01T00:00:00' },
  });
  const r = await h5py<Record<string, unknown>>(
    path,
    `
f = h5py.File(path, 'r')
result = {'N': sorted(f['data/N'].keys()),
          'general': {k: [f['general'][k].dtype.str, f['general'][k].shape, f['general'][k][()].hex()] for k in f['general']}}
`,
  );
  assert.deepEqual(r['N'], ['is_data_present', 'pulse_id']);
  const hex = (s: string) => Buffer.from(s, 'utf8').toString('hex');
  const len = (s: string) => Buffer.byteLength(s, 'utf8');
  assert.deepEqual(r['general'], {
    created: [`|S${len('2024-01-01T00:00:00')}`, [], hex('2024-01-01T00:00:00')],
    instrument: ['|S9', [], hex('not given')],
    process: [`|S${len('daq µ')}`, [], hex('daq µ')],
    user: ['|S6', [], hex('p12345')],
  });
});

test('a file in which no message was written holds only the root group and its attributes', async () => {
  const path = join(tempDir(), 'empty.h5');
  const f = SwissFelFile.create({ path });
  f.setAttributes({ state: 'finished', written: 0, missing_pulse_ids: [], ratio: 0.5, big: 2n ** 60n, ids: [1, 2, 3] });
  f.close();
  f.close(); // idempotent
  assert.equal(f.rows, 0);
  assert.equal(f.firstPulseId, null);
  const r = await h5py<Record<string, unknown>>(
    path,
    `
f = h5py.File(path, 'r')
result = {'keys': list(f.keys()), 'attrs': {k: [str(np.asarray(v).dtype), v.decode() if isinstance(v, bytes) else v] for k, v in f.attrs.items()}}
`,
  );
  assert.deepEqual(r['keys'], []);
  assert.deepEqual(r['attrs'], {
    state: ['<U8', 'finished'],
    written: ['int64', 0],
    missing_pulse_ids: ['int64', []],
    ratio: ['float64', 0.5],
    big: ['int64', 2 ** 60],
    ids: ['int64', [1, 2, 3]],
  });
});

test('a malformed value is written as missing and counted; an unusable definition too', async () => {
  const path = join(tempDir(), 'malformed.h5');
  const ok = message(1, [f64('A', 1), f64('B', 2)]);
  const badFrames = encodeMessage({ pulseId: 2, globalTimestamp: { sec: 1, ns: 0 }, channels: [f64('A', 3), f64('B', 4)] });
  badFrames[4] = Buffer.alloc(5, 1); // B: 5 bytes for a float64
  const r = new BsreadReceiver();
  const bad = r.open(badFrames) as BsreadMessage;
  // A data header with an unknown type for channel C (values are still there).
  const header = Buffer.from(
    JSON.stringify({
      htype: 'bsr_d-1.1',
      channels: [
        { name: 'A', type: 'float64', shape: [1] },
        { name: 'C', type: 'complex128', shape: [1] },
      ],
    }),
  );
  const f64bytes = (v: number) => Buffer.from(new Float64Array([v]).buffer);
  const ts = Buffer.alloc(16);
  const invalid = r.open([encodeMainHeader(3, { sec: 1, ns: 0 }, md5hex(header), 'none'), header, f64bytes(5), ts, f64bytes(6), ts]) as BsreadMessage;

  const f = SwissFelFile.create({ path });
  assert.deepEqual(f.write(ok), { channelErrors: 0 });
  assert.deepEqual(f.write(bad), { channelErrors: 1 });
  assert.deepEqual(f.write(invalid), { channelErrors: 1 });
  assert.deepEqual(f.channelErrorCounts(), { size_mismatch: 1, unknown_type: 1 });
  f.close();
  const d = await dump(path);
  assert.deepEqual(d['data/A/data']!.value, [[1], [3], [5]]);
  assert.deepEqual(d['data/B/data']!.value, [[2], [0], [0]]);
  assert.deepEqual(d['data/B/pulse_id']!.value, [1, 2, 3]); // malformed rows keep their pulse id
  assert.deepEqual(d['data/B/is_data_present']!.value, [1, 0, 0]);
  assert.deepEqual(d['data/C/pulse_id']!.value, [1, 2, 3]);
  assert.equal(d['data/C/data'], undefined);
});

test('truncateAfter drops trailing rows, buffered or already flushed, in every dataset', async () => {
  const path = join(tempDir(), 'truncate.h5');
  const f = SwissFelFile.create({ path, flushIntervalMs: 1e9 });
  for (let p = 10; p < 20; p++) f.write(message(p, [f64('A', p), { def: { name: 'S', type: 'string' }, value: `s${p}` }]));
  f.flush(); // rows 10..19 in the file
  // A definition change and a new channel in rows that will be dropped again.
  for (let p = 20; p < 25; p++) f.write(message(p, [f64('A', p), { def: { name: 'S', type: 'string' }, value: `s${p}` }, f64('NEW', p)]));
  assert.equal(f.truncateAfter(22), 2); // buffered rows only
  assert.equal(f.rows, 13);
  assert.equal(f.lastPulseId, 22);
  assert.equal(f.truncateAfter(15), 7); // reaches into flushed rows
  assert.equal(f.truncateAfter(15), 0);
  assert.equal(f.rows, 6);
  assert.equal(f.firstPulseId, 10);
  assert.equal(f.lastPulseId, 15);
  f.write(message(16, [f64('A', 16)]));
  f.close();
  const d = await dump(path);
  assert.deepEqual(d['data/A/data']!.value, [[10], [11], [12], [13], [14], [15], [16]]);
  assert.deepEqual(d['data/A/pulse_id']!.value, [10, 11, 12, 13, 14, 15, 16]);
  assert.deepEqual(d['data/S/data']!.value, ['s10', 's11', 's12', 's13', 's14', 's15', '']);
  assert.deepEqual(d['data/NEW/pulse_id']!.value, [10, 11, 12, 13, 14, 15, 16]);
  assert.deepEqual(d['data/NEW/data']!.shape, [7, 1]);
});

test('truncateAfter to nothing, then close: every dataset has 0 rows', async () => {
  const path = join(tempDir(), 'truncate0.h5');
  const f = SwissFelFile.create({ path });
  for (let p = 1; p <= 3; p++) f.write(message(p, [f64('A', p)]));
  f.flush();
  assert.equal(f.truncateAfter(0), 3);
  assert.equal(f.firstPulseId, null);
  f.close();
  const d = await dump(path);
  assert.deepEqual(d['data/A/data']!.shape, [0, 1]);
  assert.deepEqual(d['data/A/pulse_id']!.shape, [0]);
});

test('/dev/null: everything is done in memory and no file is written', () => {
  const dir = tempDir();
  const before = statSync('/dev/null');
  const f = SwissFelFile.create({ path: '/dev/null' });
  for (let p = 0; p < 50; p++) f.write(message(p, [f64('A', p), { def: { name: 'S', type: 'string' }, value: 'x' }]));
  f.flush();
  f.setAttributes({ a: 1 });
  f.close();
  assert.equal(f.rows, 50);
  assert.equal(f.path, '/dev/null');
  assert.ok(statSync('/dev/null').isCharacterDevice());
  assert.equal(statSync('/dev/null').size, before.size);
  assert.deepEqual(readdirSync(dir), []);
  // Twice in a row: no state left behind.
  SwissFelFile.create({ path: '/dev/null' }).close();
});

test('an existing file is refused unless overwrite is set', () => {
  const path = join(tempDir(), 'exists.h5');
  writeFileSync(path, 'not hdf5');
  assert.throws(() => SwissFelFile.create({ path }), { code: 'BSREAD_ERR_FILE_EXISTS', message: /exists/ });
  const f = SwissFelFile.create({ path, overwrite: true });
  f.write(message(1, [f64('A', 1)]));
  f.close();
  assert.equal(H5File.openReadOnly(path).read('/data/A/data').shape[0], 1);
});

test('unusable output paths give clear errors before any message', () => {
  const dir = tempDir();
  assert.throws(() => SwissFelFile.create({ path: join(dir, 'no-such-folder', 'x.h5') }), {
    code: 'BSREAD_ERR_OUTPUT_PATH',
    message: /folder .*no-such-folder does not exist/,
  });
  writeFileSync(join(dir, 'plain'), '');
  assert.throws(() => SwissFelFile.create({ path: join(dir, 'plain', 'x.h5') }), { code: 'BSREAD_ERR_OUTPUT_PATH', message: /not a folder/ });
  assert.throws(() => SwissFelFile.create({ path: dir, overwrite: true }), { code: 'BSREAD_ERR_OUTPUT_PATH', message: /is a folder/ });
  assert.throws(() => SwissFelFile.create({ path: '' }), { code: 'BSREAD_ERR_OUTPUT_PATH' });
  assert.equal(existsSync(join(dir, 'no-such-folder')), false);
});

test('flushIfDue puts buffered rows in the file for another reader while it is open', async () => {
  const path = join(tempDir(), 'flush.h5');
  const f = SwissFelFile.create({ path, flushIntervalMs: 1e9 });
  for (let p = 0; p < 30; p++) f.write(message(p, [f64('A', p)]));
  f.flushIfDue(Date.now()); // not due
  f.flushIfDue(Date.now() + 2e9); // due
  // HDF5 locks files open for writing; a reader elsewhere must opt out (as after GET /kill).
  const saved = process.env['HDF5_USE_FILE_LOCKING'];
  process.env['HDF5_USE_FILE_LOCKING'] = 'FALSE';
  try {
    const r = await h5py<number[]>(path, `result = h5py.File(path, 'r')['data/A/pulse_id'][()]`);
    assert.deepEqual(
      r,
      Array.from({ length: 30 }, (_, p) => p),
    );
  } finally {
    if (saved === undefined) delete process.env['HDF5_USE_FILE_LOCKING'];
    else process.env['HDF5_USE_FILE_LOCKING'] = saved;
  }
  f.close();
  assert.throws(() => f.write(message(99, [f64('A', 1)])), { code: 'H5_ERR_CLOSED' });
  f.flushIfDue(); // no-op after close
});

test('colliding channel names: the later one is bad_channel_name; the others are written', async () => {
  const path = join(tempDir(), 'collide.h5');
  const f = SwissFelFile.create({ path });
  // x/data would be the dataset of channel x: never a channel.
  assert.deepEqual(f.write(message(1, [f64('x/data', 1), f64('y/z', 1)])), { channelErrors: 1 });
  // y's group would contain channel y/z; x is fine.
  assert.deepEqual(f.write(message(2, [f64('x/data', 2), f64('x', 2), f64('y', 2), f64('y/z', 2)])), { channelErrors: 2 });
  f.write(message(3, [f64('x', 3)]));
  assert.deepEqual(f.channelErrorCounts(), { bad_channel_name: 3 });
  f.close();
  const d = await dump(path);
  assert.deepEqual(d['data/x/data']!.value, [[0], [2], [3]]);
  assert.deepEqual(d['data/x/pulse_id']!.value, [1, 2, 3]);
  assert.deepEqual(d['data/y/z/data']!.value, [[1], [2], [0]]);
  assert.equal(d['data/y/pulse_id'], undefined);
});

test('duplicate and unusable channel names are counted, not written', () => {
  const f = SwissFelFile.create({ path: '/dev/null' });
  const r = f.write(message(1, [f64('A', 1), f64('A', 2), f64('a/../b', 3), f64('', 4)]));
  assert.deepEqual(r, { channelErrors: 3 });
  assert.deepEqual(f.channelErrorCounts(), { duplicate_channel: 1, bad_channel_name: 2 });
  f.close();
});

test('rows above 4 MiB are split across chunks and read back exactly', () => {
  const path = join(tempDir(), 'big.h5');
  const img = (k: number) => Uint8Array.from({ length: 1500 * 3000 }, (_, j) => (j * 7 + k) & 0xff);
  const def = { name: 'BIG', type: 'uint8' as const, shape: [3000, 1500] };
  writeFile(path, [
    message(1, [{ def, value: { shape: [1500, 3000], data: img(1) } }]),
    message(2, [{ def, value: null }]),
    message(3, [{ def, value: { shape: [1500, 3000], data: img(3) } }]),
  ]);
  const f = H5File.openReadOnly(path);
  try {
    const info = f.info('/data/BIG/data');
    assert.deepEqual(info.shape, [3, 1500, 3000]);
    assert.deepEqual(info.chunkShape, [1, 1398, 3000]);
    const d = f.read('/data/BIG/data').data as Buffer;
    const n = 1500 * 3000;
    assert.ok(d.subarray(0, n).equals(img(1)));
    assert.ok(d.subarray(n, 2 * n).equals(new Uint8Array(n)));
    assert.ok(d.subarray(2 * n).equals(img(3)));
  } finally {
    f.close();
  }
});
