// Rows appended to a small-row dataset's chunk that libhdf5 has already allocated are written
// straight to the chunk's place in the file (native/h5_dataset.cc, WriteGatheredRows). Any
// mistake there (a wrong offset, a row split across chunks, a chunk that moved or was freed
// when the dataset shrank) shows up as wrong values, so a long random mix of appends, flushes,
// cuts and growth is checked value by value: against a model, against the same calls on an
// in-memory file (which libhdf5 writes itself), and through h5py.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { H5File, type NumericDataset } from '../../../src/h5/index.js';
import { h5py } from '../../helpers/h5py.js';
import { tempDir } from './util.js';

interface Spec {
  name: string;
  type: 'float64' | 'bool' | 'uint16' | 'int32';
  rowShape: number[];
  chunkRows?: number;
  chunkShape?: number[];
  /** Rows per append are multiplied by this (to span several big chunks). */
  scale?: number;
}

const SPECS: Spec[] = [
  // Chunks of 256 rows and more take rows straight from the addon.
  { name: '/scalars', type: 'float64', rowShape: [], chunkRows: 256, scale: 50 },
  { name: '/wave', type: 'uint16', rowShape: [3], chunkRows: 300, scale: 50 },
  // Smaller chunks go through H5Dwrite and H5Dset_extent (libhdf5 alone): controls.
  { name: '/f64', type: 'float64', rowShape: [], chunkRows: 4 },
  { name: '/flag', type: 'bool', rowShape: [], chunkRows: 7 },
  { name: '/u16x3', type: 'uint16', rowShape: [3], chunkRows: 5 },
  // A chunk holding part of each row: not written directly, kept here as a control.
  { name: '/i32x4', type: 'int32', rowShape: [4], chunkShape: [3, 2] },
];

/** Deterministic pseudo-random integers (xorshift32). */
function random(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

function rowsOf(spec: Spec, first: number, count: number): { bytes: Uint8Array; values: number[] } {
  const perRow = spec.rowShape.reduce((a, b) => a * b, 1);
  const values = Array.from({ length: count * perRow }, (_, i) => {
    const v = first * perRow + i + 1;
    return spec.type === 'bool' ? (v % 3 === 0 ? 1 : 0) : spec.type === 'float64' ? v + 0.25 : v % 60000;
  });
  const array =
    spec.type === 'float64'
      ? Float64Array.from(values)
      : spec.type === 'bool'
        ? Uint8Array.from(values)
        : spec.type === 'uint16'
          ? Uint16Array.from(values)
          : Int32Array.from(values);
  return { bytes: new Uint8Array(array.buffer), values };
}

/** Every dataset of SPECS through h5py, flattened; the file may still be open in this process. */
function readWithH5py(path: string): Promise<Record<string, number[]>> {
  return h5py<Record<string, number[]>>(
    path,
    `
import os
os.environ['HDF5_USE_FILE_LOCKING'] = 'FALSE'
with h5py.File(path, 'r') as f:
    out = {}
    for name in ${JSON.stringify(SPECS.map((s) => s.name))}:
        ds = f[name]
        a = np.full(ds.shape, 77, dtype=ds.dtype)
        ds.read_direct(a)
        out[name] = a.astype('float64').reshape(-1)
result = out
`,
  );
}

test('appends, flushes, cuts and growth across many chunks read back exactly, from libhdf5 and from h5py', async () => {
  const path = join(tempDir(), 'direct-rows.h5');
  const files = [H5File.create(path), H5File.createInMemory()];
  const sets = files.map((f) => SPECS.map((s) => f.createNumericDataset(s.name, s)));
  const model: number[][] = SPECS.map(() => []);
  const produced = SPECS.map(() => 0);
  const next = random(20261205);
  const perRow = (k: number): number => SPECS[k].rowShape.reduce((a, b) => a * b, 1);
  let nextLook = 60;
  let looks = 0;
  for (let step = 0; step < 600; step++) {
    const op = next(20);
    if (op < 14) {
      const k = next(SPECS.length);
      const count = (1 + next(op < 12 ? 4 : 19)) * (SPECS[k].scale ?? 1); // mostly a few rows, sometimes several chunks
      const { bytes, values } = rowsOf(SPECS[k], produced[k], count);
      produced[k] += count;
      for (const set of sets) set[k].append(bytes, count);
      model[k].push(...values);
    } else if (op < 18) {
      for (const f of files) f.flush();
      // What a flush leaves in the file, read while the file is still open (as after a kill):
      // the extents of these datasets are written there by the addon, not by libhdf5.
      if (step >= nextLook) {
        nextLook = step + 120;
        const onDisk = await readWithH5py(path);
        for (let k = 0; k < SPECS.length; k++) assert.deepEqual(onDisk[SPECS[k].name], model[k], `${SPECS[k].name} in the open file after the flush at step ${step}`);
        looks++;
      }
    } else {
      const k = next(SPECS.length);
      const rows = model[k].length / perRow(k);
      const step = SPECS[k].scale ?? 1;
      const to = op === 18 ? Math.max(0, rows - step * (1 + next(9))) : rows + step * (1 + next(9));
      for (const set of sets) set[k].resize(to);
      if (to < rows) model[k].length = to * perRow(k);
      else model[k].push(...new Array<number>((to - rows) * perRow(k)).fill(0));
    }
  }
  const read = (f: H5File, k: number): number[] => {
    const data = f.read(SPECS[k].name).data as Buffer;
    const copy = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
    const t = SPECS[k].type;
    return [...(t === 'float64' ? new Float64Array(copy) : t === 'uint16' ? new Uint16Array(copy) : t === 'int32' ? new Int32Array(copy) : new Uint8Array(copy))];
  };
  for (let k = 0; k < SPECS.length; k++) {
    assert.ok(model[k].length / perRow(k) > 3 * (SPECS[k].chunkRows ?? 3), `${SPECS[k].name} spans several chunks`);
    assert.deepEqual(read(files[0], k), model[k], `${SPECS[k].name} on disk`);
    assert.deepEqual(read(files[1], k), model[k], `${SPECS[k].name} in memory`);
  }
  assert.ok(looks >= 3, `the open file was read ${looks} times`);
  for (const f of files) f.close();
  const theirs = await readWithH5py(path);
  for (let k = 0; k < SPECS.length; k++) assert.deepEqual(theirs[SPECS[k].name], model[k], `${SPECS[k].name} through h5py`);
});

test('the rows of many datasets appended together (the scalar batch) land in their own datasets over several chunks', async () => {
  const path = join(tempDir(), 'direct-many.h5');
  const file = H5File.create(path);
  const n = 50;
  const sets: NumericDataset[] = Array.from({ length: n }, (_, c) => file.createNumericDataset(`/c${c}`, { type: 'float64', rowShape: [], chunkRows: 256 }));
  const rows = 1400; // five chunks and a part of a sixth, written in uneven pieces
  let done = 0;
  for (const piece of [20, 40, 260, 20, 320, 100, 640]) {
    for (let c = 0; c < n; c++) sets[c].append(Float64Array.from({ length: piece }, (_, i) => c * 1000 + done + i));
    done += piece;
    file.flush();
  }
  assert.equal(done, rows);
  file.close();
  const theirs = await h5py<number[][]>(path, `f = h5py.File(path, 'r')\nresult = [f['c%d' % c][()] for c in range(${n})]`);
  for (let c = 0; c < n; c++)
    assert.deepEqual(
      theirs[c],
      Array.from({ length: rows }, (_, i) => c * 1000 + i),
      `/c${c}`,
    );
});

test('a cut back to the extent libhdf5 last knew, closed without a flush, is the extent in the file', async () => {
  const path = join(tempDir(), 'direct-cut.h5');
  const file = H5File.create(path);
  const ds = file.createNumericDataset('/x', { type: 'float64', rowShape: [], chunkRows: 8192 });
  ds.append(Float64Array.from({ length: 100 }, (_, i) => i));
  file.flush(); // libhdf5 writes the extent (100); the addon learns where it is
  ds.append(Float64Array.from({ length: 100 }, (_, i) => 100 + i));
  file.flush(); // the addon writes 200 into the file; libhdf5 still knows 100
  ds.resize(100);
  file.close();
  const theirs = await h5py<number[]>(path, "result = h5py.File(path, 'r')['x'][()]");
  assert.deepEqual(
    theirs,
    Array.from({ length: 100 }, (_, i) => i),
  );
});
