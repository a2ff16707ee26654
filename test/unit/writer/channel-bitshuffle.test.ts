// The bitshuffle direct-chunk writer: compressed image rows written as received (filter 32008,
// one row per chunk), missing rows in between reading as zeros; read back bit-exact by h5py and
// our layer. Also the decompressing alternative, and big-endian channels (always decompressed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { H5File } from '../../../src/h5/index.js';
import { h5py } from '../../helpers/h5py.js';
import { message, tempDir, writeFile } from './format-util.js';
import type { BitshuffleStorage } from '../../../src/writer/swissfel-file.js';

const W = Number(process.env['SF_TEST_IMAGE'] ?? 256);
const H = W;

function image(seed: number): Uint16Array {
  const a = new Uint16Array(W * H);
  let x = (seed * 2654435761) >>> 0;
  for (let k = 0; k < a.length; k++) {
    // Smooth background plus noise: compressible, but not trivially.
    x = (x * 1103515245 + 12345) >>> 0;
    a[k] = ((k % W) + (Math.floor(k / W) >> 1) + (x >>> 28)) & 0xffff;
  }
  return a;
}

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

for (const [storage, filters] of [
  ['direct', [32008]],
  ['decompress', []],
] as [BitshuffleStorage, number[]][]) {
  test(`bitshuffle ${W}x${H} uint16 images, ${storage}: bit-exact in h5py, missing rows read as zeros`, async () => {
    const path = join(tempDir(), `img-${storage}.h5`);
    const present = [true, true, false, true, false, false, true];
    const msgs = present.map((p, k) =>
      message(1000 + k, [
        { def: { name: 'CAM:IMG', type: 'uint16', shape: [W, H], compression: 'bitshuffle_lz4' }, value: p ? { shape: [H, W], data: image(k) } : null },
        { def: { name: 'CAM:BE', type: 'uint16', shape: [8, 4], compression: 'bitshuffle_lz4', encoding: 'big' }, value: { shape: [4, 8], data: image(k).subarray(0, 32) } },
      ]),
    );
    writeFile(path, msgs, { bitshuffle: storage });
    const zeros = new Uint8Array(W * H * 2);
    const want = present.map((p, k) => md5(p ? new Uint8Array(image(k).buffer) : zeros));
    const r = await h5py<{ shape: number[]; chunks: number[]; filters: number[]; md5: string[]; be: string[]; beFilters: number[]; pid: number[] }>(
      path,
      `
import hashlib
f = h5py.File(path, 'r')
d = f['data/CAM:IMG/data']
p = d.id.get_create_plist()
b = f['data/CAM:BE/data']
bp = b.id.get_create_plist()
result = {'shape': list(d.shape), 'chunks': list(d.chunks), 'filters': [p.get_filter(k)[0] for k in range(p.get_nfilters())],
          'md5': [hashlib.md5(np.ascontiguousarray(d[k]).astype('<u2').tobytes()).hexdigest() for k in range(d.shape[0])],
          'be': [hashlib.md5(np.ascontiguousarray(b[k]).astype('<u2').tobytes()).hexdigest() for k in range(b.shape[0])],
          'beFilters': [bp.get_filter(k)[0] for k in range(bp.get_nfilters())],
          'pid': f['data/CAM:IMG/pulse_id'][()]}
`,
    );
    assert.deepEqual(r.shape, [present.length, H, W]);
    assert.deepEqual(r.filters, filters);
    if (storage === 'direct') assert.deepEqual(r.chunks, [1, H, W]);
    assert.deepEqual(r.md5, want);
    assert.deepEqual(
      r.pid,
      present.map((_, k) => 1000 + k),
    ); // value or not
    // Big-endian channels are decompressed (and converted) whatever the storage option.
    assert.deepEqual(r.beFilters, []);
    assert.deepEqual(
      r.be,
      present.map((_, k) => md5(new Uint8Array(image(k).slice(0, 32).buffer))),
    );
    // Our own layer reads the same bytes.
    const f = H5File.openReadOnly(path);
    try {
      const d = f.read('/data/CAM:IMG/data');
      const all = d.data as Buffer;
      assert.deepEqual(d.shape, [present.length, H, W]);
      present.forEach((_, k) => assert.equal(md5(all.subarray(k * W * H * 2, (k + 1) * W * H * 2)), want[k]));
    } finally {
      f.close();
    }
  });
}

test('a bitshuffle channel whose first value comes late: its earlier rows read as zeros', async () => {
  const path = join(tempDir(), 'late.h5');
  const def = { name: 'WF', type: 'float64' as const, shape: [5000], compression: 'bitshuffle_lz4' as const };
  const wf = (k: number) => Float64Array.from({ length: 5000 }, (_, j) => k * 10000 + j + 0.5);
  const msgs = [message(1, [{ def, value: null }]), message(2, [{ def, value: null }]), message(3, [{ def, value: wf(3) }]), message(4, [{ def, value: wf(4) }])];
  writeFile(path, msgs);
  const r = await h5py<{ shape: number[]; sums: number[]; filters: number[] }>(
    path,
    `
f = h5py.File(path, 'r')
d = f['data/WF/data']
p = d.id.get_create_plist()
result = {'shape': list(d.shape), 'sums': [float(d[k].sum()) for k in range(d.shape[0])], 'filters': [p.get_filter(k)[0] for k in range(p.get_nfilters())]}
`,
  );
  assert.deepEqual(r.shape, [4, 5000]);
  assert.deepEqual(r.filters, [32008]);
  const sum = (a: Float64Array) => a.reduce((s, v) => s + v, 0);
  assert.deepEqual(r.sums, [0, 0, sum(wf(3)), sum(wf(4))]);
});
