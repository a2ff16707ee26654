// Small-row datasets (scalars, short waveforms) allocate their chunks without writing the fill
// value (a 64 KiB chunk would otherwise be written whole before its first rows). Rows past the
// extent can then hold old bytes, so a dataset that shrinks and grows again must show zeros in
// the new rows, never the values that were cut off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { H5File } from '../../../src/h5/index.js';
import { h5py } from '../../helpers/h5py.js';
import { tempDir } from './util.js';

test('a small-row dataset cut and grown again reads zeros in the new rows, not the old values', async () => {
  const path = join(tempDir(), 'fill-never.h5');
  const file = H5File.create(path);
  const ds = file.createNumericDataset('/data/x/data', { type: 'float64', rowShape: [], chunkRows: 1000 });
  const values = Float64Array.from({ length: 500 }, (_, i) => i + 0.5);
  ds.append(new Uint8Array(values.buffer), 500);
  file.flush();
  ds.resize(200); // cut: rows 200.. of the allocated chunk still hold 200.5, 201.5, ...
  file.flush();
  ds.resize(450); // grow without values
  ds.append(new Uint8Array(Float64Array.of(-1, -2).buffer), 2);
  file.flush();
  const ours = new Float64Array((file.read('/data/x/data').data as Buffer).buffer.slice(0));
  file.close();
  const expected = [...values.slice(0, 200), ...new Array<number>(250).fill(0), -1, -2];
  assert.deepEqual([...ours], expected);
  const theirs = await h5py<number[]>(path, "result = h5py.File(path, 'r')['/data/x/data'][()]");
  assert.deepEqual(theirs, expected);
});

test('a small-row dataset grown from nothing (a late channel) reads zeros, also in whole chunks never written otherwise', async () => {
  const path = join(tempDir(), 'fill-never-late.h5');
  const file = H5File.create(path);
  const late = file.createNumericDataset('/data/late/pulse_id', { type: 'int64', rowShape: [], chunkRows: 1000 });
  late.resize(2500); // two whole chunks and half of a third, before the channel's first value
  late.append(new Uint8Array(BigInt64Array.of(7n, 8n).buffer), 2);
  const aligned = file.createNumericDataset('/data/aligned/pulse_id', { type: 'int64', rowShape: [], chunkRows: 1000 });
  aligned.append(new Uint8Array(new BigInt64Array(1000).fill(5n).buffer), 1000);
  aligned.resize(3000); // from a chunk boundary
  file.flush();
  const ours = (name: string): bigint[] => [...new BigInt64Array((file.read(name).data as Buffer).buffer.slice(0))];
  const expectLate = [...new Array<bigint>(2500).fill(0n), 7n, 8n];
  const expectAligned = [...new Array<bigint>(1000).fill(5n), ...new Array<bigint>(2000).fill(0n)];
  assert.deepEqual(ours('/data/late/pulse_id'), expectLate);
  assert.deepEqual(ours('/data/aligned/pulse_id'), expectAligned);
  file.close();
  // h5py reads into an array full of -1: a chunk libhdf5 skipped would leave the -1s.
  const theirs = await h5py<{ late: number[]; aligned: number[] }>(
    path,
    `
f = h5py.File(path, 'r')
out = {}
for name in ['late', 'aligned']:
    ds = f['data'][name]['pulse_id']
    a = np.full(ds.shape, -1, dtype='int64')
    ds.read_direct(a)
    out[name] = a
result = out
`,
  );
  assert.deepEqual(theirs.late, expectLate.map(Number));
  assert.deepEqual(theirs.aligned, expectAligned.map(Number));
});

test('growing a small-row dataset by more than 1 GiB of zero rows is refused with a clear error', () => {
  const file = H5File.create(join(tempDir(), 'fill-never-huge.h5'));
  const ds = file.createNumericDataset('/x', { type: 'float64', rowShape: [], chunkRows: 1000 });
  assert.throws(() => ds.resize(2 ** 40), /would write \d+ bytes of zeros/);
  assert.equal(ds.rows, 0);
  file.close();
});
