// Drop-behind (H5File.setDropBehind): image rows written whole leave the page cache a flush after
// they reached the disk; without it they stay cached. The page cache is read with util-linux's
// fincore; the data is read back with h5py afterwards (from disk: nothing may be lost by dropping).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, fdatasyncSync, openSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { H5File } from '../../../src/h5/index.js';
import { bitshuffleLz4Compress } from '../../../src/bsread/compression.js';
import { h5py } from '../../helpers/h5py.js';
import { tempDir } from './util.js';

const ROWS = 24;
const SHAPE = [512, 1024]; // uint16: 1 MiB per row, one chunk per row

function fincoreBytes(path: string): number | null {
  try {
    return Number(execFileSync('fincore', ['--bytes', '--noheadings', '--output', 'RES', path]).toString().trim());
  } catch {
    return null;
  }
}

/** Row r of the test image: distinct per row, partly compressible. */
function image(r: number): Uint16Array {
  const a = new Uint16Array(SHAPE[0]! * SHAPE[1]!);
  let x = r * 2654435761;
  for (let i = 0; i < a.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    a[i] = i % 4 === 0 ? x >>> 20 : r;
  }
  return a;
}

function onDisk(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes ROWS plain and ROWS bitshuffle rows, flushing as the writer does, and waits for the disk. */
function writeImages(path: string, drop: boolean): string {
  const file = H5File.create(path);
  file.setDropBehind(drop);
  const plain = file.createNumericDataset('/plain', { type: 'uint16', rowShape: SHAPE, chunkShape: [1, ...SHAPE] });
  const packed = file.createBitshuffleDataset('/packed', { type: 'uint16', rowShape: SHAPE });
  const hash = createHash('sha256');
  for (let r = 0; r < ROWS; r++) {
    const img = image(r);
    const bytes = new Uint8Array(img.buffer);
    hash.update(bytes);
    plain.append(bytes, 1);
    packed.appendChunk(bitshuffleLz4Compress(bytes, 2));
    // A flush every 8 rows; between flushes, all on disk (what the kernel's writeback does in
    // the second between two flushes of the writer).
    if (r % 8 === 7) {
      file.flush();
      onDisk(path);
    }
  }
  file.flush(); // drops the rows of the last interval
  file.close();
  return hash.digest('hex');
}

test('drop-behind: written image chunks leave the page cache, the data reads back intact', async (t) => {
  const dir = tempDir();
  if (fincoreBytes('/proc/self/exe') === null) {
    t.skip('fincore (util-linux) is not available');
    return;
  }
  const kept = join(dir, 'kept.h5');
  const dropped = join(dir, 'dropped.h5');
  const sumKept = writeImages(kept, false);
  const sumDropped = writeImages(dropped, true);
  assert.equal(sumKept, sumDropped);

  const size = statSync(dropped).size;
  assert.ok(size > ROWS * 1024 * 1024, `file of ${size} bytes holds the plain rows`);
  const cachedKept = fincoreBytes(kept)!;
  // The pages are dropped on a thread of the addon's after the flush: give it a moment.
  let cachedDropped = fincoreBytes(dropped)!;
  for (let i = 0; i < 50 && cachedDropped >= 0.2 * size; i++) {
    await new Promise((r) => setTimeout(r, 100));
    cachedDropped = fincoreBytes(dropped)!;
  }
  // Without drop-behind nearly the whole file is cached; with it, little more than metadata and
  // the chunks of the last interval.
  assert.ok(cachedKept > 0.8 * statSync(kept).size, `kept: ${cachedKept} of ${statSync(kept).size} bytes cached`);
  assert.ok(cachedDropped < 0.2 * size, `dropped: ${cachedDropped} of ${size} bytes still cached`);

  // Read back from disk by an independent reader: same rows, same bytes.
  const r = await h5py<{ plain: string; packed: string; shape: number[] }>(
    dropped,
    `
import hashlib
with h5py.File(path, 'r') as f:
    a = f['plain'][()]
    h = hashlib.sha256()
    for row in a: h.update(row.astype('<u2').tobytes())
    b = f['packed'][()]
    h2 = hashlib.sha256()
    for row in b: h2.update(row.astype('<u2').tobytes())
    result = {'plain': h.hexdigest(), 'shape': list(a.shape), 'packed': h2.hexdigest()}
`,
  );
  assert.deepEqual(r.shape, [ROWS, ...SHAPE]);
  assert.equal(r.plain, sumDropped);
  assert.equal(r.packed, sumDropped);
});
