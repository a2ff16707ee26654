// The one table of bsread types (protocol §5.1) and the wire strings (§2, §3, §6). Every other
// file takes sizes, typed-array constructors and HDF5/numpy names from here; the wire strings
// are written nowhere else.
import type { MalformedMessageError } from '../errors.js';

/** Main-header htype we emit (§2). Receivers accept any htype starting with MAIN_HTYPE_PREFIX. */
export const MAIN_HTYPE = 'bsr_m-1.1' as const;
/** Prefix that marks a data message (§1.3); control messages such as bsr_reconnect-1.0 lack it. */
export const MAIN_HTYPE_PREFIX = 'bsr_m' as const;
/** Data-header htype we emit (§3.1). Receivers accept anything. */
export const DATA_HTYPE = 'bsr_d-1.1' as const;

export const HTYPES = [MAIN_HTYPE, DATA_HTYPE] as const;
export type Htype = (typeof HTYPES)[number];

export const COMPRESSIONS = ['none', 'bitshuffle_lz4', 'lz4'] as const;
export type Compression = (typeof COMPRESSIONS)[number];

export const ENCODINGS = ['little', 'big'] as const;
export type Encoding = (typeof ENCODINGS)[number];

export const BSREAD_TYPES = ['bool', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'float32', 'float64', 'string'] as const;
export type BsreadType = (typeof BSREAD_TYPES)[number];
export type NumericType = Exclude<BsreadType, 'string'>;

export type TypedArray = Uint8Array | Int8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array | Float32Array | Float64Array;

export interface TypedArrayConstructor<T extends TypedArray = TypedArray> {
  new (length: number): T;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): T;
  readonly BYTES_PER_ELEMENT: number;
}

export interface TypeInfo {
  readonly type: BsreadType;
  /** Bytes per element on the wire (1 for string: a UTF-8 byte). Also the bitshuffle element size. */
  readonly size: 1 | 2 | 4 | 8;
  /** Typed array holding decoded elements (bool: 0/1 in a Uint8Array; string: UTF-8 bytes). */
  readonly array: TypedArrayConstructor;
  /** numpy dtype name as PSI's bsread decoder gives it; the JSON "dtype". */
  readonly numpy: string;
  /** HDF5 type the SwissFEL writer stores (§5.1); strings are variable-length UTF-8. */
  readonly hdf5: string;
  /** Values are bigint (int64/uint64). */
  readonly bigint: boolean;
  readonly float: boolean;
}

function info(type: BsreadType, size: TypeInfo['size'], array: TypedArrayConstructor, numpy: string, hdf5: string): TypeInfo {
  return Object.freeze({
    type,
    size,
    array,
    numpy,
    hdf5,
    bigint: type === 'int64' || type === 'uint64',
    float: type === 'float32' || type === 'float64',
  });
}

export const TYPES: Readonly<Record<BsreadType, TypeInfo>> = Object.freeze({
  bool: info('bool', 1, Uint8Array, 'bool', 'H5T_ENUM {H5T_STD_I8LE; FALSE 0; TRUE 1} (h5py bool)'),
  int8: info('int8', 1, Int8Array, 'int8', 'H5T_STD_I8LE'),
  uint8: info('uint8', 1, Uint8Array, 'uint8', 'H5T_STD_U8LE'),
  int16: info('int16', 2, Int16Array, 'int16', 'H5T_STD_I16LE'),
  uint16: info('uint16', 2, Uint16Array, 'uint16', 'H5T_STD_U16LE'),
  int32: info('int32', 4, Int32Array, 'int32', 'H5T_STD_I32LE'),
  uint32: info('uint32', 4, Uint32Array, 'uint32', 'H5T_STD_U32LE'),
  int64: info('int64', 8, BigInt64Array, 'int64', 'H5T_STD_I64LE'),
  uint64: info('uint64', 8, BigUint64Array, 'uint64', 'H5T_STD_U64LE'),
  float32: info('float32', 4, Float32Array, 'float32', 'H5T_IEEE_F32LE'),
  float64: info('float64', 8, Float64Array, 'float64', 'H5T_IEEE_F64LE'),
  string: info('string', 1, Uint8Array, 'str', 'H5T_STRING (variable-length UTF-8)'),
});

const TYPE_SET: ReadonlySet<string> = new Set(BSREAD_TYPES);
const COMPRESSION_SET: ReadonlySet<string> = new Set(COMPRESSIONS);

export function isBsreadType(s: string): s is BsreadType {
  return TYPE_SET.has(s);
}

export function isCompression(s: string): s is Compression {
  return COMPRESSION_SET.has(s);
}

/** Seconds and nanoseconds (main-header global_timestamp, per-channel timestamp frame). */
export interface Timestamp {
  readonly sec: number;
  readonly ns: number;
}

/**
 * One channel as the data header defines it, with every §3.2 default applied.
 * `shape` is in bsread order (fastest-varying first); `cShape` is its reverse (C order, §5.2).
 */
export interface ChannelDef {
  readonly name: string;
  readonly type: BsreadType;
  readonly shape: readonly number[];
  readonly encoding: Encoding;
  readonly compression: Compression;
  readonly modulo: number;
  readonly offset: number;
  /** The reversed shape: the C-order (numpy/HDF5) shape of one value. */
  readonly cShape: readonly number[];
  /** Product of `shape`: elements per value (for strings: ignored, the frame length counts). */
  readonly elements: number;
  /**
   * Canonical form of the definition: equal keys ⇔ equal definitions after defaults (name, type,
   * shape, encoding, compression, modulo, offset). Use it for "definition changed" checks.
   */
  readonly key: string;
  /** Always undefined on a usable definition (see InvalidChannelDef). */
  readonly invalid?: undefined;
}

/**
 * A channel whose entry in the data header cannot be used (unknown type or compression, a bad
 * shape...). Its frames are still there; asking for its value throws `invalid`. Other channels
 * of the same message are unaffected.
 */
export interface InvalidChannelDef {
  readonly name: string;
  readonly invalid: MalformedMessageError;
  /** Canonical key of the raw entry, so a change of a bad entry is still a change. */
  readonly key: string;
}

export type ChannelEntry = ChannelDef | InvalidChannelDef;

const STRING_KEY_SHAPE: readonly number[] = [1];

/** Canonical key of a usable definition (see ChannelDef.key); string shapes are ignored. */
export function channelKey(d: { name: string; type: BsreadType; shape: readonly number[]; encoding: Encoding; compression: Compression; modulo: number; offset: number }): string {
  // A string's shape means nothing (§5.3, §11 item 5: some producers send the byte length),
  // so it is not part of the definition: [1] for every string.
  return JSON.stringify([d.name, d.type, d.type === 'string' ? STRING_KEY_SHAPE : d.shape, d.encoding, d.compression, d.modulo, d.offset]);
}
