// Error paths: every failure is a clear H5Error (or TypeError for wrong argument types), the
// process never crashes, and state stays consistent after a failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync, statSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { H5File, type ElementType } from '../../../src/h5/index.js';
import { BsreadError, H5Error } from '../../../src/errors.js';
import { h5py } from '../../helpers/h5py.js';
import { tempDir } from './util.js';

test('an existing file is refused unless overwrite is asked for', () => {
  const dir = tempDir();
  const path = join(dir, 'exists.h5');
  writeFileSync(path, 'not hdf5, precious');
  assert.throws(
    () => H5File.create(path),
    (e: unknown) => {
      assert.ok(e instanceof H5Error);
      assert.equal(e.code, 'H5_ERR');
      assert.equal(e.h5Function, 'H5Fcreate');
      assert.match(e.message, /exists/);
      return true;
    },
  );
  assert.equal(statSync(path).size, 18, 'untouched');
  const f = H5File.create(path, { overwrite: true });
  f.close();
  assert.ok(statSync(path).size > 18);
  // An HDF5 file that is open cannot be created again either.
  const g = H5File.create(join(dir, 'open.h5'));
  assert.throws(() => H5File.create(join(dir, 'open.h5'), { overwrite: true }), H5Error);
  g.close();
});

test('unusable folders and files give H5Error', () => {
  const dir = tempDir();
  const notADir = join(dir, 'file');
  writeFileSync(notADir, '');
  assert.throws(() => H5File.create(join(notADir, 'x.h5')), { name: 'H5Error', code: 'H5_ERR', h5Function: 'H5Fcreate' });
  assert.throws(() => H5File.create(join(dir, 'missing', 'x.h5')), { name: 'H5Error', message: /No such file/ });
  assert.throws(() => H5File.create('/proc/sf-bsread-test.h5'), H5Error);
  assert.throws(() => H5File.openReadOnly(join(dir, 'nope.h5')), { name: 'H5Error', h5Function: 'H5Fopen' });
  assert.throws(() => H5File.openReadOnly(notADir), { name: 'H5Error', h5Function: 'H5Fopen' });
});

test('invalid or duplicate names, wrong buffer sizes: H5Error, no change', () => {
  const file = H5File.createInMemory();
  const ds = file.createNumericDataset('/data/ch/data', { type: 'uint16', rowShape: [3] });
  assert.throws(
    () => file.createNumericDataset('/data/ch/data', { type: 'uint16', rowShape: [3] }),
    (e: unknown) => {
      assert.ok(e instanceof H5Error);
      assert.equal(e.h5Function, 'H5Dcreate2');
      assert.match(e.message, /already exists/);
      return true;
    },
  );
  assert.throws(() => file.createStringDataset('/data/ch/data/below'), { name: 'H5Error' }); // parent is a dataset
  assert.throws(() => file.group('/data/ch/data'), { name: 'H5Error', message: /not a group/ });
  assert.throws(() => file.createNumericDataset('', { type: 'uint8', rowShape: [] }), TypeError);
  assert.throws(() => file.createNumericDataset('/a\0b', { type: 'uint8', rowShape: [] }), TypeError);
  assert.throws(() => file.createNumericDataset('/x', { type: 'float16' as ElementType, rowShape: [] }), TypeError);
  assert.throws(() => file.createNumericDataset('/x', { type: 'uint8', rowShape: [0] }), TypeError);
  assert.throws(() => file.createNumericDataset('/x', { type: 'uint8', rowShape: [2], chunkShape: [1] }), RangeError);
  assert.throws(() => file.createNumericDataset('/x', { type: 'uint8', rowShape: [2], chunkRows: 0 }), RangeError);
  assert.throws(() => file.createNumericDataset('/x', { type: 'float64', rowShape: [65536, 65536] }), RangeError); // 32 GiB chunk
  assert.equal(file.exists('/x'), false);

  ds.append(new Uint16Array([1, 2, 3]));
  assert.throws(() => ds.append(Buffer.alloc(5), 1), { name: 'H5Error', code: 'H5_ERR', message: /got 5 bytes for 1 rows, expected 6/ });
  assert.throws(() => ds.append(Buffer.alloc(5)), { name: 'H5Error', message: /whole number/ });
  assert.throws(() => ds.append(Buffer.alloc(12), 1), H5Error);
  assert.throws(() => ds.append('abc' as unknown as Buffer, 1), TypeError);
  assert.throws(() => ds.append(Buffer.alloc(6), -1), TypeError);
  assert.throws(() => ds.append(Buffer.alloc(6), 1.5), TypeError);
  assert.throws(() => ds.resize(-1), TypeError);
  assert.equal(ds.rows, 1);
  assert.deepEqual(file.read('/data/ch/data').shape, [1, 3]);

  const s = file.createStringDataset('/s');
  assert.throws(() => s.append([1 as unknown as string]), TypeError);
  assert.throws(() => s.append('abc' as unknown as string[]), TypeError);
  assert.equal(s.rows, 0);

  assert.throws(() => file.move('/nope', '/other'), { name: 'H5Error', h5Function: 'H5Lmove' });
  assert.throws(() => file.move('/s', '/data/ch/data'), { name: 'H5Error', h5Function: 'H5Lmove' }); // destination exists
  assert.throws(() => file.read('/nope'), { name: 'H5Error', h5Function: 'H5Dopen2' });
  assert.throws(() => file.listGroup('/s'), { name: 'H5Error', h5Function: 'H5Gopen2' });
  assert.throws(() => file.attributes('/nope'), { name: 'H5Error', h5Function: 'H5Oopen' });
  assert.throws(() => file.setAttribute('/nope', 'a', 1), { name: 'H5Error', h5Function: 'H5Oopen' });
  assert.throws(() => file.setAttribute('/', 'a', {} as unknown as string), TypeError);
  assert.throws(() => file.writeScalarString('/s', 'x'), { name: 'H5Error', h5Function: 'H5Dcreate2' });
  // Errors carry the HDF5 stack for logs.
  try {
    file.read('/nope');
  } catch (e) {
    assert.ok(Array.isArray((e as { h5Stack?: unknown }).h5Stack));
  }
  file.close();
});

test('writing to a read-only file fails cleanly', () => {
  const dir = tempDir();
  const path = join(dir, 'ro.h5');
  const w = H5File.create(path);
  w.createNumericDataset('/d', { type: 'int8', rowShape: [] }).append(new Int8Array([1]));
  w.close();
  const r = H5File.openReadOnly(path);
  assert.equal(r.readOnly, true);
  assert.throws(() => r.group('/g'), H5Error);
  assert.throws(() => r.createNumericDataset('/e', { type: 'int8', rowShape: [] }), H5Error);
  assert.throws(() => r.setAttribute('/', 'a', 'b'), H5Error);
  assert.deepEqual(r.read('/d').data, Buffer.from([1]));
  r.close();
});

test('use after close throws H5_ERR_CLOSED; close is idempotent; a file closes its datasets', () => {
  const dir = tempDir();
  const path = join(dir, 'closed.h5');
  const file = H5File.create(path);
  const a = file.createNumericDataset('/a', { type: 'float32', rowShape: [] });
  const b = file.createStringDataset('/b');
  const c = file.createBitshuffleDataset('/c', { type: 'uint16', rowShape: [4] });
  a.append(new Float32Array([1]));
  a.close();
  a.close();
  assert.equal(a.closed, true);
  assert.throws(() => a.append(new Float32Array([1])), { name: 'H5Error', code: 'H5_ERR_CLOSED' });
  assert.throws(() => a.rows, { code: 'H5_ERR_CLOSED' });
  b.append(['x']);
  file.close();
  file.close();
  assert.equal(file.closed, true);
  assert.equal(b.closed, true);
  assert.equal(c.closed, true);
  assert.throws(() => b.append(['y']), { name: 'H5Error', code: 'H5_ERR_CLOSED' });
  assert.throws(() => c.appendChunk(Buffer.alloc(20)), { code: 'H5_ERR_CLOSED' });
  assert.throws(() => c.resize(3), { code: 'H5_ERR_CLOSED' });
  b.close(); // still fine
  for (const use of [
    () => file.flush(),
    () => file.group('/g'),
    () => file.read('/a'),
    () => file.listGroup(),
    () => file.move('/a', '/z'),
    () => file.createNumericDataset('/n', { type: 'uint8', rowShape: [] }),
    () => file.setAttribute('/', 'x', 1),
  ]) {
    assert.throws(use, (e: unknown) => e instanceof H5Error && e.code === 'H5_ERR_CLOSED');
  }
  assert.ok(existsSync(path));
  const r = H5File.openReadOnly(path);
  assert.deepEqual(r.read('/b').data, ['x']);
  assert.deepEqual(r.read('/c').shape, [0, 4]);
  r.close();
});

test('after flush another process reads the data while the file stays open (as after GET /kill)', async () => {
  const dir = tempDir();
  const path = join(dir, 'flush.h5');
  const file = H5File.create(path);
  const ds = file.createNumericDataset('/data/ch/data', { type: 'int32', rowShape: [1] });
  const s = file.createStringDataset('/data/s/data');
  ds.append(new Int32Array([1, 2, 3]));
  s.append(['a', 'b']);
  file.flush();
  // HDF5 1.10 locks files it has open for writing; a reader elsewhere must opt out.
  const saved = process.env['HDF5_USE_FILE_LOCKING'];
  process.env['HDF5_USE_FILE_LOCKING'] = 'FALSE';
  try {
    const r = await h5py<{ d: number[][]; s: string[] }>(path, `f = h5py.File(path, 'r')\nresult = dict(d=f['/data/ch/data'][()], s=list(f['/data/s/data'].asstr()[()]))`);
    assert.deepEqual(r, { d: [[1], [2], [3]], s: ['a', 'b'] });
  } finally {
    if (saved === undefined) delete process.env['HDF5_USE_FILE_LOCKING'];
    else process.env['HDF5_USE_FILE_LOCKING'] = saved;
  }
  ds.append(new Int32Array([4]));
  file.close();
});

test('create refuses a path that is a symbolic link, with or without overwrite; the target is untouched', () => {
  const dir = mkdtempSync(join(tmpdir(), 'h5-symlink-'));
  try {
    const target = join(dir, 'precious.dat');
    writeFileSync(target, 'do not touch');
    const link = join(dir, 'out.h5');
    symlinkSync(target, link);
    for (const overwrite of [false, true]) {
      assert.throws(
        () => H5File.create(link, { overwrite }),
        (e: unknown) => e instanceof BsreadError && e.code === 'BSREAD_ERR_OUTPUT_PATH' && /symbolic link/.test(e.message),
      );
    }
    assert.equal(readFileSync(target, 'utf8'), 'do not touch');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
