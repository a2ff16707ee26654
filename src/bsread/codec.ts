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
  return little
    ? (frame[0]! | (frame[1]! << 8) | (frame[2]! << 16) | (frame[3]! << 24)) >>> 0
    : ((frame[0]! << 24) | (frame[1]! << 16) | (frame[2]! << 8) | frame[3]!) >>> 0;
}

/**
 * Whether a value frame carries a value (§4.3): not empty, and for compressed frames a declared
 * size other than 0. Never throws; a frame too short to have a header counts as present (its
 * decode then reports the problem).
 */
export function framePresent(compression: ChannelDef['compression'] | undefined, frame: Uint8Array): boolean {
  const n = frame.length;
  if (n === 0) return false;
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
  if (!framePresent(def.compression, frame)) return null;
  const isString = def.type === 'string';
  const want = isString ? -1 : expectedBytes(def);
  let bytes: Uint8Array;
  if (def.compression === 'none') {
    bytes = frame;
  } else {
    const max = isString ? maxValueBytes : Math.min(want, maxValueBytes);
    try {
      bytes =
        def.compression === 'bitshuffle_lz4'
          ? bitshuffleLz4Decompress(frame, TYPES[def.type].size, max)
          : lz4Decompress(frame, def.encoding, max);
    } catch (e) {
      throw compressionError(e, def.compression, def.name);
    }
  }
  if (!isString && bytes.length !== want) {
    throw new MalformedMessageError(
      'size_mismatch',
      `${bytes.length} bytes for ${def.type} shape ${JSON.stringify(def.shape)} (${want} expected)`,
      def.name,
    );
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

/** One element at byte offset 0 of `b` in the given byte order. */
function readScalar(type: BsreadType, b: Buffer, little: boolean): number | bigint {
  switch (type) {
    case 'bool':
    case 'uint8':
      return b[0]!;
    case 'int8':
      return b.readInt8(0);
    case 'int16':
      return little ? b.readInt16LE(0) : b.readInt16BE(0);
    case 'uint16':
      return little ? b.readUInt16LE(0) : b.readUInt16BE(0);
    case 'int32':
      return little ? b.readInt32LE(0) : b.readInt32BE(0);
    case 'uint32':
      return little ? b.readUInt32LE(0) : b.readUInt32BE(0);
    case 'int64':
      return little ? b.readBigInt64LE(0) : b.readBigInt64BE(0);
    case 'uint64':
      return little ? b.readBigUInt64LE(0) : b.readBigUInt64BE(0);
    case 'float32':
      return little ? b.readFloatLE(0) : b.readFloatBE(0);
    case 'float64':
      return little ? b.readDoubleLE(0) : b.readDoubleBE(0);
    case 'string':
      throw new Error('unreachable: string is not a numeric scalar');
  }
}

const utf8 = new TextDecoder('utf-8');

/** Decodes a value frame. null when missing. Throws MalformedMessageError. */
export function decodeValue(def: ChannelDef, frame: Uint8Array, maxValueBytes?: number): ChannelValue | null {
  // Fast path: an uncompressed scalar is read straight from the frame (no copy, no swap).
  if (def.compression === 'none' && def.type !== 'string' && isScalarShape(def)) {
    const size = TYPES[def.type].size;
    if (frame.length === 0) return null;
    if (frame.length !== size) {
      throw new MalformedMessageError('size_mismatch', `${frame.length} bytes for a ${def.type} scalar (${size} expected)`, def.name);
    }
    return readScalar(def.type, asBuffer(frame), def.encoding === 'little');
  }
  const raw = rawValueBytes(def, frame, maxValueBytes);
  if (raw === null) return null;
  if (def.type === 'string') return utf8.decode(raw);
  if (isScalarShape(def)) return readScalar(def.type, asBuffer(raw), def.encoding === 'little');
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
