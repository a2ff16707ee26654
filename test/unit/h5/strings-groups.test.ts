// Variable-length strings, /general-style scalar strings, attributes, groups, move.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { H5File } from '../../../src/h5/index.js';
import { h5py } from '../../helpers/h5py.js';
import { tempDir } from './util.js';

test('vlen UTF-8 strings append in batches and read back (non-ASCII, empty, long)', async () => {
  const dir = tempDir();
  const path = join(dir, 'strings.h5');
  const file = H5File.create(path);
  const ds = file.createStringDataset('/data/STR:CH-1.x/data', { chunkRows: 2 });
  const batches = [['a'], ['', 'héllo wörld', '日本語 ✓ 🚀'], [], ['x'.repeat(10000), 'line\nbreak', 'tab\tend']];
  const all = batches.flat();
  let rows = 0;
  for (const b of batches) {
    rows += b.length;
    assert.equal(ds.append(b), rows);
  }
  assert.deepEqual(file.read('/data/STR:CH-1.x/data'), { type: 'vlen_string', shape: [all.length], data: all });
  ds.resize(2);
  ds.append(['after']);
  file.close();
  const r = await h5py<{ v: string[]; vlen: boolean; maxshape: (number | null)[]; utf8: boolean }>(
    path,
    `
d = h5py.File(path, 'r')['/data/STR:CH-1.x/data']
info = h5py.check_string_dtype(d.dtype)
result = dict(v=list(d.asstr()[()]), vlen=info.length is None, utf8=info.encoding == 'utf-8', maxshape=list(d.maxshape))
`,
  );
  assert.deepEqual(r.v, ['a', '', 'after']);
  assert.equal(r.vlen, true);
  assert.equal(r.utf8, true);
  assert.deepEqual(r.maxshape, [null]);
});

test('a string is stored up to its first NUL', () => {
  const file = H5File.createInMemory();
  const ds = file.createStringDataset('/s');
  ds.append(['ab\0cd', '\0']);
  assert.deepEqual(file.read('/s').data, ['ab', '']);
  file.close();
});

test('/general scalar strings: fixed length = byte length, NULLPAD; h5py sees bytes', async () => {
  const dir = tempDir();
  const path = join(dir, 'general.h5');
  const file = H5File.create(path);
  file.writeScalarString('/general/created', '2024-01-02 03:04:05.123456');
  file.writeScalarString('/general/user', 'not given');
  file.writeScalarString('/general/process', 'wörld');
  file.writeScalarString('/general/instrument', '');
  assert.deepEqual(file.read('/general/user'), { type: 'fixed_string', shape: [], data: ['not given'] });
  assert.equal(file.info('/general/created').elementSize, 26);
  assert.deepEqual(file.read('/general/process').data, ['wörld']);
  file.close();
  const r = await h5py<Record<string, { isBytes: boolean; len: number; dtype: string; hex: string; pad: string; cset: string; shape: number[] }>>(
    path,
    `
f = h5py.File(path, 'r')
result = {}
for n in ['created', 'user', 'process', 'instrument']:
    d = f['general'][n]
    v = d[()]
    t = d.id.get_type()
    result[n] = dict(isBytes=isinstance(v, bytes), len=len(v), dtype=d.dtype.str, hex=v.hex(), shape=list(d.shape),
                     pad={0: 'nullterm', 1: 'nullpad', 2: 'spacepad'}[t.get_strpad()], cset={0: 'ascii', 1: 'utf8'}[t.get_cset()])
`,
  );
  assert.deepEqual(r['created'], {
    isBytes: true,
    len: 26,
    dtype: '|S26',
    hex: Buffer.from('2024-01-02 03:04:05.123456').toString('hex'),
    pad: 'nullpad',
    cset: 'ascii',
    shape: [],
  });
  assert.equal(r['user']!.hex, Buffer.from('not given').toString('hex'));
  assert.equal(r['user']!.dtype, '|S9');
  assert.equal(r['process']!.hex, Buffer.from('wörld').toString('hex'));
  assert.equal(r['process']!.len, 6);
  assert.equal(r['process']!.cset, 'utf8');
  assert.equal(r['instrument']!.dtype, '|S1');
  assert.equal(r['instrument']!.len, 0);
});

test('attributes on the root, a group and a dataset; replaced on rewrite', async () => {
  const dir = tempDir();
  const path = join(dir, 'attrs.h5');
  const file = H5File.create(path);
  file.group('/data/ch');
  const ds = file.createNumericDataset('/data/ch/data', { type: 'float64', rowShape: [1] });
  file.setAttribute('/', 'version', 'sf-bsread 0.1 ✓');
  file.setAttribute('/', 'count', 5n);
  file.setAttribute('/', 'count', -(2n ** 63n)); // replaces
  file.setAttribute('/data/ch', 'rate', 100.5);
  file.setAttribute('/data/ch/data', 'shape', new Int32Array([1024, 1280]));
  file.setAttribute('/data/ch/data', 'u64', new BigUint64Array([2n ** 64n - 1n]));
  file.setAttribute('/data/ch/data', 'bytes', Buffer.from([1, 2, 3]));
  file.setAttribute('/data/ch/data', 'empty', new Float32Array(0));
  assert.deepEqual(file.attributes('/'), { count: -(2n ** 63n), version: 'sf-bsread 0.1 ✓' });
  assert.deepEqual(file.attributes('/data/ch'), { rate: 100.5 });
  const a = file.attributes('/data/ch/data');
  assert.deepEqual(a['shape'], new Int32Array([1024, 1280]));
  assert.deepEqual(a['u64'], new BigUint64Array([2n ** 64n - 1n]));
  assert.deepEqual(a['bytes'], new Uint8Array([1, 2, 3]));
  assert.deepEqual(a['empty'], new Float32Array(0));
  ds.close();
  file.close();
  const r = await h5py<Record<string, unknown>>(
    path,
    `
f = h5py.File(path, 'r')
a = f['/data/ch/data'].attrs
result = dict(version=f.attrs['version'], count=str(f.attrs['count']), rate=f['/data/ch'].attrs['rate'],
              shape=a['shape'], shapeType=a['shape'].dtype.str, u64=str(a['u64'][0]), bytes=a['bytes'], countType=f.attrs['count'].dtype.str)
`,
  );
  assert.deepEqual(r, {
    version: 'sf-bsread 0.1 ✓',
    count: '-9223372036854775808',
    countType: '<i8',
    rate: 100.5,
    shape: [1024, 1280],
    shapeType: '<i4',
    u64: '18446744073709551615',
    bytes: [1, 2, 3],
  });
});

test('groups with ":", "-", "." and nested parents; exists, kind, listGroup', () => {
  const file = H5File.createInMemory();
  file.group('/data/SARFE10-PSSS059:SPECTRUM-X.v2/sub');
  file.group('/data/SARFE10-PSSS059:SPECTRUM-X.v2'); // existing: fine
  file.createNumericDataset('/data/a.b/c-d:e/data', { type: 'uint8', rowShape: [] }); // parents created
  assert.equal(file.exists('/data/SARFE10-PSSS059:SPECTRUM-X.v2/sub'), true);
  assert.equal(file.exists('/data/nope/deeper'), false);
  assert.equal(file.exists('/'), true);
  assert.equal(file.kind('/data'), 'group');
  assert.equal(file.kind('/data/a.b/c-d:e/data'), 'dataset');
  assert.equal(file.kind('/missing'), 'none');
  assert.deepEqual(file.listGroup('/data'), ['SARFE10-PSSS059:SPECTRUM-X.v2', 'a.b']);
  assert.deepEqual(file.listGroup(), ['data']);
  file.close();
});

test('move renames a dataset (data -> data(1)); its open handle keeps writing to it', async () => {
  const dir = tempDir();
  const path = join(dir, 'move.h5');
  const file = H5File.create(path);
  const old = file.createNumericDataset('/data/ch/data', { type: 'int64', rowShape: [1] });
  old.append(new BigInt64Array([0n, 1n]));
  file.move('/data/ch/data', '/data/ch/data(1)');
  const fresh = file.createNumericDataset('/data/ch/data', { type: 'int64', rowShape: [2] });
  fresh.resize(2);
  fresh.append(new BigInt64Array([2n, 2n]));
  old.append(new BigInt64Array([7n]));
  file.move('/data/ch/data', '/data/other/data(2)'); // into a group that does not exist yet
  assert.deepEqual(file.listGroup('/data/ch'), ['data(1)']);
  file.close();
  const r = await h5py<Record<string, number[][]>>(
    path,
    `
f = h5py.File(path, 'r')
result = {'1': f['/data/ch/data(1)'][()], '2': f['/data/other/data(2)'][()]}
`,
  );
  assert.deepEqual(r, {
    '1': [[0], [1], [7]],
    '2': [
      [0, 0],
      [0, 0],
      [2, 2],
    ],
  });
});
