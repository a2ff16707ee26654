// bitshuffle_lz4 (§6.2) and lz4 (§6.3): the spec's byte-level vectors, round trips over element
// sizes and lengths, agreement with libbitshuffle (Debian python3-bitshuffle) in both
// directions, and corrupt input, which must always end in BsreadError BSREAD_ERR_COMPRESSION.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { BsreadError } from '../../../src/errors.js';
import {
  bitshuffle,
  bitshuffleLz4Check,
  bitshuffleLz4Compress,
  bitshuffleLz4DeclaredSize,
  bitshuffleLz4Decompress,
  bitshuffleLz4DecompressInto,
  bitunshuffle,
  defaultBlockElements,
  lz4Compress,
  lz4Decompress,
} from '../../../src/bsread/compression.js';

const SYSTEM_PYTHON = '/usr/bin/python3';

function hex(s: string): Buffer {
  return Buffer.from(s.replace(/[\s|]/g, ''), 'hex');
}

/** Deterministic pseudo-random bytes (xorshift32), so failures reproduce. */
function randomBytes(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed | 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Compressible content: slowly varying little-endian counters with a bit of noise. */
function smoothBytes(elems: number, elemSize: number, seed: number): Buffer {
  const noise = randomBytes(elems, seed);
  const out = Buffer.alloc(elems * elemSize);
  for (let i = 0; i < elems; i++) {
    let v = 1000 + Math.floor(i / 3) + (noise[i]! & 3);
    for (let j = 0; j < elemSize; j++, v = Math.floor(v / 256)) out[i * elemSize + j] = v & 0xff;
  }
  return out;
}

/** The §6.2 transpose written exactly as the spec states it. */
function referenceShuffle(input: Uint8Array, s: number): Buffer {
  const n = input.length / s;
  const nb = n / 8;
  const out = Buffer.alloc(input.length);
  for (let j = 0; j < s; j++) {
    for (let k = 0; k < 8; k++) {
      for (let p = 0; p < nb; p++) {
        let v = 0;
        for (let m = 0; m < 8; m++) v |= ((input[(8 * p + m) * s + j]! >> k) & 1) << m;
        out[(j * 8 + k) * nb + p] = v;
      }
    }
  }
  return out;
}

function assertCompressionError(fn: () => unknown, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof BsreadError, `expected BsreadError, got ${String(e)}`);
    assert.equal(e.code, 'BSREAD_ERR_COMPRESSION', e.message);
    if (message) assert.match(e.message, message);
    return true;
  });
}

function blockCount(elems: number, blockElems: number): number {
  const rest = elems % blockElems;
  return Math.floor(elems / blockElems) + (rest - (rest % 8) > 0 ? 1 : 0);
}

// ---- §6.2 test vectors ----

test('§6.2 vector float64 [1.5]: tail only, the whole blob is deterministic', () => {
  const blob = hex('00 00 00 00 00 00 00 08 | 00 00 20 00 | 00 00 00 00 00 00 f8 3f');
  const data = Buffer.from(new Float64Array([1.5]).buffer);
  assert.deepEqual(bitshuffleLz4Compress(data, 8), blob);
  assert.deepEqual(bitshuffleLz4Decompress(blob, 8), data);
});

test('§6.2 vector int32 LE [1,2,3]: tail only, the whole blob is deterministic', () => {
  const blob = hex('00 00 00 00 00 00 00 0c | 00 00 20 00 | 01 00 00 00 02 00 00 00 03 00 00 00');
  const data = Buffer.from(new Int32Array([1, 2, 3]).buffer);
  assert.deepEqual(bitshuffleLz4Compress(data, 4), blob);
  assert.deepEqual(bitshuffleLz4Decompress(blob, 4), data);
});

test('§6.2 vector uint16 LE [0..7]: one block, shuffled as the spec shows', () => {
  const blob = hex('00 00 00 00 00 00 00 10 | 00 00 20 00 | 00 00 00 0d | 43 aa cc f0 00 01 00 50 00 00 00 00 00');
  const data = Buffer.from(new Uint16Array([0, 1, 2, 3, 4, 5, 6, 7]).buffer);
  assert.deepEqual(bitshuffleLz4Decompress(blob, 2), data);
  assert.deepEqual(bitshuffle(data, 2), hex('aa cc f0 00 00 00 00 00 00 00 00 00 00 00 00 00'));
  const ours = bitshuffleLz4Compress(data, 2);
  assert.deepEqual(ours.subarray(0, 12), blob.subarray(0, 12));
  assert.deepEqual(bitshuffleLz4Decompress(ours, 2), data);
});

test('§6.2 vector uint8 [1..10]: one block of 8 plus a 2-byte raw tail', () => {
  const blob = hex('00 00 00 00 00 00 00 0a | 00 00 20 00 | 00 00 00 09 | 80 55 66 78 80 00 00 00 00 | 09 0a');
  const data = Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.deepEqual(bitshuffleLz4Decompress(blob, 1), data);
  const ours = bitshuffleLz4Compress(data, 1);
  assert.deepEqual(ours.subarray(0, 12), blob.subarray(0, 12));
  assert.deepEqual(ours.subarray(-2), hex('09 0a'));
  assert.deepEqual(bitshuffleLz4Decompress(ours, 1), data);
});

// ---- transpose ----

test('bitshuffle equals the §6.2 formula and bitunshuffle inverts it, for many sizes and lengths', () => {
  for (const s of [1, 2, 3, 4, 5, 8, 12, 16]) {
    // up to 1200 elements: crosses the 128-element SSE2 chunks and leaves odd group remainders
    for (let n = 0; n <= 1200; n += 8) {
      const data = randomBytes(n * s, n * 31 + s);
      const shuffled = bitshuffle(data, s);
      assert.deepEqual(shuffled, referenceShuffle(data, s), `s=${s} n=${n}`);
      assert.deepEqual(bitunshuffle(shuffled, s), data, `s=${s} n=${n}`);
    }
  }
});

test('bitshuffle rejects data that is not a multiple of 8 elements', () => {
  assert.throws(() => bitshuffle(Buffer.alloc(12), 2), { code: 'BSREAD_ERR_INVALID_ARGUMENT' });
  assert.throws(() => bitunshuffle(Buffer.alloc(7), 1), { code: 'BSREAD_ERR_INVALID_ARGUMENT' });
});

// ---- round trips and layout ----

const LENGTHS = [0, 1, 2, 7, 8, 9, 15, 16, 17, 100, 127, 128, 129, 1000, 1023, 1024, 1025, 2047, 2048, 2049, 4095, 4096, 4097, 4103, 8191, 8192, 8193, 9000];

test('bitshuffle_lz4 round trips for element sizes 1..16 and lengths 0..9000', () => {
  for (const s of [1, 2, 3, 4, 8, 12, 16]) {
    for (const n of LENGTHS) {
      for (const data of [randomBytes(n * s, n + s), smoothBytes(n, s, n)]) {
        const blob = bitshuffleLz4Compress(data, s);
        const blockElems = defaultBlockElements(s);
        assert.equal(bitshuffleLz4DeclaredSize(blob), n * s);
        assert.equal(blob.readUInt32BE(8), blockElems * s, 'header block size is in bytes');
        assert.deepEqual(bitshuffleLz4Decompress(blob, s), data, `s=${s} n=${n}`);
        // Walk the framing: block count and tail size exactly as §6.2 partitions N.
        let pos = 12;
        for (let b = 0; b < blockCount(n, blockElems); b++) pos += 4 + blob.readUInt32BE(pos);
        assert.equal(blob.length - pos, (n % 8) * s, `tail of s=${s} n=${n}`);
        assert.deepEqual(blob.subarray(pos), data.subarray(data.length - (n % 8) * s));
      }
    }
  }
});

test('default block size follows the §6.2 formula', () => {
  assert.equal(defaultBlockElements(1), 8192);
  assert.equal(defaultBlockElements(2), 4096);
  assert.equal(defaultBlockElements(3), 2728);
  assert.equal(defaultBlockElements(8), 1024);
  assert.equal(defaultBlockElements(16), 512);
  assert.equal(defaultBlockElements(64), 128);
  assert.equal(defaultBlockElements(100), 128); // floor(81 / 8) * 8 = 80, raised to the minimum
  assert.equal(defaultBlockElements(1000), 128);
});

test('bitshuffle_lz4 with explicit block sizes: several blocks plus a partial one', () => {
  for (const [s, blockElems] of [
    [1, 64],
    [2, 256],
    [4, 8],
    [8, 2048],
    [3, 128],
  ] as const) {
    const n = 5003;
    const data = smoothBytes(n, s, 7);
    const blob = bitshuffleLz4Compress(data, s, blockElems * s);
    assert.equal(blob.readUInt32BE(8), blockElems * s);
    assert.deepEqual(bitshuffleLz4Decompress(blob, s), data);
  }
  assert.throws(() => bitshuffleLz4Compress(Buffer.alloc(64), 2, 12), { code: 'BSREAD_ERR_INVALID_ARGUMENT' });
  assert.throws(() => bitshuffleLz4Compress(Buffer.alloc(64), 2, 3), { code: 'BSREAD_ERR_INVALID_ARGUMENT' });
  assert.throws(() => bitshuffleLz4Compress(Buffer.alloc(63), 2), { code: 'BSREAD_ERR_INVALID_ARGUMENT' });
});

test('a block size of 0 in the header means the default (old BP senders)', () => {
  for (const s of [1, 2, 4, 8, 3]) {
    const data = smoothBytes(9000, s, s);
    const blob = Buffer.from(bitshuffleLz4Compress(data, s));
    blob.writeUInt32BE(0, 8);
    assert.deepEqual(bitshuffleLz4Decompress(blob, s), data);
  }
});

test('decoding reads a non-default block size from the header', () => {
  const data = smoothBytes(3000, 2, 1);
  const blob = bitshuffleLz4Compress(data, 2, 512);
  assert.deepEqual(bitshuffleLz4Decompress(blob, 2), data);
  // The same blocks cannot be read with another block size: the framing no longer matches.
  const lied = Buffer.from(blob);
  lied.writeUInt32BE(1024, 8);
  assertCompressionError(() => bitshuffleLz4Decompress(lied, 2));
});

test('inputs that are views into larger buffers are read at their offset', () => {
  const data = smoothBytes(1000, 4, 3);
  const blob = bitshuffleLz4Compress(data, 4);
  const big = Buffer.concat([Buffer.from('junkjunk'), blob, Buffer.from('more')]);
  const view = new Uint8Array(big.buffer, big.byteOffset + 8, blob.length);
  assert.deepEqual(bitshuffleLz4Decompress(view, 4), data);
  const padded = Buffer.concat([Buffer.alloc(3), data]);
  const dataView = new Uint8Array(padded.buffer, padded.byteOffset + 3, data.length);
  assert.deepEqual(bitshuffleLz4Decompress(bitshuffleLz4Compress(dataView, 4), 4), data);
});

test('bitshuffleLz4DecompressInto fills a reused buffer and bounds the size by it', () => {
  const data = smoothBytes(5000, 2, 9);
  const blob = bitshuffleLz4Compress(data, 2);
  const target = Buffer.alloc(20000, 0xee);
  assert.equal(bitshuffleLz4DecompressInto(blob, 2, target), data.length);
  assert.deepEqual(target.subarray(0, data.length), data);
  assert.equal(target[data.length], 0xee);
  assertCompressionError(() => bitshuffleLz4DecompressInto(blob, 2, Buffer.alloc(data.length - 2)), /limit/);
});

test('bitshuffleLz4DeclaredSize reads the header only', () => {
  assert.equal(bitshuffleLz4DeclaredSize(hex('00 00 00 01 00 00 00 00 | 00 00 20 00')), 2 ** 32);
  assertCompressionError(() => bitshuffleLz4DeclaredSize(hex('00 00 00')));
  assertCompressionError(() => bitshuffleLz4DeclaredSize(hex('ff ff ff ff ff ff ff ff 00 00 20 00')));
});

// ---- libbitshuffle as an independent implementation ----

interface PyCase {
  dtype: string;
  elemSize: number;
  elems: number;
  blockElems: number; // 0 = default
}

const pythonHasBitshuffle = (() => {
  try {
    execFileSync(SYSTEM_PYTHON, ['-c', 'import bitshuffle, numpy'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const PY_SCRIPT = `
import json, struct, sys
import numpy as np, bitshuffle
d = sys.argv[1]
cases = json.load(open(d + "/cases.json"))
report = []
for i, c in enumerate(cases):
    raw = open(f"{d}/{i}.raw", "rb").read()
    arr = np.frombuffer(raw, dtype=c["dtype"])
    blk = c["blockElems"] or max(128, (8192 // c["elemSize"]) // 8 * 8)
    # BP's framing around bitshuffle.compress_lz4 (which writes only the blocks and the tail)
    blob = struct.pack(">qi", arr.nbytes, blk * c["elemSize"]) + bitshuffle.compress_lz4(arr, c["blockElems"]).tobytes()
    open(f"{d}/{i}.py", "wb").write(blob)
    ours = np.frombuffer(open(f"{d}/{i}.ours", "rb").read(), dtype=np.uint8)
    total = int.from_bytes(ours[:8].tobytes(), "big")
    oblk = int.from_bytes(ours[8:12].tobytes(), "big") // c["elemSize"]
    back = bitshuffle.decompress_lz4(ours[12:], (total // c["elemSize"],), arr.dtype, oblk)
    ok = back.tobytes() == raw
    if c["elems"] % 8 == 0 and c["elems"] > 0:
        open(f"{d}/{i}.shuf", "wb").write(bitshuffle.bitshuffle(arr, c["elems"]).tobytes())
    report.append(ok)
print(json.dumps(report))
`;

test('agrees with libbitshuffle (python3-bitshuffle) in both directions', { skip: pythonHasBitshuffle ? false : 'no python3-bitshuffle' }, () => {
  const dtypes: Array<[string, number]> = [
    ['u1', 1],
    ['<u2', 2],
    ['<i4', 4],
    ['<f8', 8],
    ['V3', 3],
    ['V12', 12],
    ['V16', 16],
  ];
  const cases: PyCase[] = [];
  for (const [dtype, elemSize] of dtypes) {
    for (const elems of [0, 1, 7, 8, 9, 100, 1023, 4096, 4103, 9000]) {
      for (const blockElems of [0, 64, 256]) cases.push({ dtype, elemSize, elems, blockElems });
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'bshuf-test-'));
  try {
    const inputs = cases.map((c, i) => {
      const data = i % 2 === 0 ? smoothBytes(c.elems, c.elemSize, i) : randomBytes(c.elems * c.elemSize, i);
      writeFileSync(join(dir, `${i}.raw`), data);
      writeFileSync(join(dir, `${i}.ours`), bitshuffleLz4Compress(data, c.elemSize, c.blockElems * c.elemSize));
      return data;
    });
    writeFileSync(join(dir, 'cases.json'), JSON.stringify(cases));
    const report = JSON.parse(execFileSync(SYSTEM_PYTHON, ['-c', PY_SCRIPT, dir], { encoding: 'utf8' })) as boolean[];
    cases.forEach((c, i) => {
      const label = `${c.dtype} n=${c.elems} block=${c.blockElems}`;
      assert.equal(report[i], true, `python could not decode ours: ${label}`);
      const theirs = readFileSync(join(dir, `${i}.py`));
      assert.deepEqual(bitshuffleLz4Decompress(theirs, c.elemSize), inputs[i], `ours could not decode python's: ${label}`);
      const ours = readFileSync(join(dir, `${i}.ours`));
      assert.deepEqual(ours.subarray(0, 12), theirs.subarray(0, 12), `header differs: ${label}`);
      if (c.elems % 8 === 0 && c.elems > 0) {
        assert.deepEqual(bitshuffle(inputs[i]!, c.elemSize), readFileSync(join(dir, `${i}.shuf`)), `transpose differs: ${label}`);
      }
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---- corrupt input ----

const VALID_S = 2;
const VALID_DATA = smoothBytes(9003, VALID_S, 42); // 2 full blocks + partial block + 3-element tail
const VALID_BLOB = bitshuffleLz4Compress(VALID_DATA, VALID_S);

test('every truncation of a valid blob is rejected', () => {
  for (let len = 0; len < VALID_BLOB.length; len++) {
    assertCompressionError(() => bitshuffleLz4Decompress(VALID_BLOB.subarray(0, len), VALID_S));
  }
});

test('bytes after the tail are rejected', () => {
  assertCompressionError(() => bitshuffleLz4Decompress(Buffer.concat([VALID_BLOB, Buffer.from([0])]), VALID_S), /tail/);
});

test('lying total sizes are rejected', () => {
  const withTotal = (total: bigint) => {
    const b = Buffer.from(VALID_BLOB);
    b.writeBigUInt64BE(total, 0);
    return b;
  };
  const total = BigInt(VALID_DATA.length);
  for (const t of [total - 2n, total + 2n, total + 16n, total - 16n, total * 2n, 0n]) {
    assertCompressionError(() => bitshuffleLz4Decompress(withTotal(t), VALID_S));
  }
  assertCompressionError(() => bitshuffleLz4Decompress(withTotal(total + 1n), VALID_S), /multiple of the element size/);
});

test('huge declared totals are rejected before allocating', () => {
  for (const t of [2n ** 40n, 2n ** 63n, 2n ** 64n - 1n]) {
    const b = Buffer.from(VALID_BLOB);
    b.writeBigUInt64BE(t, 0);
    assertCompressionError(() => bitshuffleLz4Decompress(b, VALID_S), /limit/);
  }
  // A total under the limit but far beyond what the blob's bytes could expand to.
  const b = hex('00 00 00 00 00 10 00 00 | 00 00 20 00'); // 1 MiB in 128 blocks
  assertCompressionError(() => bitshuffleLz4Decompress(Buffer.concat([b, Buffer.alloc(1000)]), 1), /LZ4 can produce/);
  assertCompressionError(() => bitshuffleLz4Decompress(Buffer.concat([b, Buffer.alloc(100)]), 1), /needs at least 652 bytes/);
  assertCompressionError(() => bitshuffleLz4Decompress(VALID_BLOB, VALID_S, 1000), /limit of 1000/);
});

test('lying block lengths are rejected with the block named', () => {
  const b = Buffer.from(VALID_BLOB);
  b.writeUInt32BE(70000, 12);
  assertCompressionError(() => bitshuffleLz4Decompress(b, VALID_S), /block 0 declares 70000 bytes but only \d+ remain/);
  const first = VALID_BLOB.readUInt32BE(12);
  const second = Buffer.from(VALID_BLOB);
  second.writeUInt32BE(0xffffffff, 16 + first);
  assertCompressionError(() => bitshuffleLz4Decompress(second, VALID_S), /block 1 declares 4294967295 bytes/);
  const shorter = Buffer.from(VALID_BLOB);
  shorter.writeUInt32BE(first - 1, 12);
  assertCompressionError(() => bitshuffleLz4Decompress(shorter, VALID_S), /block 0/);
  const zero = Buffer.from(VALID_BLOB);
  zero.writeUInt32BE(0, 12);
  assertCompressionError(() => bitshuffleLz4Decompress(zero, VALID_S), /block 0/);
});

test('garbage LZ4 blocks are rejected', () => {
  const first = VALID_BLOB.readUInt32BE(12);
  for (let seed = 1; seed <= 50; seed++) {
    const b = Buffer.from(VALID_BLOB);
    randomBytes(first, seed).copy(b, 16);
    assertCompressionError(() => bitshuffleLz4Decompress(b, VALID_S), /block 0/);
  }
});

test('bad block size fields are rejected', () => {
  const withBlock = (field: number) => {
    const b = Buffer.from(VALID_BLOB);
    b.writeUInt32BE(field, 8);
    return b;
  };
  assertCompressionError(() => bitshuffleLz4Decompress(withBlock(8191), VALID_S), /multiple of the element size/);
  assertCompressionError(() => bitshuffleLz4Decompress(withBlock(8190), VALID_S), /not a multiple of 8/);
  assertCompressionError(() => bitshuffleLz4Decompress(withBlock(0xfffffff8), VALID_S));
  assertCompressionError(() => bitshuffleLz4Decompress(withBlock(16), VALID_S));
});

test('total % elemSize != 0 and a wrong element size are rejected', () => {
  assertCompressionError(() => bitshuffleLz4Decompress(hex('00 00 00 00 00 00 00 03 | 00 00 20 00 | 01 02 03'), 2), /multiple of the element size 2/);
  // Read with the wrong element size the block framing cannot match.
  assertCompressionError(() => bitshuffleLz4Decompress(VALID_BLOB, 4));
  assert.throws(() => bitshuffleLz4Decompress(VALID_BLOB, 0), { code: 'BSREAD_ERR_INVALID_ARGUMENT' });
  assert.throws(() => bitshuffleLz4Decompress(VALID_BLOB, 1.5), { code: 'BSREAD_ERR_INVALID_ARGUMENT' });
});

test('an empty array decodes to an empty buffer', () => {
  assert.equal(bitshuffleLz4Decompress(hex('00 00 00 00 00 00 00 00 | 00 00 20 00'), 4).length, 0);
  assertCompressionError(() => bitshuffleLz4Decompress(Buffer.alloc(0), 4), /shorter than its 12-byte header/);
});

const mutation = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ op: fc.constant('u32' as const), at: fc.nat(), value: fc.oneof(fc.nat(), fc.constantFrom(0, 1, 0xffffffff, 0x7fffffff, 8192)) }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(blob: Buffer, muts: Mutation[]): Buffer {
  let b = Buffer.from(blob);
  for (const m of muts) {
    const at = b.length === 0 ? 0 : m.at % b.length;
    if (m.op === 'flip' && b.length > 0) b[at] = b[at]! ^ m.xor;
    else if (m.op === 'truncate') b = b.subarray(0, at);
    else if (m.op === 'insert') b = Buffer.concat([b.subarray(0, at), m.bytes, b.subarray(at)]);
    else if (m.op === 'delete') b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.count)]);
    else if (m.op === 'u32' && at + 4 <= b.length) b.writeUInt32BE(m.value >>> 0, at - (at % 4));
  }
  return b;
}

test('property: a mutated blob decodes to its declared size or throws BsreadError', () => {
  const small = bitshuffleLz4Compress(smoothBytes(1500, 4, 5), 4, 256 * 4);
  const blobs: Array<[Buffer, number]> = [
    [VALID_BLOB, VALID_S],
    [small, 4],
    [bitshuffleLz4Compress(randomBytes(300, 3), 1), 1],
  ];
  fc.assert(
    fc.property(fc.nat(blobs.length - 1), fc.array(mutation, { minLength: 1, maxLength: 4 }), (which, muts) => {
      const [blob, s] = blobs[which]!;
      const bad = mutate(blob, muts);
      try {
        const out = bitshuffleLz4Decompress(bad, s);
        assert.equal(out.length, bitshuffleLz4DeclaredSize(bad));
      } catch (e) {
        if (!(e instanceof BsreadError) || e.code !== 'BSREAD_ERR_COMPRESSION') throw e;
      }
    }),
    { numRuns: 2000 },
  );
});

test('property: arbitrary bytes never crash the decoders', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.constantFrom(1, 2, 3, 4, 8), fc.boolean(), (bytes, s, big) => {
      for (const fn of [() => bitshuffleLz4Decompress(bytes, s), () => lz4Decompress(bytes, big ? 'big' : 'little')]) {
        try {
          fn();
        } catch (e) {
          if (!(e instanceof BsreadError) || e.code !== 'BSREAD_ERR_COMPRESSION') throw e;
        }
      }
    }),
    { numRuns: 3000 },
  );
});

// ---- lz4 (§6.3) ----

test('lz4 frames with either prefix order decode with either preference', () => {
  for (const data of [Buffer.alloc(0), Buffer.from([7]), smoothBytes(1000, 2, 1), randomBytes(5000, 2), Buffer.alloc(100000, 3)]) {
    for (const order of ['big', 'little'] as const) {
      const frame = lz4Compress(data, order);
      const prefix = order === 'big' ? frame.readUInt32BE(0) : frame.readUInt32LE(0);
      assert.equal(prefix, data.length);
      assert.deepEqual(lz4Decompress(frame, 'big'), data, `${order} prefix, ${data.length} bytes`);
      assert.deepEqual(lz4Decompress(frame, 'little'), data, `${order} prefix, ${data.length} bytes`);
    }
  }
});

test('lz4 decode prefers the given order when both readings are plausible', () => {
  // 0x00000100 read big-endian is 256, little-endian 65536: both within limits, only one fits.
  const data = Buffer.alloc(256, 1);
  const frame = lz4Compress(data, 'big');
  assert.deepEqual(lz4Decompress(frame, 'little'), data);
  assert.deepEqual(lz4Decompress(frame, 'big'), data);
});

test('corrupt lz4 frames are rejected', () => {
  const data = smoothBytes(3000, 2, 4);
  const frame = lz4Compress(data, 'big');
  assertCompressionError(() => lz4Decompress(frame.subarray(0, 3), 'big'), /shorter than its 4-byte size prefix/);
  for (let len = 4; len < frame.length; len += 7) {
    assertCompressionError(() => lz4Decompress(frame.subarray(0, len), 'big'));
  }
  const lying = Buffer.from(frame);
  lying.writeUInt32BE(data.length + 1, 0);
  assertCompressionError(() => lz4Decompress(lying, 'big'), /big-endian prefix declares 6001 bytes.*little-endian prefix declares/);
  lying.writeUInt32BE(data.length - 1, 0);
  assertCompressionError(() => lz4Decompress(lying, 'big'));
  const huge = Buffer.from(frame);
  huge.writeUInt32BE(0xfffffff0, 0);
  assertCompressionError(() => lz4Decompress(huge, 'big'));
  assertCompressionError(() => lz4Decompress(frame, 'big', 100), /limit of 100/);
  assertCompressionError(() => lz4Decompress(Buffer.concat([frame.subarray(0, 4), randomBytes(200, 9)]), 'big'));
  assertCompressionError(() => lz4Decompress(hex('01 00 00 00'), 'little')); // 1 byte declared, no block
});

test('an lz4 frame of only the prefix 0 is an empty value (PSI\'s sender compresses "" to it)', () => {
  for (const order of ['little', 'big'] as const) assert.equal(lz4Decompress(hex('00 00 00 00'), order).length, 0);
});

test('bitshuffleLz4Check gives the verdict of a full decode, for valid blobs and random corruptions', () => {
  const elems = 3 * 4096 + 13; // full blocks, a last partial block and a raw tail
  const data = new Uint16Array(elems);
  for (let i = 0; i < elems; i++) data[i] = (i * 7) & 0x3ff;
  const bytes = new Uint8Array(data.buffer);
  const blob = bitshuffleLz4Compress(bytes, 2);
  bitshuffleLz4Check(blob, 2, bytes.byteLength);
  assert.throws(
    () => bitshuffleLz4Check(blob, 2, bytes.byteLength - 2),
    (e: unknown) => e instanceof BsreadError && /declares .* bytes/.test(e.message),
  );
  fc.assert(
    fc.property(fc.integer({ min: 12, max: blob.length - 1 }), fc.integer({ min: 1, max: 255 }), fc.boolean(), (at, xor, cut) => {
      const bad = cut ? blob.subarray(0, at) : Uint8Array.from(blob);
      if (!cut) bad[at] = bad[at]! ^ xor;
      let full: string | null = null;
      try {
        const out = bitshuffleLz4Decompress(bad, 2);
        if (out.byteLength !== bytes.byteLength) full = 'size';
      } catch (e) {
        full = e instanceof BsreadError ? e.code : 'other';
      }
      let check: string | null = null;
      try {
        bitshuffleLz4Check(bad, 2, bytes.byteLength);
      } catch (e) {
        check = e instanceof BsreadError ? e.code : 'other';
      }
      assert.equal(check === null, full === null, `at ${at} xor ${xor} cut ${cut}: decode ${full}, check ${check}`);
      if (check !== null) assert.equal(check, 'BSREAD_ERR_COMPRESSION');
    }),
    { seed: 8, numRuns: 400 },
  );
});
