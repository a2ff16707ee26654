// The sending side: JS values → the frames of one bsread message (§1.3–§6), as bsread_python's
// sender lays them out (key order, JSON separators), so that our messages look like real ones.
import { createHash } from 'node:crypto';
import { BsreadError } from '../errors.js';
import { bitshuffleLz4Compress, lz4Compress } from './compression.js';
import { makeChannelDef } from './header.js';
import { pyJson, type PyJsonValue } from './pyjson.js';
import { DATA_HTYPE, MAIN_HTYPE, TYPES, type BsreadType, type ChannelDef, type Compression, type Encoding, type Timestamp, type TypedArray } from './types.js';

/** A channel definition to send; omitted fields are derived from the value or take the §3.2 defaults. */
export interface ChannelDefInput {
  readonly name: string;
  readonly type?: BsreadType;
  /** bsread order (fastest-varying first). Default: from the value ([1] for scalars and strings). */
  readonly shape?: readonly number[];
  readonly encoding?: Encoding;
  readonly compression?: Compression;
  readonly modulo?: number;
  readonly offset?: number;
}

export type ScalarInput = number | bigint | boolean | string;
/** An array value: elements in C order, `shape` in C order (the reverse of the bsread shape). */
export interface NdArrayInput {
  readonly shape: readonly number[];
  readonly data: TypedArray | readonly (number | bigint | boolean)[];
  readonly dtype?: BsreadType;
}
/** A value to send: a scalar, a string, a flat array (1-D) or an NdArrayInput. */
export type ValueInput = ScalarInput | TypedArray | readonly (number | bigint | boolean)[] | NdArrayInput;

export interface EncodeChannel {
  readonly def: ChannelDefInput;
  /** null: missing (two empty frames). */
  readonly value: ValueInput | null;
  /** Default: the message's global timestamp. null: an empty timestamp frame. */
  readonly timestamp?: Timestamp | null;
}

export interface EncodeMessageInput {
  readonly pulseId: number;
  readonly globalTimestamp: Timestamp;
  readonly channels: readonly EncodeChannel[];
  /** Compression of the data header. Default none (then dh_compression is left out, as BP does). */
  readonly dhCompression?: Compression;
  /** A prepared data header to reuse (see prepareDataHeader); must match the channels' definitions. */
  readonly header?: PreparedDataHeader;
}

/** Frame 1 and its hash, ready to be sent with many messages. */
export interface PreparedDataHeader {
  readonly defs: readonly ChannelDef[];
  readonly dhCompression: Compression;
  /** Frame 1 as sent (compressed when dhCompression is not none). */
  readonly frame: Buffer;
  /** md5 hex of `frame` (§3.3). */
  readonly hash: string;
}

function invalid(msg: string): BsreadError {
  return new BsreadError('BSREAD_ERR_INVALID_ARGUMENT', msg);
}

function isNdArrayInput(v: ValueInput): v is NdArrayInput {
  return typeof v === 'object' && !ArrayBuffer.isView(v) && !Array.isArray(v);
}

function typeOfArray(a: TypedArray): BsreadType {
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Int8Array) return 'int8';
  if (a instanceof Int16Array) return 'int16';
  if (a instanceof Uint16Array) return 'uint16';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Uint32Array) return 'uint32';
  if (a instanceof BigInt64Array) return 'int64';
  if (a instanceof BigUint64Array) return 'uint64';
  return 'uint8';
}

function typeOfScalar(v: number | bigint | boolean | undefined): BsreadType {
  if (typeof v === 'bigint') return 'int64';
  if (typeof v === 'boolean') return 'bool';
  return 'float64';
}

/** Applies the defaults and derives what the value implies (type, shape). */
export function resolveChannelDef(def: ChannelDefInput, value: ValueInput | null = null): ChannelDef {
  let type = def.type;
  let shape = def.shape;
  if (value !== null) {
    if (typeof value === 'string') {
      type ??= 'string';
      shape ??= [1];
    } else if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') {
      type ??= typeOfScalar(value);
      shape ??= [1];
    } else if (ArrayBuffer.isView(value)) {
      type ??= typeOfArray(value);
      shape ??= [value.length];
    } else if (Array.isArray(value)) {
      type ??= typeOfScalar((value as readonly (number | bigint | boolean)[])[0]);
      shape ??= [value.length];
    } else if (isNdArrayInput(value)) {
      type ??= value.dtype ?? (ArrayBuffer.isView(value.data) ? typeOfArray(value.data) : typeOfScalar(value.data[0]));
      shape ??= value.shape.length === 0 ? [1] : [...value.shape].reverse();
    }
  }
  const resolved = makeChannelDef({
    name: def.name,
    type: type ?? 'float64',
    shape: shape ?? [1],
    encoding: def.encoding ?? 'little',
    compression: def.compression ?? 'none',
    modulo: def.modulo ?? 1,
    offset: def.offset ?? 0,
  });
  for (const s of resolved.shape) if (!Number.isSafeInteger(s) || s < 0) throw invalid(`channel ${def.name}: bad shape ${JSON.stringify(resolved.shape)}`);
  return resolved;
}

/** The data-header entry of a definition, in BP's key order; defaults of optional keys left out. */
function headerEntry(d: ChannelDef): PyJsonValue {
  const e: Record<string, PyJsonValue> = { name: d.name, type: d.type, shape: [...d.shape], encoding: d.encoding };
  if (d.compression !== 'none') e['compression'] = d.compression;
  if (d.modulo !== 1) e['modulo'] = d.modulo;
  if (d.offset !== 0) e['offset'] = d.offset;
  return e;
}

/** Builds frame 1 for these definitions (emits bsr_d-1.1) and its hash. */
export function prepareDataHeader(defs: readonly ChannelDef[], dhCompression: Compression = 'none'): PreparedDataHeader {
  const json = Buffer.from(pyJson({ htype: DATA_HTYPE, channels: defs.map(headerEntry) }), 'utf8');
  const frame = dhCompression === 'none' ? json : dhCompression === 'lz4' ? lz4Compress(json, 'big') : bitshuffleLz4Compress(json, 1);
  return Object.freeze({ defs, dhCompression, frame, hash: createHash('md5').update(frame).digest('hex') });
}

function elementsOf(def: ChannelDef, value: Exclude<ValueInput, string>): TypedArray | readonly (number | bigint | boolean)[] {
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return [value];
  if (ArrayBuffer.isView(value) || Array.isArray(value)) return value as TypedArray | readonly (number | bigint | boolean)[];
  const nd = value as NdArrayInput;
  let n = 1;
  for (const s of nd.shape) n *= s;
  const cShape = def.cShape.length === 0 ? [1] : def.cShape;
  const given = nd.shape.length === 0 ? [1] : nd.shape;
  if (n !== nd.data.length || given.length !== cShape.length || given.some((s, i) => s !== cShape[i])) {
    throw invalid(`channel ${def.name}: value shape ${JSON.stringify(nd.shape)} (C order) does not match bsread shape ${JSON.stringify(def.shape)}`);
  }
  return nd.data;
}

/** Element bytes, little-endian, of a non-string value. */
function littleEndianBytes(def: ChannelDef, elems: TypedArray | readonly (number | bigint | boolean)[]): Buffer {
  const t = TYPES[def.type];
  const n = elems.length;
  if (n !== def.elements) {
    throw invalid(`channel ${def.name}: ${n} elements for shape ${JSON.stringify(def.shape)} (${def.elements} expected)`);
  }
  if (ArrayBuffer.isView(elems) && def.type !== 'bool' && elems instanceof t.array) {
    return Buffer.from(new Uint8Array(elems.buffer, elems.byteOffset, elems.byteLength)); // copy
  }
  // A slice of Node's Buffer pool for small values (aligned to 8 bytes): a scalar costs no
  // ArrayBuffer of its own, which was most of the simulator's time at 5000 channels.
  const buf = Buffer.allocUnsafe(n * t.size);
  const out = buf.byteOffset % t.size === 0 ? new t.array(buf.buffer, buf.byteOffset, n) : new t.array(n);
  for (let i = 0; i < n; i++) {
    const v = elems[i]!;
    if (def.type === 'bool') (out as Uint8Array)[i] = v === true || (typeof v !== 'boolean' && Number(v) !== 0) ? 1 : 0;
    else if (t.bigint) (out as BigInt64Array)[i] = typeof v === 'bigint' ? v : BigInt(Number(v));
    else (out as Float64Array)[i] = Number(v);
  }
  return out.buffer === buf.buffer ? buf : Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

/** The value frame of one channel (uncompressed bytes in the channel's encoding, then compressed). */
export function encodeValue(def: ChannelDef, value: ValueInput | null): Buffer {
  if (value === null) return Buffer.alloc(0);
  let bytes: Buffer;
  if (def.type === 'string') {
    if (typeof value !== 'string') throw invalid(`channel ${def.name}: string channel needs a string value`);
    bytes = Buffer.from(value, 'utf8');
  } else {
    if (typeof value === 'string') throw invalid(`channel ${def.name}: ${def.type} channel given a string`);
    bytes = littleEndianBytes(def, elementsOf(def, value));
    const size = TYPES[def.type].size;
    if (def.encoding === 'big' && size > 1) {
      if (size === 2) bytes.swap16();
      else if (size === 4) bytes.swap32();
      else bytes.swap64();
    }
  }
  switch (def.compression) {
    case 'none':
      return bytes;
    case 'bitshuffle_lz4':
      return bitshuffleLz4Compress(bytes, TYPES[def.type].size);
    case 'lz4':
      return lz4Compress(bytes, def.encoding);
  }
}

/** The 16-byte timestamp frame: sec and ns as int64 in the channel's byte order (§4.2); null → empty. */
export function encodeTimestamp(ts: Timestamp | null, encoding: Encoding): Buffer {
  if (ts === null) return Buffer.alloc(0);
  const b = Buffer.alloc(16);
  if (encoding === 'little') {
    b.writeBigInt64LE(BigInt(ts.sec), 0);
    b.writeBigInt64LE(BigInt(ts.ns), 8);
  } else {
    b.writeBigInt64BE(BigInt(ts.sec), 0);
    b.writeBigInt64BE(BigInt(ts.ns), 8);
  }
  return b;
}

/** Frame 0 (emits bsr_m-1.1), in BP's key order. */
export function encodeMainHeader(pulseId: number, globalTimestamp: Timestamp, hash: string, dhCompression: Compression): Buffer {
  const o: Record<string, PyJsonValue> = { htype: MAIN_HTYPE };
  if (dhCompression !== 'none') o['dh_compression'] = dhCompression;
  o['hash'] = hash;
  o['pulse_id'] = pulseId;
  o['global_timestamp'] = { sec: globalTimestamp.sec, ns: globalTimestamp.ns };
  return Buffer.from(pyJson(o), 'utf8');
}

/**
 * Encodes one message: [main header, data header, (value, timestamp) per channel]. hash is the
 * md5 of frame 1 as sent. Throws BsreadError('BSREAD_ERR_INVALID_ARGUMENT') on inconsistent input.
 */
export function encodeMessage(input: EncodeMessageInput): Buffer[] {
  if (!Number.isSafeInteger(input.pulseId) || input.pulseId < 0) throw invalid(`pulse id ${input.pulseId} is not a non-negative integer`);
  const defs = input.header?.defs ?? input.channels.map((c) => resolveChannelDef(c.def, c.value));
  if (defs.length !== input.channels.length) throw invalid(`prepared header has ${defs.length} channels, ${input.channels.length} given`);
  const header = input.header ?? prepareDataHeader(defs, input.dhCompression ?? 'none');
  const frames: Buffer[] = new Array<Buffer>(2 + 2 * defs.length);
  frames[0] = encodeMainHeader(input.pulseId, input.globalTimestamp, header.hash, header.dhCompression);
  frames[1] = header.frame;
  // Channels stamped with the global timestamp share one frame per byte order (frames are
  // only read, never changed, by every sender).
  let globalLittle: Buffer | undefined;
  let globalBig: Buffer | undefined;
  for (let i = 0; i < defs.length; i++) {
    const c = input.channels[i]!;
    const def = defs[i]!;
    if (c.value === null) {
      frames[2 + 2 * i] = Buffer.alloc(0);
      frames[3 + 2 * i] = Buffer.alloc(0);
      continue;
    }
    frames[2 + 2 * i] = encodeValue(def, c.value);
    if (c.timestamp !== undefined) frames[3 + 2 * i] = encodeTimestamp(c.timestamp, def.encoding);
    else if (def.encoding === 'little') frames[3 + 2 * i] = globalLittle ??= encodeTimestamp(input.globalTimestamp, 'little');
    else frames[3 + 2 * i] = globalBig ??= encodeTimestamp(input.globalTimestamp, 'big');
  }
  return frames;
}
