// Small appends are collected natively and written a chunk at a time; these tests check that
// nothing is lost or reordered, whatever the mix of small and large appends, and that pending
// rows reach the file on flush, close, read, resize and process exit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { appendToMany, H5File } from '../../../src/h5/index.js';
import { h5py } from '../../helpers/h5py.js';
import { tempDir } from './util.js';

test('mixed small (buffered) and large (direct) appends keep their order across chunks', async () => {
  const dir = tempDir();
  const path = join(dir, 'mixed.h5');
  const file = H5File.create(path);
  // 5000-byte rows: up to 6 rows are buffered (32 KiB), larger batches go straight to HDF5.
  const ds = file.createNumericDataset('/wave', { type: 'uint8', rowShape: [5000], chunkRows: 7 });
  const small = file.createNumericDataset('/small', { type: 'float64', rowShape: [], chunkRows: 10 });
  const parts: Buffer[] = [];
  const smallParts: Buffer[] = [];
  let rows = 0;
  let smallRows = 0;
  const batches = [1, 1, 2, 9, 1, 3, 20, 1, 1, 1, 1, 1, 1, 1, 1, 4, 0, 13, 2];
  for (const n of batches) {
    const b = randomBytes(n * 5000);
    parts.push(b);
    rows += n;
    assert.equal(ds.append(b, n), rows);
    for (let k = 0; k < n + 3; k++) {
      const v = randomBytes(8);
      smallParts.push(v);
      smallRows++;
      assert.equal(small.append(v, 1), smallRows);
    }
    assert.equal(ds.rows, rows);
  }
  // A read through our layer sees the buffered rows.
  assert.ok(Buffer.concat(parts).equals(file.read('/wave').data as Buffer));
  // Resize with rows pending: they are written first, then cut.
  small.append(Buffer.alloc(8, 0xff), 1);
  small.resize(smallRows);
  assert.equal(small.rows, smallRows);
  small.append(Buffer.alloc(8, 0xee), 1);
  smallParts.push(Buffer.alloc(8, 0xee));
  small.close(); // writes its pending row
  ds.append(Buffer.alloc(5000, 7), 1);
  parts.push(Buffer.alloc(5000, 7));
  file.close(); // writes the pending rows of every dataset
  const r = await h5py<{ wave: string; small: string; shapes: number[][] }>(
    path,
    `
import hashlib
f = h5py.File(path, 'r')
result = dict(wave=hashlib.sha256(f['wave'][()].tobytes()).hexdigest(), small=f['small'][()].tobytes().hex(),
              shapes=[list(f['wave'].shape), list(f['small'].shape)])
`,
  );
  const { createHash } = await import('node:crypto');
  assert.equal(r.wave, createHash('sha256').update(Buffer.concat(parts)).digest('hex'));
  assert.equal(r.small, Buffer.concat(smallParts).toString('hex'));
  assert.deepEqual(r.shapes, [[rows + 1, 5000], [smallRows + 1]]);
});

test('rows appended but not closed reach the file on process.exit() and on an uncaught exception', async () => {
  const dir = tempDir();
  const index = fileURLToPath(new URL('../../../src/h5/index.js', import.meta.url));
  const script = join(dir, 'child.mjs');
  writeFileSync(
    script,
    `import { H5File } from ${JSON.stringify(index)};
const f = H5File.create(process.argv[2]);
const d = f.createNumericDataset('/d', { type: 'int32', rowShape: [] });
d.append(new Int32Array([1, 2, 3]));
f.createStringDataset('/s').append(['a']);
if (process.argv[3] === 'exit') process.exit(0);
throw new Error('boom');
`,
  );
  for (const how of ['exit', 'throw']) {
    const path = join(dir, `${how}.h5`);
    try {
      execFileSync(process.execPath, [script, path, how], { stdio: 'pipe' });
    } catch {
      // 'throw' exits with status 1
    }
    const r = await h5py<{ d: number[]; s: string[] }>(path, `f = h5py.File(path, 'r')\nresult = dict(d=f['d'][()], s=list(f['s'].asstr()[()]))`);
    assert.deepEqual(r, { d: [1, 2, 3], s: ['a'] }, how);
  }
});

test('appendToMany appends each dataset its own rows, interleaved with single appends, in order', async () => {
  const dir = tempDir();
  const path = join(dir, 'many.h5');
  const file = H5File.create(path);
  const a = file.createNumericDataset('/a', { type: 'float64', rowShape: [], chunkRows: 16 });
  const b = file.createNumericDataset('/b', { type: 'uint8', rowShape: [], chunkRows: 5 });
  const c = file.createNumericDataset('/c', { type: 'int32', rowShape: [3], chunkRows: 4 });
  const sets = [a, b, c];
  const expect: Buffer[][] = [[], [], []];
  for (let round = 0; round < 12; round++) {
    const n = 1 + (round % 5);
    // One block holding every dataset's rows, at offsets of our choosing.
    const parts = sets.map((d) => randomBytes(n * d.rowBytes));
    const offsets = new Float64Array(3);
    let at = 3; // not at the start: offsets are honoured
    parts.forEach((p, k) => {
      offsets[k] = at;
      at += p.length + 1;
    });
    const block = Buffer.alloc(at);
    parts.forEach((p, k) => p.copy(block, offsets[k]!));
    const before = sets.map((d) => d.rows);
    assert.equal(appendToMany(sets, block, offsets, n).size, 0);
    sets.forEach((d, k) => {
      assert.equal(d.rows, before[k]! + n);
      expect[k]!.push(parts[k]!);
    });
    // A single append in between goes after them.
    const one = randomBytes(b.rowBytes);
    b.append(one, 1);
    expect[1]!.push(one);
  }
  // Rows past the block, a wrong offsets length, or a closed dataset: an error, nothing appended.
  const rowsBefore = sets.map((d) => d.rows);
  assert.throws(() => appendToMany(sets, Buffer.alloc(10), new Float64Array([0, 0, 0]), 2), RangeError);
  assert.throws(() => appendToMany(sets, Buffer.alloc(100), new Float64Array([0, 0]), 1), RangeError);
  assert.deepEqual(
    sets.map((d) => d.rows),
    rowsBefore,
  );
  file.close();
  assert.throws(() => appendToMany([a], Buffer.alloc(8), new Float64Array([0]), 1), /closed/);
  const r = await h5py<string[]>(path, `f = h5py.File(path, 'r')\nresult = [f[k][()].tobytes().hex() for k in ('a', 'b', 'c')]`);
  assert.deepEqual(
    r,
    expect.map((e) => Buffer.concat(e).toString('hex')),
  );
});
