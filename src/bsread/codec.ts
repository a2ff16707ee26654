// Values by type, endianness and shape (§4, §5): one channel's value frame → little-endian bytes
// → JS value, and the timestamp frame. Pure functions on one channel; message.ts calls them
// lazily, per channel, when a consumer asks.
import { MalformedMessageError } from '../errors.js';
import { bitshuffleLz4DeclaredSize, bitshuffleLz4Decompress, lz4Decompress } from './compression.js';
import { asBuffer, compressionError } from './header.js';
import { TYPES, type BsreadType, type ChannelDef, type Timestamp, type TypedArray } from './types.js';

/** An array value: elements in C order, `shape` in C order (the reverse of the bsread shape). */
export interface NdArray {
  readonly dtype: BsreadType;
  readonly shape: readonly number[];
  /** Little-endian host values; may be a view into the received frame (do not keep it past the frame). */
  readonly data: TypedArray;
}

/**
 * A decoded value. Scalars (bsread shape [1] or []) are numbers; int64/uint64 scalars are bigint
 * (exact); bool is 0/1; strings are JS strings. Everything else is an NdArray.
 */
export type ChannelValue = number | bigint | string | NdArray;

/** Upper bound for a decompressed string value, whose size the header cannot tell. */
export const DEFAULT_MAX_VALUE_BYTES = 1024 * 1024 * 1024;

/** Bytes one value must have (non-string channels). */
export function expectedBytes(def: ChannelDef): number {
  return def.elements * TYPES[def.type].size;
}

/** Whether the channel is a scalar in the fixtures' sense: bsread shape [1] (or []). */
export function isScalarShape(def: ChannelDef): boolean {
  return def.shape.length === 0 || (def.shape.length === 1 && def.shape[0] === 1);
}

function u32(frame: Uint8Array, little: boolean): number {
  return little ? (frame[0]! | (frame[1]! << 8) | (frame[2]! << 16) | (frame[3]! << 24)) >>> 0 : ((frame[0]! << 24) | (frame[1]! << 16) | (frame[2]! << 8) | frame[3]!) >>> 0;
}

/**
 * Whether a value frame carries a value (§4.3): not empty, and for compressed numeric frames a
 * declared size other than 0. A compressed string frame that declares 0 bytes is the empty
 * string `""` (PSI's sender compresses "" to a 12-byte bitshuffle_lz4 or 4-byte lz4 blob), not
 * a missing value. Never throws; a frame too short to have a header counts as present (its
 * decode then reports the problem).
 */
export function framePresent(compression: ChannelDef['compression'] | undefined, frame: Uint8Array, type?: ChannelDef['type']): boolean {
  const n = frame.length;
  if (n === 0) return false;
  if (type === 'string') return true;
  if (compression === 'bitshuffle_lz4' && n >= 8) {
    for (let i = 0; i < 8; i++) if (frame[i] !== 0) return true;
    return false;
  }
  if (compression === 'lz4' && n >= 4) return u32(frame, true) !== 0;
  return true;
}

/**
 * Uncompressed size the frame declares, without decompressing: bitshuffle_lz4 header total,
 * lz4 prefix (in the channel's byte order, else the other if that one is implausible), or the
 * frame length for none. Throws MalformedMessageError('decompress') on a truncated header.
 */
export function declaredSize(def: ChannelDef, frame: Uint8Array): number {
  switch (def.compression) {
    case 'none':
      return frame.length;
    case 'bitshuffle_lz4':
      if (frame.length < 12) throw new MalformedMessageError('decompress', `bitshuffle_lz4 frame of ${frame.length} bytes`, def.name);
      try {
        return bitshuffleLz4DeclaredSize(frame);
      } catch (e) {
        throw compressionError(e, 'bitshuffle_lz4 header', def.name);
      }
    case 'lz4': {
      if (frame.length < 4) throw new MalformedMessageError('decompress', `lz4 frame of ${frame.length} bytes`, def.name);
      const little = def.encoding === 'little';
      const first = u32(frame, little);
      if (def.type !== 'string' && first !== expectedBytes(def)) {
        const other = u32(frame, !little);
        if (other === expectedBytes(def)) return other;
      }
      return first;
    }
  }
}

/**
 * The value's element bytes as sent but decompressed (still in the channel's byte order).
 * null when missing. Checks the size against type × shape for non-string channels.
 */
export function rawValueBytes(def: ChannelDef, frame: Uint8Array, maxValueBytes = DEFAULT_MAX_VALUE_BYTES): Uint8Array | null {
  if (!framePresent(def.compression, frame, def.type)) return null;
  const isString = def.type === 'string';
  const want = isString ? -1 : expectedBytes(def);
  let bytes: Uint8Array;
  if (def.compression === 'none') {
    bytes = frame;
  } else {
    const max = isString ? maxValueBytes : Math.min(want, maxValueBytes);
    try {
      bytes = def.compression === 'bitshuffle_lz4' ? bitshuffleLz4Decompress(frame, TYPES[def.type].size, max) : lz4Decompress(frame, def.encoding, max);
    } catch (e) {
      throw compressionError(e, def.compression, def.name);
    }
  }
  if (!isString && bytes.length !== want) {
    throw new MalformedMessageError('size_mismatch', `${bytes.length} bytes for ${def.type} shape ${JSON.stringify(def.shape)} (${want} expected)`, def.name);
  }
  return bytes;
}

function swapInPlace(b: Buffer, size: number): void {
  if (size === 2) b.swap16();
  else if (size === 4) b.swap32();
  else if (size === 8) b.swap64();
}

/**
 * The value as little-endian element bytes in C order, ready for an HDF5 write. No copy when the
 * channel is little-endian and uncompressed (a view of the frame). null when missing.
 */
export function valueBytesLE(def: ChannelDef, frame: Uint8Array, maxValueBytes?: number): Uint8Array | null {
  const raw = rawValueBytes(def, frame, maxValueBytes);
  if (raw === null) return null;
  const size = TYPES[def.type].size;
  if (def.encoding === 'little' || size === 1) return raw;
  // Decompressed output is ours to change; a frame is not.
  const out = raw === frame ? new Uint8Array(raw) : raw;
  swapInPlace(asBuffer(out), size);
  return out;
}

/** A typed array over LE bytes: a view when aligned, otherwise an aligned copy. */
export function typedArrayOf(type: BsreadType, le: Uint8Array): TypedArray {
  const t = TYPES[type];
  const n = le.byteLength / t.size;
  if (le.byteOffset % t.size === 0) return new t.array(le.buffer, le.byteOffset, n);
  const copy = new Uint8Array(le.byteLength);
  copy.set(le);
  return new t.array(copy.buffer, 0, n);
}

// Scalars are read through one 8-byte scratch buffer: no allocation, no DataView per frame, and
// one small monomorphic function per type and byte order (this is the 1000-scalar hot path).
const S = new ArrayBuffer(8);
const S8 = new Uint8Array(S);
const I8 = new Int8Array(S);
const I16 = new Int16Array(S);
const U16 = new Uint16Array(S);
const I32 = new Int32Array(S);
const U32 = new Uint32Array(S);
const F32 = new Float32Array(S);
const F64 = new Float64Array(S);
const I64 = new BigInt64Array(S);
const U64 = new BigUint64Array(S);

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  // Typed-array views of little-endian bytes (and HDF5 *LE types) assume a little-endian host.
  throw new Error('src/bsread needs a little-endian host');
}

function cp2le(f: Uint8Array): void {
  S8[0] = f[0]!;
  S8[1] = f[1]!;
}
function cp2be(f: Uint8Array): void {
  S8[0] = f[1]!;
  S8[1] = f[0]!;
}
function cp4le(f: Uint8Array): void {
  S8[0] = f[0]!;
  S8[1] = f[1]!;
  S8[2] = f[2]!;
  S8[3] = f[3]!;
}
function cp4be(f: Uint8Array): void {
  S8[0] = f[3]!;
  S8[1] = f[2]!;
  S8[2] = f[1]!;
  S8[3] = f[0]!;
}
function cp8le(f: Uint8Array): void {
  S8[0] = f[0]!;
  S8[1] = f[1]!;
  S8[2] = f[2]!;
  S8[3] = f[3]!;
  S8[4] = f[4]!;
  S8[5] = f[5]!;
  S8[6] = f[6]!;
  S8[7] = f[7]!;
}
function cp8be(f: Uint8Array): void {
  S8[0] = f[7]!;
  S8[1] = f[6]!;
  S8[2] = f[5]!;
  S8[3] = f[4]!;
  S8[4] = f[3]!;
  S8[5] = f[2]!;
  S8[6] = f[1]!;
  S8[7] = f[0]!;
}

/** Reads one element at offset 0 (the caller has checked the length). */
export type ScalarReader = (f: Uint8Array) => number | bigint;

const u8 = (f: Uint8Array): number => f[0]!;
const i8 = (f: Uint8Array): number => ((S8[0] = f[0]!), I8[0]!);
const READERS: Readonly<Record<Exclude<BsreadType, 'string'>, readonly [le: ScalarReader, be: ScalarReader]>> = {
  bool: [u8, u8],
  uint8: [u8, u8],
  int8: [i8, i8],
  int16: [(f) => (cp2le(f), I16[0]!), (f) => (cp2be(f), I16[0]!)],
  uint16: [(f) => (cp2le(f), U16[0]!), (f) => (cp2be(f), U16[0]!)],
  int32: [(f) => (cp4le(f), I32[0]!), (f) => (cp4be(f), I32[0]!)],
  uint32: [(f) => (cp4le(f), U32[0]!), (f) => (cp4be(f), U32[0]!)],
  float32: [(f) => (cp4le(f), F32[0]!), (f) => (cp4be(f), F32[0]!)],
  float64: [(f) => (cp8le(f), F64[0]!), (f) => (cp8be(f), F64[0]!)],
  int64: [(f) => (cp8le(f), I64[0]!), (f) => (cp8be(f), I64[0]!)],
  uint64: [(f) => (cp8le(f), U64[0]!), (f) => (cp8be(f), U64[0]!)],
};

export function scalarReader(type: Exclude<BsreadType, 'string'>, encoding: 'little' | 'big'): ScalarReader {
  return READERS[type][encoding === 'little' ? 0 : 1];
}

function readScalar(type: BsreadType, b: Uint8Array, little: boolean): number | bigint {
  if (type === 'string') throw new Error('unreachable: string is not a numeric scalar');
  return READERS[type][little ? 0 : 1](b);
}

// Strict: invalid UTF-8 is an error, not U+FFFD (bsread_python's decode fails too); a leading
// BOM is kept as U+FEFF like Python's bytes.decode('utf-8').
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * A string value's UTF-8 bytes → text. Trailing NULs are padding (C producers send fixed-size
 * buffers): dropped. A NUL followed by other bytes, or invalid UTF-8, would be stored altered
 * (HDF5 strings end at the first NUL; a replacement character hides the bytes): bad_field.
 */
export function decodeString(bytes: Uint8Array, channel: string): string {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  const body = end === bytes.length ? bytes : bytes.subarray(0, end);
  const nul = body.indexOf(0);
  if (nul >= 0) throw new MalformedMessageError('bad_field', `string value has a NUL character at byte ${nul}, before other text`, channel);
  try {
    return utf8.decode(body);
  } catch (e) {
    throw new MalformedMessageError('bad_field', 'string value is not valid UTF-8', channel, { cause: e });
  }
}

/** Decodes a value frame. null when missing. Throws MalformedMessageError. */
export function decodeValue(def: ChannelDef, frame: Uint8Array, maxValueBytes?: number): ChannelValue | null {
  // Fast path: an uncompressed scalar is read straight from the frame (no copy, no swap).
  if (def.compression === 'none' && def.type !== 'string' && isScalarShape(def)) {
    const size = TYPES[def.type].size;
    if (frame.length === 0) return null;
    if (frame.length !== size) {
      throw new MalformedMessageError('size_mismatch', `${frame.length} bytes for a ${def.type} scalar (${size} expected)`, def.name);
    }
    return readScalar(def.type, frame, def.encoding === 'little');
  }
  const raw = rawValueBytes(def, frame, maxValueBytes);
  if (raw === null) return null;
  if (def.type === 'string') return decodeString(raw, def.name);
  if (isScalarShape(def)) return readScalar(def.type, raw, def.encoding === 'little');
  const size = TYPES[def.type].size;
  let le = raw;
  if (def.encoding === 'big' && size > 1) {
    le = raw === frame ? new Uint8Array(raw) : raw;
    swapInPlace(asBuffer(le), size);
  }
  return { dtype: def.type, shape: def.cShape, data: typedArrayOf(def.type, le) };
}

function toSafe(v: bigint, what: string, channel: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new MalformedMessageError('bad_timestamp', `${what} ${v} is out of range`, channel);
  return n;
}

/**
 * Timestamp frame (§4.2): 16 bytes, sec then ns as int64 in the channel's byte order, or empty
 * (null: use the global timestamp). Any other length is bad_timestamp.
 */
export function decodeTimestamp(def: { name: string; encoding: 'little' | 'big' }, frame: Uint8Array): Timestamp | null {
  if (frame.length === 0) return null;
  if (frame.length !== 16) {
    throw new MalformedMessageError('bad_timestamp', `timestamp frame of ${frame.length} bytes (16 expected)`, def.name);
  }
  const b = asBuffer(frame);
  const little = def.encoding === 'little';
  const sec = little ? b.readBigInt64LE(0) : b.readBigInt64BE(0);
  const ns = little ? b.readBigInt64LE(8) : b.readBigInt64BE(8);
  return { sec: toSafe(sec, 'sec', def.name), ns: toSafe(ns, 'ns', def.name) };
}

/** Decodes one channel's value frame; built once per definition (see valueDecoder). */
export type ValueDecoder = (frame: Uint8Array, maxValueBytes: number) => ChannelValue | null;

/**
 * A decoder specialised for one definition: uncompressed numeric scalars get a direct reader
 * (the common case: thousands of them per message); everything else goes through decodeValue.
 */
export function valueDecoder(def: ChannelDef): ValueDecoder {
  if (def.compression === 'none' && def.type !== 'string' && isScalarShape(def)) {
    const read = scalarReader(def.type, def.encoding);
    const size = TYPES[def.type].size;
    return (frame) => {
      const n = frame.length;
      if (n === size) return read(frame);
      if (n === 0) return null;
      throw new MalformedMessageError('size_mismatch', `${n} bytes for a ${def.type} scalar (${size} expected)`, def.name);
    };
  }
  return (frame, max) => decodeValue(def, frame, max);
}
