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
