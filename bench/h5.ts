// The HDF5 layer on the writer's hot paths, each against a plain file write of the same bytes
// measured in the same run: 1024x1024 uint16 image rows appended, bitshuffle_lz4 image blobs
// written as chunks (H5Dwrite_chunk), and many small appends (1000 channels x 3 datasets).
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bitshuffleLz4Compress } from '../src/bsread/compression.js';
import { H5File, type NumericDataset } from '../src/h5/index.js';
import { syntheticImage } from './compression.js';
import type { BenchOptions, BenchRow } from './table.js';

function seconds(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** Writes `count` copies of `bytes` with fs.writeSync (file opened and closed inside the timing). */
function fileWrite(path: string, bytes: Uint8Array, count: number): number {
  return seconds(() => {
    const fd = openSync(path, 'w');
    for (let i = 0; i < count; i++) writeSync(fd, bytes);
    closeSync(fd);
  });
}

export async function run(opts: BenchOptions): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'sf-bsread-bench-h5-'));
  try {
    const rows: BenchRow[] = [];
    const img = syntheticImage(1024, 1024);
    const raw = Buffer.from(img.buffer, img.byteOffset, img.byteLength);

    // 1. Image rows appended to a chunked dataset (one row per chunk), file closed in the timing.
    const nImg = opts.quick ? 50 : 300;
    fileWrite(join(dir, 'warm.bin'), raw, 5);
    const h5Img = seconds(() => {
      const f = H5File.create(join(dir, 'img.h5'));
      const ds = f.createNumericDataset('/data/cam/data', { type: 'uint16', rowShape: [1024, 1024], chunkRows: 1 });
      for (let i = 0; i < nImg; i++) ds.append(raw, 1);
      f.close();
    });
    const fsImg = fileWrite(join(dir, 'img.bin'), raw, nImg);
    const ours1 = (nImg * raw.length) / 1e6 / h5Img;
    const base1 = (nImg * raw.length) / 1e6 / fsImg;
    rows.push({
      measure: 'h5 append 1024x1024 uint16 rows',
      ours: ours1,
      baseline: base1,
      baselineName: 'fs.writeSync of the same bytes',
      unit: 'MB/s',
      goal: '>= 80% of baseline',
      met: ours1 >= 0.8 * base1,
    });
    rmSync(join(dir, 'img.h5'));
    rmSync(join(dir, 'img.bin'));

    // 2. bitshuffle_lz4 blobs written as chunks, without decompressing.
    const blob = bitshuffleLz4Compress(raw, 2);
    const nBlob = opts.quick ? 200 : 2000;
    const h5Blob = seconds(() => {
      const f = H5File.create(join(dir, 'blob.h5'));
      const ds = f.createBitshuffleDataset('/data/cam/data', { type: 'uint16', rowShape: [1024, 1024] });
      for (let i = 0; i < nBlob; i++) ds.appendChunk(blob);
      f.close();
    });
    const fsBlob = fileWrite(join(dir, 'blob.bin'), blob, nBlob);
    const ours2 = (nBlob * blob.length) / 1e6 / h5Blob;
    const base2 = (nBlob * blob.length) / 1e6 / fsBlob;
    rows.push({
      measure: `h5 direct chunk write, bitshuffle_lz4 1024x1024 uint16 (${(blob.length / 1024).toFixed(0)} KiB)`,
      ours: ours2,
      baseline: base2,
      baselineName: 'fs.writeSync of the same compressed bytes',
      unit: 'MB/s',
      goal: '>= 80% of baseline',
      met: ours2 >= 0.8 * base2,
    });

    // 2b. A long acquisition with drop-behind on (as the writer runs): the chunk writes at the end
    // of the file against those at its start. Each write notes where its chunk went; asking
    // libhdf5 for that walked the whole chunk index, so every write was slower than the last.
    const small = bitshuffleLz4Compress(Buffer.from(syntheticImage(64, 64).buffer), 2);
    const nLong = opts.quick ? 10_000 : 40_000;
    const part = nLong / 20;
    const times: number[] = [];
    {
      const lf = H5File.create(join(dir, 'long.h5'));
      lf.setDropBehind(true);
      const lds = lf.createBitshuffleDataset('/data/cam/data', { type: 'uint16', rowShape: [64, 64] });
      for (let i = 0; i < nLong; i += part) {
        times.push(
          seconds(() => {
            for (let k = 0; k < part; k++) {
              lds.appendChunk(small);
              if ((i + k) % 100 === 99) lf.flush();
            }
          }),
        );
      }
      lf.close();
      rmSync(join(dir, 'long.h5'));
    }
    const firstRate = part / times[0]!;
    const lastRate = part / times[times.length - 1]!;
    rows.push({
      measure: `h5 direct chunk writes at the end of a ${nLong}-chunk dataset (drop-behind on, a flush every 100)`,
      ours: lastRate / 1e3,
      baseline: firstRate / 1e3,
      baselineName: `the first ${part} chunks of the same file`,
      unit: 'k chunks/s',
      goal: '>= 80% of baseline',
      met: lastRate >= 0.8 * firstRate,
    });

    // 3. Small appends: 1000 channels, each with data (float64 (N,1)), pulse_id (int64) and
    // is_data_present (uint8), one row per call, as the writer does per message.
    const channels = 1000;
    const messages = opts.quick ? 100 : 500;
    const f = H5File.create(join(dir, 'small.h5'));
    const ds: NumericDataset[] = [];
    for (let c = 0; c < channels; c++) {
      ds.push(
        f.createNumericDataset(`/data/CH${c}/data`, { type: 'float64', rowShape: [1], chunkRows: 100 }),
        f.createNumericDataset(`/data/CH${c}/pulse_id`, { type: 'int64', rowShape: [], chunkRows: 100 }),
        f.createNumericDataset(`/data/CH${c}/is_data_present`, { type: 'uint8', rowShape: [], chunkRows: 100 }),
      );
    }
    const v8 = Buffer.alloc(8, 1);
    const v1 = Buffer.alloc(1, 1);
    const h5Small = seconds(() => {
      for (let m = 0; m < messages; m++) {
        for (let c = 0; c < channels; c++) {
          ds[3 * c]!.append(v8, 1);
          ds[3 * c + 1]!.append(v8, 1);
          ds[3 * c + 2]!.append(v1, 1);
        }
      }
      f.flush();
    });
    f.close();
    const calls = messages * channels * 3;
    const fsSmall = seconds(() => {
      const fd = openSync(join(dir, 'small.bin'), 'w');
      for (let m = 0; m < messages; m++) {
        for (let c = 0; c < channels; c++) {
          writeSync(fd, v8);
          writeSync(fd, v8);
          writeSync(fd, v1);
        }
      }
      closeSync(fd);
    });
    const ours3 = calls / h5Small;
    rows.push({
      measure: `h5 small appends (${channels} channels x 3 datasets, 1 row per call, flush included)`,
      ours: ours3 / 1e3,
      baseline: calls / fsSmall / 1e3,
      baselineName: 'fs.writeSync of the same bytes, one call each',
      unit: 'k appends/s',
      goal: '>= 300 k/s (1000 ch x 3 x 100 Hz)',
      met: ours3 >= 300e3,
    });
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
