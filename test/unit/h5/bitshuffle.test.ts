// Bitshuffle datasets filled by direct chunk write from bitshuffle_lz4 blobs (protocol §6.2),
// read back bit-exact with h5py (filter 32008 from Debian's plugin) and through our layer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { H5File, elementSize, type NumericType } from '../../../src/h5/index.js';
import { bitshuffleLz4Compress } from '../../../src/bsread/compression.js';
import { DEBIAN_PYTHON, h5py } from '../../helpers/h5py.js';
import { tempDir } from './util.js';

interface Case {
  type: NumericType;
  rowShape: number[];
  rows: number;
}

const CASES: Case[] = [
  { type: 'uint16', rowShape: [4, 5], rows: 3 },
  { type: 'float64', rowShape: [1], rows: 4 }, // fewer than 8 elements: header + raw tail only
  { type: 'int32', rowShape: [], rows: 2 },
  { type: 'uint8', rowShape: [1000], rows: 3 }, // one 1000-element block (B = 8192)
  { type: 'int64', rowShape: [3000], rows: 2 }, // 2 full blocks of 1024, one of 952
  { type: 'float32', rowShape: [7, 9], rows: 2 }, // 63 elements: one 56-element block + 7 tail
  { type: 'int8', rowShape: [20000], rows: 1 },
  { type: 'uint32', rowShape: [3], rows: 2 },
  { type: 'int16', rowShape: [2, 2], rows: 2 },
  { type: 'uint64', rowShape: [9], rows: 2 },
];

/**
 * Compresses rows with Debian's python bitshuffle (libbitshuffle 0.3.5). Its compress_lz4 returns
 * the compressed blocks only; the 12-byte header (§6.2: total bytes u64 BE, block bytes u32 BE,
 * block = default 8192 bytes) is added here, as the HDF5 filter and bsread senders do.
 */
function pythonBlobs(rows: { type: NumericType; hex: string }[]): Buffer[] {
  const program = `
import sys, json, numpy as np, bitshuffle
rows = json.loads(sys.stdin.read())
out = []
for r in rows:
    a = np.frombuffer(bytes.fromhex(r['hex']), dtype=np.dtype(r['type']).newbyteorder('<'))
    body = bitshuffle.compress_lz4(a, 0).tobytes()
    block = max(128, (8192 // a.itemsize) // 8 * 8) * a.itemsize
    out.append((a.nbytes.to_bytes(8, 'big') + block.to_bytes(4, 'big') + body).hex())
print(json.dumps(out))
`;
  const stdout = execFileSync(DEBIAN_PYTHON, ['-c', program], { input: JSON.stringify(rows), maxBuffer: 256 * 1024 * 1024 });
  return (JSON.parse(stdout.toString()) as string[]).map((h) => Buffer.from(h, 'hex'));
}

test('bitshuffle_lz4 blobs written as chunks read back bit-exact with h5py and our layer', async () => {
  const dir = tempDir();
  const path = join(dir, 'bitshuffle.h5');
  const file = H5File.create(path);
  const expected = new Map<string, { c: Case; raw: Buffer }>();
  for (const c of CASES) {
    const name = `/data/${c.type}/data`;
    const ds = file.createBitshuffleDataset(name, { type: c.type, rowShape: c.rowShape });
    const rowBytes = elementSize(c.type) * c.rowShape.reduce((a, b) => a * b, 1);
    const raws = Array.from({ length: c.rows }, (_, i) => (i === 0 ? Buffer.alloc(rowBytes, 0) : randomBytes(rowBytes)));
    // Make one row compressible so LZ4 really compresses something.
    if (raws.length > 1) raws[1]!.fill(7, 0, Math.floor(rowBytes / 2));
    const blobs = pythonBlobs(raws.map((r) => ({ type: c.type, hex: r.toString('hex') })));
    assert.equal(ds.appendChunk(blobs[0]!), 1);
    assert.equal(ds.appendChunks(blobs.slice(1)), c.rows);
    expected.set(name, { c, raw: Buffer.concat(raws) });
    const f = file.filters(name);
    assert.equal(f.length, 1);
    assert.equal(f[0]!.id, 32008);
    assert.equal(f[0]!.flags, 0, 'mandatory');
    assert.deepEqual(f[0]!.cdValues.slice(2), [elementSize(c.type), 0, 2]);
    assert.deepEqual(file.info(name).chunkShape, [1, ...c.rowShape]);
  }
  // Through our own layer (libhdf5 loads the plugin to decompress).
  for (const [name, e] of expected) {
    const r = file.read(name);
    assert.deepEqual(r.shape, [e.c.rows, ...e.c.rowShape]);
    assert.ok(e.raw.equals(r.data as Buffer), name);
  }
  file.close();
  const py = await h5py<Record<string, { hex: string; shape: number[]; filters: string[]; chunks: number[] }>>(
    path,
    `
f = h5py.File(path, 'r')
result = {}
for n in ${JSON.stringify([...expected.keys()])}:
    d = f[n]
    result[n] = dict(hex=d[()].tobytes().hex(), shape=list(d.shape), filters=list(d._filters.keys()), chunks=list(d.chunks))
`,
  );
  for (const [name, e] of expected) {
    assert.equal(py[name]!.hex, e.raw.toString('hex'), name);
    assert.deepEqual(py[name]!.shape, [e.c.rows, ...e.c.rowShape]);
    assert.deepEqual(py[name]!.filters, ['32008']);
    assert.deepEqual(py[name]!.chunks, [1, ...e.c.rowShape]);
  }
});

test('blobs from our own bitshuffleLz4Compress (a 1024x1024 uint16 image); grown rows read as 0', async () => {
  const dir = tempDir();
  const path = join(dir, 'image.h5');
  const file = H5File.create(path);
  const ds = file.createBitshuffleDataset('/data/cam/data', { type: 'uint16', rowShape: [1024, 1024] });
  const img = new Uint16Array(1024 * 1024);
  for (let i = 0; i < img.length; i++) img[i] = (i * 2654435761) >>> 20;
  const raw = Buffer.from(img.buffer);
  const blob = bitshuffleLz4Compress(raw, 2);
  assert.ok(blob.length < raw.length);
  ds.appendChunk(blob);
  ds.resize(2); // a missing value: fill rows
  ds.appendChunks([blob]);
  assert.equal(ds.rows, 3);
  file.close();
  const r = await h5py<{ same0: boolean; zero1: boolean; same2: boolean; shape: number[] }>(
    path,
    `
import hashlib
d = h5py.File(path, 'r')['/data/cam/data']
a = d[()]
result = dict(shape=list(a.shape), same0=hashlib.sha256(a[0].tobytes()).hexdigest() == '${createHash('sha256').update(raw).digest('hex')}',
              zero1=int(np.count_nonzero(a[1])) == 0, same2=bool((a[0] == a[2]).all()))
`,
  );
  assert.deepEqual(r, { shape: [3, 1024, 1024], same0: true, zero1: true, same2: true });
});

test('bad blobs are refused before anything is written', () => {
  const file = H5File.createInMemory();
  const ds = file.createBitshuffleDataset('/b', { type: 'float32', rowShape: [16] });
  const good = bitshuffleLz4Compress(Buffer.alloc(64, 1), 4);
  const wrongSize = bitshuffleLz4Compress(Buffer.alloc(60, 1), 4);
  assert.throws(() => ds.appendChunk(Buffer.alloc(5)), { name: 'H5Error', code: 'H5_ERR', message: /12-byte/ });
  assert.throws(() => ds.appendChunk(wrongSize), { name: 'H5Error', code: 'H5_ERR', message: /does not match the row size 64/ });
  assert.throws(() => ds.appendChunks([good, wrongSize]), { name: 'H5Error' });
  const badBlock = Buffer.from(good);
  badBlock.writeUInt32BE(12, 8); // 3 elements: not a multiple of 8
  assert.throws(() => ds.appendChunk(badBlock), { name: 'H5Error', message: /block size/ });
  assert.throws(() => ds.appendChunks(['x' as unknown as Buffer]), TypeError);
  assert.equal(ds.rows, 0);
  assert.equal(ds.appendChunks([good, good]), 2);
  assert.deepEqual(file.read('/b').data, Buffer.concat([Buffer.alloc(64, 1), Buffer.alloc(64, 1)]));
  file.close();
});
