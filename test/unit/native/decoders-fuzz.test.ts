// Seeded fuzz of the native decoders (native/compression.cc): random blobs, mutated valid blobs,
// lying headers and every truncation of small valid blobs, through the addon directly (so that
// its own argument and size checks are exercised, not only the TypeScript ones in front of them).
// Whatever the bytes, a decoder returns exactly what the header declares or throws an Error with
// code BSREAD_ERR_COMPRESSION; the three bitshuffle_lz4 entry points agree on every blob. It
// never crashes, and `npm run test:asan` runs this file under AddressSanitizer and UBSan, which
// catch reads and writes out of bounds and allocations a lying header asks for.
//
// SF_BSREAD_FUZZ_SEED=<n> runs another seed; SF_BSREAD_FUZZ_ROUNDS=<n> scales the random rounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BsreadError } from '../../../src/errors.js';
import { bitshuffleLz4DeclaredSize, bitshuffleLz4Decompress, lz4Decompress } from '../../../src/bsread/compression.js';
import { nativeAddon } from '../../../src/native/surface.js';

const SEED = Number(process.env['SF_BSREAD_FUZZ_SEED'] ?? 20260405) >>> 0;
const ROUNDS = Math.max(1, Number(process.env['SF_BSREAD_FUZZ_ROUNDS']) || 1500);
/** What a caller could allow at most: the declared size alone must not be trusted. */
const NO_LIMIT = Number.MAX_SAFE_INTEGER;
const ELEM_SIZES = [1, 2, 3, 4, 8, 16];

const addon = nativeAddon();

/** mulberry32: small, fast, and the same sequence everywhere for a seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Random {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = rng(seed);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
  /** Compressible data: runs of a few values, as detector images and waveforms mostly are. */
  smooth(n: number): Buffer {
    const b = Buffer.alloc(n);
    let v = this.int(256);
    for (let i = 0; i < n; i++) {
      if (this.int(16) === 0) v = this.int(256);
      b[i] = v;
    }
    return b;
  }
}

type Verdict = { ok: true; out: Buffer } | { ok: false; message: string };

/** Runs a decoder; only data errors (code BSREAD_ERR_COMPRESSION) are an accepted failure. */
function verdict(what: string, fn: () => Buffer): Verdict {
  try {
    return { ok: true, out: fn() };
  } catch (e) {
    const code = (e as { code?: unknown } | null)?.code;
    if (code !== 'BSREAD_ERR_COMPRESSION') assert.fail(`${what}: unexpected ${String(e)} (code ${String(code)})`);
    return { ok: false, message: (e as Error).message };
  }
}

/**
 * A copy in memory of its own, exactly as long as the bytes: Buffer.from and Buffer.concat take
 * small buffers from a shared pool, where reading past the end reads the neighbour instead of
 * hitting AddressSanitizer's red zone.
 */
function exact(bytes: Uint8Array): Buffer {
  const b = Buffer.alloc(bytes.byteLength);
  b.set(bytes);
  return b;
}

/** The total size a bitshuffle_lz4 header declares (bytes 0..7, big-endian), or null without a header. */
function declaredTotal(blob: Uint8Array): bigint | null {
  if (blob.byteLength < 12) return null;
  return new DataView(blob.buffer, blob.byteOffset, 8).getBigUint64(0, false);
}

function header(total: bigint, blockBytes: number): Buffer {
  const h = Buffer.alloc(12);
  h.writeBigUInt64BE(total, 0);
  h.writeUInt32BE(blockBytes >>> 0, 8);
  return h;
}

/**
 * Decodes one blob every way the addon can and checks that the ways agree: decompress,
 * decompress into a buffer of exactly the declared size (and one byte more), and check against
 * the declared size. Returns whether it decoded.
 */
function decodeAllWays(input: Buffer, elemSize: number, what: string): boolean {
  const blob = exact(input);
  const full = verdict(`${what}: decompress`, () => addon.bitshuffleLz4Decompress(blob, elemSize, NO_LIMIT));
  const total = declaredTotal(blob);
  if (full.ok) {
    assert.ok(total !== null, `${what}: decoded without a header`);
    assert.equal(BigInt(full.out.length), total, `${what}: decoded size differs from the declared size`);
  }
  // The verdict of the other entry points is only comparable when the declared size is usable.
  if (total !== null && total <= 1n << 20n) {
    const n = Number(total);
    const target = Buffer.alloc(n + 1, 0xee);
    const into = verdict(`${what}: decompress into`, () => {
      const written = addon.bitshuffleLz4DecompressInto(blob, elemSize, target);
      return target.subarray(0, written);
    });
    const checked = verdict(`${what}: check`, () => {
      addon.bitshuffleLz4Check(blob, elemSize, n);
      return Buffer.alloc(0);
    });
    assert.equal(into.ok, full.ok, `${what}: decompress and decompress-into disagree`);
    assert.equal(checked.ok, full.ok, `${what}: decompress and check disagree (${checked.ok ? '' : checked.message})`);
    if (full.ok && into.ok) {
      assert.ok(into.out.equals(full.out), `${what}: decompress-into wrote other bytes`);
      assert.equal(target[n], 0xee, `${what}: decompress-into wrote past the declared size`);
    }
    // A target one byte short bounds the declared size: always refused.
    if (n > 0) {
      const short = verdict(`${what}: decompress into a short target`, () => {
        addon.bitshuffleLz4DecompressInto(blob, elemSize, Buffer.alloc(n - 1));
        return Buffer.alloc(0);
      });
      assert.equal(short.ok, false, `${what}: a target shorter than the declared size was accepted`);
    }
  } else if (total !== null) {
    // A declared size too big to compare: checking it exactly must still fail or agree.
    const checked = verdict(`${what}: check`, () => {
      addon.bitshuffleLz4Check(blob, elemSize, Number(total > BigInt(NO_LIMIT) ? BigInt(NO_LIMIT) : total));
      return Buffer.alloc(0);
    });
    if (total > BigInt(NO_LIMIT)) assert.equal(checked.ok, false, `${what}: check accepted an impossible size`);
    else assert.equal(checked.ok, full.ok, `${what}: decompress and check disagree on a big blob`);
  }
  // The TypeScript declared-size reader agrees with the header.
  try {
    const size = bitshuffleLz4DeclaredSize(blob);
    assert.equal(BigInt(size), total, `${what}: declared size`);
  } catch (e) {
    assert.ok(e instanceof BsreadError && e.code === 'BSREAD_ERR_COMPRESSION', `${what}: declared size threw ${String(e)}`);
    assert.ok(total === null || total > BigInt(Number.MAX_SAFE_INTEGER), `${what}: declared size refused a usable header`);
  }
  return full.ok;
}

/** Decodes an lz4 frame with both preferences; a result has the size one of the prefixes declares. */
function decodeLz4(input: Buffer, what: string): boolean {
  const frame = exact(input);
  let decoded = false;
  for (const big of [true, false]) {
    const r = verdict(`${what}: lz4 ${big ? 'big' : 'little'}`, () => addon.lz4Decompress(frame, big, NO_LIMIT));
    if (!r.ok) continue;
    decoded = true;
    assert.ok(frame.length >= 4, `${what}: decoded without a prefix`);
    const sizes = [frame.readUInt32BE(0), frame.readUInt32LE(0)];
    assert.ok(sizes.includes(r.out.length), `${what}: decoded to ${r.out.length} bytes, prefixes say ${sizes.join(' / ')}`);
  }
  return decoded;
}

/** Valid blobs of every kind: element sizes, default and custom blocks, partial last block, tail. */
function validBlobs(r: Random): Array<{ blob: Buffer; data: Buffer; elemSize: number }> {
  const out: Array<{ blob: Buffer; data: Buffer; elemSize: number }> = [];
  for (const elemSize of ELEM_SIZES) {
    for (const elems of [0, 1, 7, 8, 9, 64, 131, 1000, 2100]) {
      const data = r.int(3) === 0 ? r.bytes(elems * elemSize) : r.smooth(elems * elemSize);
      for (const blockElems of [0, 8, 64, 136]) {
        out.push({ blob: addon.bitshuffleLz4Compress(data, elemSize, blockElems * elemSize), data, elemSize });
      }
    }
  }
  return out;
}

test('valid blobs decode to their data, every way', () => {
  const r = new Random(SEED);
  for (const [i, { blob, data, elemSize }] of validBlobs(r).entries()) {
    const what = `valid blob ${i} (element ${elemSize}, ${data.length} bytes)`;
    assert.ok(decodeAllWays(blob, elemSize, what), `${what} was refused`);
    assert.ok(addon.bitshuffleLz4Decompress(blob, elemSize, data.length).equals(data), `${what}: bytes`);
    // One byte more after the tail is an error too: the blob must be exactly what the header says.
    assert.equal(decodeAllWays(Buffer.concat([blob, Buffer.of(0)]), elemSize, `${what} + 1 byte`), false);
  }
});

test('every truncation of small valid blobs is refused', () => {
  const r = new Random(SEED + 1);
  for (const [elemSize, elems, blockElems] of [
    [1, 45, 16],
    [2, 203, 64],
    [4, 77, 0],
    [3, 40, 8],
  ] as const) {
    const data = r.smooth(elems * elemSize);
    const blob = addon.bitshuffleLz4Compress(data, elemSize, blockElems * elemSize);
    for (let len = 0; len < blob.length; len++) {
      assert.equal(decodeAllWays(blob.subarray(0, len), elemSize, `blob of ${blob.length} bytes cut to ${len}`), false);
    }
    const frame = addon.lz4Compress(data, r.int(2) === 0);
    for (let len = 0; len < frame.length; len++) decodeLz4(frame.subarray(0, len), `lz4 frame cut to ${len}`);
  }
});

test('lying bitshuffle_lz4 headers are refused before allocating what they declare', () => {
  const r = new Random(SEED + 2);
  const totals = [0n, 1n, 2n, 8n, 1n << 31n, (1n << 31n) - 1n, 1n << 32n, 1n << 40n, BigInt(NO_LIMIT), 1n << 63n, (1n << 64n) - 1n];
  const blocks = [0, 1, 7, 8, 12, 24, 8 * 8191, 0x7fffffff, 0x7ffffff8, 0x80000000, 0xfffffff8, 0xffffffff];
  const payloads = [Buffer.alloc(0), Buffer.alloc(4), Buffer.of(0, 0, 0, 1, 0), r.bytes(37), Buffer.alloc(64 * 1024), r.smooth(4096)];
  let decoded = 0;
  for (const total of totals) {
    for (const block of blocks) {
      for (const payload of payloads) {
        for (const elemSize of [1, 2, 4, 8, 3]) {
          const blob = Buffer.concat([header(total, block), payload]);
          if (decodeAllWays(blob, elemSize, `total ${total}, block ${block}, ${payload.length}-byte payload, element ${elemSize}`)) decoded++;
        }
      }
    }
  }
  // Only trivial blobs (nothing, or a raw tail) can be valid here.
  assert.ok(decoded < totals.length * blocks.length, `${decoded} lying blobs decoded`);
  assert.ok(process.memoryUsage().rss < 2 * 1024 ** 3, 'a lying header made the process allocate gigabytes');
});

test('lying lz4 size prefixes are refused before allocating what they declare', () => {
  const r = new Random(SEED + 3);
  const sizes = [0, 1, 2, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 256 * 37 + 64, 256 * 37 + 65];
  const bodies = [Buffer.alloc(0), Buffer.of(0), Buffer.of(0x10, 0x61), r.bytes(37), addon.lz4Compress(r.smooth(3000), true).subarray(4)];
  for (const size of sizes) {
    for (const body of bodies) {
      for (const big of [true, false]) {
        const prefix = Buffer.alloc(4);
        if (big) prefix.writeUInt32BE(size >>> 0);
        else prefix.writeUInt32LE(size >>> 0);
        decodeLz4(Buffer.concat([prefix, body]), `prefix ${size} (${big ? 'big' : 'little'}), ${body.length}-byte body`);
      }
    }
  }
  assert.ok(process.memoryUsage().rss < 2 * 1024 ** 3, 'a lying prefix made the process allocate gigabytes');
});

test('random and mutated blobs: decoded to the declared size, or refused', () => {
  const r = new Random(SEED + 4);
  const valid = validBlobs(r).filter((v) => v.data.length > 0);
  const frames = valid.slice(0, 40).map((v) => addon.lz4Compress(v.data, r.int(2) === 0));
  const u32s = [0, 1, 2, 7, 8, 0x7fffffff, 0x80000000, 0xffffffff];
  let decodedMutants = 0;
  for (let round = 0; round < ROUNDS; round++) {
    // Random bytes, bare or behind a plausible header.
    const elemSize = r.pick(ELEM_SIZES);
    const noise = r.bytes(r.int(300));
    const plausible = Buffer.concat([header(BigInt(r.int(4096) * elemSize), r.pick([0, 8 * elemSize, 64 * elemSize])), noise]);
    decodeAllWays(noise, elemSize, `round ${round}: random ${noise.length} bytes`);
    decodeAllWays(plausible, elemSize, `round ${round}: random payload behind a plausible header`);
    decodeLz4(noise, `round ${round}: random lz4 frame`);

    // A valid blob with a few mutations: flipped bytes, cuts, insertions, deletions, overwritten
    // 32-bit fields (block lengths, header fields).
    const v = r.pick(valid);
    let b: Buffer = Buffer.from(v.blob);
    let f: Buffer = Buffer.from(r.pick(frames));
    for (let m = 1 + r.int(3); m > 0; m--) {
      b = mutateOnce(r, b, u32s);
      f = mutateOnce(r, f, u32s);
    }
    if (decodeAllWays(b, r.int(8) === 0 ? r.pick(ELEM_SIZES) : v.elemSize, `round ${round}: mutated blob`)) decodedMutants++;
    decodeLz4(f, `round ${round}: mutated lz4 frame`);
  }
  // Most mutations break a blob; some (a flipped raw tail byte, a flip LZ4 tolerates) do not.
  assert.ok(decodedMutants < ROUNDS, `all ${ROUNDS} mutants decoded: the mutations do nothing`);
});

function mutateOnce(r: Random, b: Buffer, u32s: readonly number[]): Buffer {
  const at = b.length === 0 ? 0 : r.int(b.length);
  switch (r.int(5)) {
    case 0:
      if (b.length > 0) b[at] = b[at]! ^ (1 + r.int(255));
      return b;
    case 1:
      return Buffer.from(b.subarray(0, at));
    case 2:
      return Buffer.concat([b.subarray(0, at), r.bytes(1 + r.int(8)), b.subarray(at)]);
    case 3:
      return Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + r.int(16))]);
    default:
      if (at + 4 <= b.length) b.writeUInt32BE(r.pick(u32s) >>> 0, at - (at % 4));
      return b;
  }
}

test('the TypeScript wrappers turn every native data error into BsreadError BSREAD_ERR_COMPRESSION', () => {
  const r = new Random(SEED + 5);
  for (let round = 0; round < 200; round++) {
    const bytes = r.bytes(r.int(64));
    for (const fn of [() => bitshuffleLz4Decompress(bytes, r.pick(ELEM_SIZES)), () => lz4Decompress(bytes, r.int(2) === 0 ? 'big' : 'little')]) {
      try {
        fn();
      } catch (e) {
        assert.ok(e instanceof BsreadError && e.code === 'BSREAD_ERR_COMPRESSION', String(e));
      }
    }
  }
});

test('bad arguments are TypeError / RangeError with Node codes, never a crash', () => {
  const blob = addon.bitshuffleLz4Compress(Buffer.alloc(64), 4, 0);
  const call = (fn: () => unknown): unknown => {
    try {
      fn();
    } catch (e) {
      return e;
    }
    return undefined;
  };
  const wrongType = [
    () => addon.bitshuffleLz4Decompress('x' as unknown as Uint8Array, 4, 100),
    () => addon.bitshuffleLz4Decompress(new Uint16Array(8) as unknown as Uint8Array, 4, 100),
    () => addon.bitshuffleLz4Decompress(blob, '4' as unknown as number, 100),
    () => addon.bitshuffleLz4DecompressInto(blob, 4, [] as unknown as Uint8Array),
    () => addon.lz4Decompress(blob, 1 as unknown as boolean, 100),
    () => (addon.bitshuffleLz4Check as (...a: unknown[]) => void)(blob),
  ];
  for (const fn of wrongType) {
    const e = call(fn);
    assert.ok(e instanceof TypeError, String(e));
    assert.equal((e as { code?: string }).code, 'ERR_INVALID_ARG_TYPE');
  }
  const outOfRange = [
    () => addon.bitshuffleLz4Decompress(blob, 0, 100),
    () => addon.bitshuffleLz4Decompress(blob, 1.5, 100),
    () => addon.bitshuffleLz4Decompress(blob, 2 ** 21, 100),
    () => addon.bitshuffleLz4Decompress(blob, 4, -1),
    () => addon.bitshuffleLz4Decompress(blob, 4, 2 ** 53),
    () => addon.bitshuffleLz4Decompress(blob, 4, Number.NaN),
    () => addon.bitshuffleLz4Compress(Buffer.alloc(64), 4, 12),
    () => {
      // The output would overwrite the blob while it is read.
      const shared = Buffer.alloc(blob.length + 100);
      blob.copy(shared);
      addon.bitshuffleLz4DecompressInto(shared.subarray(0, blob.length), 4, shared.subarray(8));
    },
  ];
  for (const fn of outOfRange) {
    const e = call(fn);
    assert.ok(e instanceof RangeError, String(e));
    assert.equal((e as { code?: string }).code, 'ERR_OUT_OF_RANGE');
  }
});
