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
import { H5File } from '../../../src/h5/index.js';
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
