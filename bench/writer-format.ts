// The SwissFEL format module (src/writer/swissfel-file.ts) on its hot paths, each against a
// plain fs.writeSync of the same bytes measured in the same run:
// (a) 1000 float64 scalar channels per message (goal >= 5 M values/s), as a list of frames and
//     packed (one block + offsets, as the addon's receivers deliver them: the scalar batch);
// (b) 1024x1024 uint16 images, uncompressed (goal >= 80% of the baseline);
// (c) bitshuffle_lz4 images stored by direct chunk write (goal >= 90% of the baseline).
// The timing covers SwissFelFile.write() of every message plus close(); building and opening
// the messages (the receiver's work) is outside it. Files go to os.tmpdir().
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BsreadReceiver, encodeMainHeader, encodeValue, prepareDataHeader, resolveChannelDef, type BsreadMessage, type ChannelDefInput } from '../src/bsread/index.js';
import { packFrames } from '../src/transport/index.js';
import { PackedFrameList } from '../src/transport/frame-list.js';
import { SwissFelFile } from '../src/writer/swissfel-file.js';
import { syntheticImage } from './compression.js';
import type { BenchOptions, BenchRow } from './table.js';

function now(): bigint {
  return process.hrtime.bigint();
}

/** Seconds to write `total` bytes in `block`-byte writes with fs.writeSync (open and close inside). */
function fileWrite(path: string, block: Uint8Array, total: number): number {
  const t0 = now();
  const fd = openSync(path, 'w');
  let left = total;
  while (left > 0) {
    const n = Math.min(left, block.length);
    writeSync(fd, block, 0, n);
    left -= n;
  }
  closeSync(fd);
  const s = Number(now() - t0) / 1e9;
  rmSync(path);
  return s;
}

/**
 * Writes `count` messages made by `frames(k)` (value frames per channel) into a new file and
 * returns the seconds spent in write() and close().
 */
function writeMessages(path: string, defs: ChannelDefInput[], count: number, values: (k: number) => Buffer[], packed = false): number {
  const resolved = defs.map((d) => resolveChannelDef(d));
  const header = prepareDataHeader(resolved);
  const receiver = new BsreadReceiver();
  const ts = Buffer.alloc(16);
  const f = SwissFelFile.create({ path, overwrite: true });
  let ns = 0n;
  for (let k = 0; k < count; k++) {
    const v = values(k);
    const frames: Buffer[] = new Array<Buffer>(2 + 2 * v.length);
    frames[0] = encodeMainHeader(1_000_000 + k, { sec: 1700000000, ns: 0 }, header.hash, 'none');
    frames[1] = header.frame;
    for (let i = 0; i < v.length; i++) {
      frames[2 + 2 * i] = v[i]!;
      frames[3 + 2 * i] = ts;
    }
    // packed: one block plus frame offsets, as the addon's receivers deliver every message.
    const p = packed ? packFrames(frames) : null;
    const list = p !== null ? PackedFrameList.from(p.data, p.offsets) : frames;
    if (typeof list === 'string') throw new Error(list);
    const msg = receiver.open(list) as BsreadMessage;
    const t0 = now();
    f.write(msg);
    ns += now() - t0;
  }
  const t0 = now();
  f.close();
  ns += now() - t0;
  return Number(ns) / 1e9;
}

export async function run(opts: BenchOptions): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'sf-bsread-bench-writer-'));
  const rows: BenchRow[] = [];
  try {
    // (a) 1000 float64 scalar channels.
    {
      const channels = 1000;
      const count = opts.quick ? 2000 : 10_000;
      const defs: ChannelDefInput[] = Array.from({ length: channels }, (_, i) => ({ name: `SCALAR:CH${i}`, type: 'float64' }));
      // 16 sets of value frames, rotated (distinct values, no per-message encoding cost).
      const sets = Array.from({ length: 16 }, (_, s) => Array.from({ length: channels }, (_, i) => Buffer.from(new Float64Array([s * 1000 + i + 0.25]).buffer)));
      const values = channels * count;
      // The same bytes: 8 (value) + 8 (pulse_id) + 1 (is_data_present) per value.
      const base = fileWrite(join(dir, 'scalars.bin'), Buffer.alloc(1 << 20, 7), values * 17);
      // As a list of frames, then packed as the receivers deliver them (the scalar batch's path).
      for (const packed of [false, true]) {
        writeMessages(join(dir, 'warm-a.h5'), defs, 200, (k) => sets[k % 16]!, packed);
        const secs = writeMessages(join(dir, 'scalars.h5'), defs, count, (k) => sets[k % 16]!, packed);
        const ours = values / secs / 1e6;
        rows.push({
          measure: `writer: ${channels} float64 scalar channels x ${count} messages${packed ? ', packed as the receivers deliver them' : ''}`,
          ours,
          baseline: values / base / 1e6,
          baselineName: 'fs.writeSync of the same bytes (17 B per value)',
          unit: 'M values/s',
          goal: '>= 5 M values/s',
          met: ours >= 5,
        });
        rmSync(join(dir, 'scalars.h5'));
      }
    }

    const img = syntheticImage(1024, 1024);
    const raw = Buffer.from(img.buffer, img.byteOffset, img.byteLength);

    // (b) Uncompressed 1024x1024 uint16 images.
    {
      const count = opts.quick ? 50 : 300;
      const defs: ChannelDefInput[] = [{ name: 'CAM:IMAGE', type: 'uint16', shape: [1024, 1024] }];
      writeMessages(join(dir, 'warm-b.h5'), defs, 5, () => [raw]);
      fileWrite(join(dir, 'warm.bin'), raw, raw.length * 5);
      const secs = writeMessages(join(dir, 'images.h5'), defs, count, () => [raw]);
      const base = fileWrite(join(dir, 'images.bin'), raw, raw.length * count);
      const mb = (raw.length * count) / 1e6;
      rows.push({
        measure: 'writer: 1024x1024 uint16 images, uncompressed',
        ours: mb / secs,
        baseline: mb / base,
        baselineName: 'fs.writeSync of the same bytes',
        unit: 'MB/s',
        goal: '>= 80% of baseline',
        met: mb / secs >= 0.8 * (mb / base),
      });
      rmSync(join(dir, 'images.h5'));
    }

    // (c) bitshuffle_lz4 images, stored by direct chunk write.
    {
      const count = opts.quick ? 200 : 2000;
      const def = resolveChannelDef({ name: 'CAM:IMAGE', type: 'uint16', shape: [1024, 1024], compression: 'bitshuffle_lz4' });
      const blob = encodeValue(def, { shape: [1024, 1024], data: img });
      const defs: ChannelDefInput[] = [def];
      writeMessages(join(dir, 'warm-c.h5'), defs, 20, () => [blob]);
      const secs = writeMessages(join(dir, 'blobs.h5'), defs, count, () => [blob]);
      const base = fileWrite(join(dir, 'blobs.bin'), blob, blob.length * count);
      const mb = (blob.length * count) / 1e6;
      rows.push({
        measure: `writer: bitshuffle_lz4 1024x1024 uint16 images, direct chunk write (${(blob.length / 1024).toFixed(0)} KiB each)`,
        ours: mb / secs,
        baseline: mb / base,
        baselineName: 'fs.writeSync of the same compressed bytes',
        unit: 'MB/s',
        goal: '>= 90% of baseline',
        met: mb / secs >= 0.9 * (mb / base),
      });
      rmSync(join(dir, 'blobs.h5'));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

// Run on its own: node dist/bench/writer-format.js [--quick]
if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const { formatTable } = await import('./table.js');
  console.log(formatTable(await run({ quick: process.argv.includes('--quick') })));
}
