// Numeric datasets: every bsread type × row shapes [] / [1] / [3] / [4,5], appended in several
// batches, read back bit-exact through our layer and through h5py.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { H5File, NUMERIC_TYPES, elementSize, type NumericType } from '../../../src/h5/index.js';
import { h5py } from '../../helpers/h5py.js';
import { tempDir } from './util.js';

const ROW_SHAPES: number[][] = [[], [1], [3], [4, 5]];
const BATCHES = [1, 3, 0, 2, 5]; // 11 rows, chunks of 4 rows: crosses chunk boundaries
const NUMPY: Record<NumericType, string> = {
  int8: '|i1',
  uint8: '|u1',
  int16: '<i2',
  uint16: '<u2',
  int32: '<i4',
  uint32: '<u4',
  int64: '<i8',
  uint64: '<u8',
  float32: '<f4',
  float64: '<f8',
};

interface PyInfo {
  dtype: string;
  shape: number[];
  maxshape: (number | null)[];
  chunks: number[] | null;
  fill: number;
  hex: string;
}

test('every numeric type and row shape round-trips through our layer and h5py', async () => {
  const dir = tempDir();
  const path = join(dir, 'numeric.h5');
  const expected = new Map<string, { type: NumericType; shape: number[]; bytes: Buffer }>();
  const file = H5File.create(path);
  for (const type of NUMERIC_TYPES) {
    for (const rowShape of ROW_SHAPES) {
      const name = `/data/${type}-${rowShape.join('x') || 'scalar'}/data`;
      const ds = file.createNumericDataset(name, { type, rowShape, chunkRows: 4 });
      const rowBytes = elementSize(type) * rowShape.reduce((a, b) => a * b, 1);
      assert.equal(ds.rowBytes, rowBytes);
      const parts: Buffer[] = [];
      let rows = 0;
      for (const n of BATCHES) {
        const bytes = randomBytes(n * rowBytes);
        parts.push(bytes);
        rows += n;
        assert.equal(ds.append(bytes, n), rows);
        assert.equal(ds.rows, rows);
      }
      expected.set(name, { type, shape: [rows, ...rowShape], bytes: Buffer.concat(parts) });
    }
  }
  // Read back while the datasets are still open, then after closing.
  for (const [name, e] of expected) {
    const r = file.read(name);
    assert.equal(r.type, e.type, name);
    assert.deepEqual(r.shape, e.shape, name);
    assert.ok(Buffer.isBuffer(r.data));
    assert.ok(e.bytes.equals(r.data), name);
  }
  file.close();

  const again = H5File.openReadOnly(path);
  for (const [name, e] of expected) {
    const r = again.read(name);
    assert.ok(e.bytes.equals(r.data as Buffer), name);
    const info = again.info(name);
    assert.deepEqual(info.maxShape, [Infinity, ...e.shape.slice(1)]);
    assert.deepEqual(info.chunkShape, [4, ...e.shape.slice(1)]);
  }
  again.close();

  const names = [...expected.keys()];
  const py = await h5py<Record<string, PyInfo>>(
    path,
    `
f = h5py.File(path, 'r')
result = {}
for n in ${JSON.stringify(names)}:
    d = f[n]
    result[n] = dict(dtype=d.dtype.str, shape=list(d.shape), maxshape=list(d.maxshape), chunks=list(d.chunks) if d.chunks else None,
                     fill=int(d.fillvalue) if d.dtype.kind in 'iu' else float(d.fillvalue), hex=d[()].tobytes().hex())
`,
  );
  for (const [name, e] of expected) {
    const p = py[name]!;
    assert.equal(p.dtype, NUMPY[e.type], name);
    assert.deepEqual(p.shape, e.shape, name);
    assert.deepEqual(p.maxshape, [null, ...e.shape.slice(1)], name);
    assert.deepEqual(p.chunks, [4, ...e.shape.slice(1)], name);
    assert.equal(p.fill, 0, name);
    assert.equal(p.hex, e.bytes.toString('hex'), name);
  }
});

test("values are little-endian as h5py interprets them; bool is h5py's boolean (numpy bool)", async () => {
  const dir = tempDir();
  const path = join(dir, 'values.h5');
  const file = H5File.create(path);
  file.createNumericDataset('/i16', { type: 'int16', rowShape: [] }).append(new Int16Array([1, -2, 258, -32768, 32767]));
  file.createNumericDataset('/u64', { type: 'uint64', rowShape: [1] }).append(new BigUint64Array([0n, 2n ** 64n - 1n]));
  file.createNumericDataset('/i64', { type: 'int64', rowShape: [2] }).append(new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n]));
  file.createNumericDataset('/f32', { type: 'float32', rowShape: [] }).append(new Float32Array([1.5, -0.25]));
  file.createNumericDataset('/f64', { type: 'float64', rowShape: [] }).append(new Float64Array([Math.PI, -1e300]));
  const b = file.createNumericDataset('/bool', { type: 'bool', rowShape: [] });
  b.append(Uint8Array.from([1, 0, 1]));
  assert.equal(file.read('/bool').type, 'bool');
  assert.deepEqual([...(file.read('/bool').data as Buffer)], [1, 0, 1]);
  file.close();
  const r = await h5py<Record<string, { dtype: string; v: unknown; s: string }> & { bool_mask?: number[] }>(
    path,
    `
f = h5py.File(path, 'r')
result = {n: dict(dtype=f[n].dtype.str, v=f[n][()], s=str(f[n][()].tolist())) for n in ['i16','u64','i64','f32','f64','bool']}
result['bool_mask'] = np.arange(3)[f['bool'][()]].tolist()
`,
  );
  assert.deepEqual(r['i16']!.v, [1, -2, 258, -32768, 32767]);
  assert.equal(r['u64']!.s, '[[0], [18446744073709551615]]');
  assert.equal(r['i64']!.s, '[[-9223372036854775808, 9223372036854775807]]');
  assert.deepEqual(r['f32']!.v, [1.5, -0.25]);
  assert.deepEqual(r['f64']!.v, [Math.PI, -1e300]);
  assert.equal(r['bool']!.dtype, '|b1');
  assert.deepEqual(r['bool']!.v, [true, false, true]);
  // What analysis code does with it: a mask selects, it does not index.
  assert.deepEqual(r['bool_mask'], [0, 2]);
});

test('append takes all whole rows when rows is omitted; an empty append is a no-op', () => {
  const file = H5File.createInMemory();
  const ds = file.createNumericDataset('/d', { type: 'uint16', rowShape: [2, 3] });
  assert.equal(ds.append(new Uint16Array(12)), 2);
  assert.equal(ds.append(Buffer.alloc(0)), 2);
  assert.equal(ds.append(Buffer.alloc(0), 0), 2);
  assert.deepEqual(file.read('/d').shape, [2, 2, 3]);
  // Default chunking: up to 100 rows, at most ~1 MiB per chunk.
  assert.deepEqual(file.info('/d').chunkShape, [100, 2, 3]);
  const img = file.createNumericDataset('/img', { type: 'uint16', rowShape: [1024, 1024] });
  assert.deepEqual(file.info('/img').chunkShape, [1, 1024, 1024]);
  img.close();
  const custom = file.createNumericDataset('/c', { type: 'float32', rowShape: [8, 8], chunkShape: [2, 4, 8] });
  assert.deepEqual(file.info('/c').chunkShape, [2, 4, 8]);
  custom.append(new Float32Array(3 * 64));
  assert.equal(custom.rows, 3);
  file.close();
});

test('resize truncates and grows with fill value 0; appends continue after the new end', async () => {
  const dir = tempDir();
  const path = join(dir, 'resize.h5');
  const file = H5File.create(path);
  const ds = file.createNumericDataset('/data/ch/data', { type: 'int32', rowShape: [1], chunkRows: 3 });
  ds.append(new Int32Array([1, 2, 3, 4, 5, 6, 7]));
  ds.resize(4);
  assert.equal(ds.rows, 4);
  assert.deepEqual([...new Int32Array(new Uint8Array(file.read('/data/ch/data').data as Buffer).buffer)], [1, 2, 3, 4]);
  ds.resize(6);
  ds.append(new Int32Array([9]));
  assert.equal(ds.rows, 7);
  file.close();
  const v = await h5py<number[][]>(path, `result = h5py.File(path, 'r')['/data/ch/data'][()]`);
  assert.deepEqual(v, [[1], [2], [3], [4], [0], [0], [9]]);
});

test("enums written by others read as their base integers; only h5py's FALSE/TRUE enum is 'bool'", async () => {
  const path = join(tempDir(), 'enums.h5');
  await h5py(
    path,
    `f = h5py.File(path, 'w')
state = h5py.enum_dtype({'OFF': 0, 'ON': 1, 'ERR': 2}, basetype='i1')
f.create_dataset('state', data=np.array([0, 2, 1], dtype='i1'), dtype=state)
f.create_dataset('flag', data=np.array([True, False]))
f.close()
result = None`,
  );
  const file = H5File.openReadOnly(path);
  try {
    const state = file.read('/state');
    assert.equal(state.type, 'int8');
    assert.deepEqual([...new Int8Array((state.data as Buffer).buffer, (state.data as Buffer).byteOffset, 3)], [0, 2, 1]);
    const flag = file.read('/flag');
    assert.equal(flag.type, 'bool');
    assert.deepEqual([...(flag.data as Buffer)], [1, 0]);
  } finally {
    file.close();
  }
});
