// bitshuffle_lz4 on a camera-sized image: the hot path when the writer or the analyzer has to
// look inside compressed arrays. Baselines are measured in the same run: a plain memory copy
// of the same bytes (the ceiling), a plain-JS unshuffle (the floor), and libbitshuffle itself
// through Debian's python3-bitshuffle when it is installed.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bitshuffleLz4Compress, bitshuffleLz4Decompress, bitshuffleLz4DecompressInto, bitunshuffle, lz4Compress, lz4Decompress } from '../src/bsread/compression.js';
import { opsPerSecond, type BenchOptions, type BenchRow } from './table.js';

const WIDTH = 2048;
const HEIGHT = 2048;
const SYSTEM_PYTHON = '/usr/bin/python3';

/** A detector-like uint16 image: a smooth gradient plus a bright spot plus a few counts of noise. */
export function syntheticImage(width: number, height: number, seed = 1): Uint16Array {
  const img = new Uint16Array(width * height);
  let state = seed >>> 0;
  const noise = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0; // LCG: deterministic, fast
    return state >>> 29; // 0..7 counts
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const dx = x - width / 2;
      const dy = y - height / 3;
      const spot = 20000 * Math.exp(-(dx * dx + dy * dy) / (2 * 120 * 120));
      img[y * width + x] = Math.min(65535, Math.round(100 + x / 8 + y / 16 + spot) + noise());
    }
  }
  return img;
}

/**
 * Best of several short runs: the machine is shared (parallel builds and tests), and the best
 * run is the one least disturbed by others, for our figure and the baselines alike.
 */
function bestOpsPerSecond(fn: () => void, minMs: number, rounds = 5): number {
  let best = 0;
  for (let r = 0; r < rounds; r++) best = Math.max(best, opsPerSecond(fn, minMs / rounds));
  return best;
}

function mbPerSecond(bytes: number, opsPerSec: number): number {
  return (bytes * opsPerSec) / 1e6;
}

/** Plain-JS unshuffle of one block: the floor the design document mentions (~400 MB/s). */
function jsBitunshuffle(src: Uint8Array, dst: Uint8Array, elemSize: number): void {
  const n = src.length / elemSize;
  const nb = n / 8;
  dst.fill(0);
  for (let j = 0; j < elemSize; j++) {
    for (let k = 0; k < 8; k++) {
      const plane = (j * 8 + k) * nb;
      for (let p = 0; p < nb; p++) {
        const byte = src[plane + p]!;
        if (byte === 0) continue;
        for (let m = 0; m < 8; m++) dst[(8 * p + m) * elemSize + j]! |= ((byte >> m) & 1) << k;
      }
    }
  }
}

/** libbitshuffle's decode speed through python3-bitshuffle, or undefined when unavailable. */
function libbitshuffleDecodeMBps(blob: Uint8Array, rawBytes: number, minMs: number): number | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'bench-bshuf-'));
  try {
    const file = join(dir, 'blob.bin');
    writeFileSync(file, blob);
    const script = [
      'import sys, time, numpy as np, bitshuffle',
      'b = np.frombuffer(open(sys.argv[1], "rb").read(), dtype=np.uint8)',
      'n = int.from_bytes(b[:8].tobytes(), "big") // 2',
      'blk = int.from_bytes(b[8:12].tobytes(), "big") // 2',
      'f = lambda: bitshuffle.decompress_lz4(b[12:], (n,), np.dtype("<u2"), blk)',
      'f(); k = 0; t0 = time.perf_counter()',
      'while time.perf_counter() - t0 < float(sys.argv[2]) / 1000: f(); k += 1',
      'print(k / (time.perf_counter() - t0))',
    ].join('\n');
    const out = execFileSync(SYSTEM_PYTHON, ['-c', script, file, String(minMs)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return mbPerSecond(rawBytes, Number(out.trim()));
  } catch {
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(opts: BenchOptions): Promise<BenchRow[]> {
  const minMs = opts.quick ? 200 : 2000;
  const image = syntheticImage(WIDTH, HEIGHT);
  const raw = Buffer.from(image.buffer, image.byteOffset, image.byteLength);
  const copyTarget = Buffer.allocUnsafe(raw.length);
  const blob = bitshuffleLz4Compress(raw, 2);
  const label = `${WIDTH}x${HEIGHT} uint16 (ratio ${(raw.length / blob.length).toFixed(2)})`;
  const memcpy = mbPerSecond(
    raw.length,
    bestOpsPerSecond(() => raw.copy(copyTarget), minMs),
  );
  const rows: BenchRow[] = [];

  const decode = mbPerSecond(
    raw.length,
    bestOpsPerSecond(() => bitshuffleLz4Decompress(blob, 2), minMs),
  );
  rows.push({
    measure: `bitshuffle_lz4 decode ${label}`,
    ours: decode,
    baseline: memcpy,
    baselineName: 'Buffer.copy of the same bytes',
    unit: 'MB/s',
    goal: '>= 1 GB/s',
    met: decode >= 1000,
  });

  const target = Buffer.allocUnsafe(raw.length);
  const into = mbPerSecond(
    raw.length,
    bestOpsPerSecond(() => bitshuffleLz4DecompressInto(blob, 2, target), minMs),
  );
  rows.push({
    measure: `bitshuffle_lz4 decode into a reused buffer ${label}`,
    ours: into,
    baseline: memcpy,
    baselineName: 'Buffer.copy of the same bytes',
    unit: 'MB/s',
    goal: '>= 1 GB/s',
    met: into >= 1000,
  });

  const encode = mbPerSecond(
    raw.length,
    bestOpsPerSecond(() => bitshuffleLz4Compress(raw, 2), minMs),
  );
  rows.push({
    measure: `bitshuffle_lz4 encode ${label}`,
    ours: encode,
    baseline: memcpy,
    baselineName: 'Buffer.copy of the same bytes',
    unit: 'MB/s',
    goal: '>= 500 MB/s',
    met: encode >= 500,
  });

  const reference = libbitshuffleDecodeMBps(blob, raw.length, minMs);
  if (reference !== undefined) {
    rows.push({
      measure: `bitshuffle_lz4 decode ${label}`,
      ours: decode,
      baseline: reference,
      baselineName: 'libbitshuffle (python3-bitshuffle)',
      unit: 'MB/s',
      goal: '>= 80% of baseline',
      met: decode >= 0.8 * reference,
    });
  }

  // The transpose alone, on one default-size block: SSE2 kernel against plain JavaScript.
  const block = raw.subarray(0, 8192);
  const shuffled = Buffer.from(bitunshuffle(block, 2)); // any 8192 bytes will do
  const jsTarget = new Uint8Array(block.length);
  const blockMs = Math.max(50, minMs / 4);
  const nativeUnshuffle = mbPerSecond(
    block.length,
    bestOpsPerSecond(() => bitunshuffle(shuffled, 2), blockMs),
  );
  const jsUnshuffle = mbPerSecond(
    block.length,
    bestOpsPerSecond(() => jsBitunshuffle(shuffled, jsTarget, 2), blockMs),
  );
  rows.push({
    measure: 'bitunshuffle 8 KiB block uint16',
    ours: nativeUnshuffle,
    baseline: jsUnshuffle,
    baselineName: 'plain JS unshuffle',
    unit: 'MB/s',
    goal: '>= 5x baseline',
    met: nativeUnshuffle >= 5 * jsUnshuffle,
  });

  const frame = lz4Compress(raw, 'big');
  const lz4 = mbPerSecond(
    raw.length,
    bestOpsPerSecond(() => lz4Decompress(frame, 'big'), minMs),
  );
  rows.push({
    measure: `lz4 decode ${WIDTH}x${HEIGHT} uint16`,
    ours: lz4,
    baseline: memcpy,
    baselineName: 'Buffer.copy of the same bytes',
    unit: 'MB/s',
    goal: '>= 1 GB/s',
    met: lz4 >= 1000,
  });
  return rows;
}
