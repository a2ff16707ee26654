// Main header (frame 0, §2) and data header (frame 1, §3): parse, validate, apply defaults.
// Nothing here trusts the JSON: every field is checked before use, and every problem becomes a
// MalformedMessageError with a kind from the closed catalogue in src/errors.ts.
import { BsreadError, MalformedMessageError } from '../errors.js';
import { bitshuffleLz4Decompress, lz4Decompress } from './compression.js';
import { frameAt, type MessageFrames } from '../transport/frame-list.js';
import {
  channelKey,
  isBsreadType,
  isCompression,
  MAIN_HTYPE_PREFIX,
  type BsreadType,
  type ChannelDef,
  type ChannelEntry,
  type Compression,
  type Encoding,
  type InvalidChannelDef,
  type Timestamp,
} from './types.js';

/** Frame 0 of a data message, validated. */
export interface MainHeader {
  readonly kind: 'data';
  /** As sent; starts with "bsr_m". */
  readonly htype: string;
  /** Non-negative safe integer. */
  readonly pulseId: number;
  /** null when the producer left it out (BR falls back to (0,0); SW would crash). */
  readonly globalTimestamp: Timestamp | null;
  /** As sent: normally 32 lowercase hex digits, but '' and other strings are accepted. */
  readonly hash: string;
  /** Compression of frame 1; missing or null means none. */
  readonly dhCompression: Compression;
}

/** A message whose main-header htype does not start with bsr_m (e.g. bsr_reconnect-1.0): ignore it. */
export interface NotDataMessage {
  readonly kind: 'not_data';
  readonly htype: string;
}

/** Frame 1, parsed, with every §3.2 default applied. Immutable; shared between messages with the same hash. */
export interface DataHeader {
  /** As sent (bsr_d-1.1 normally; not validated, §3.1). '' when absent. */
  readonly htype: string;
  /** In frame order: channel i owns frames 2+2i (value) and 3+2i (timestamp). */
  readonly channels: readonly ChannelEntry[];
  /** Channel name → index of its first occurrence. */
  readonly indexByName: ReadonlyMap<string, number>;
}

/** Upper bound on a decompressed data header (a 1000-channel header is ~100 kB). */
export const MAX_DATA_HEADER_BYTES = 64 * 1024 * 1024;

/** A view of the same bytes as a Buffer (no copy). */
export function asBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

function parseJsonObject(bytes: Uint8Array, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(asBuffer(bytes).toString('utf8'));
  } catch (e) {
    throw new MalformedMessageError('bad_json', `${what} is not valid JSON`, undefined, { cause: e });
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new MalformedMessageError('bad_json', `${what} is not a JSON object`);
  }
  return v as Record<string, unknown>;
}

function has(o: Record<string, unknown>, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, k);
}

function parseTimestamp(v: unknown): Timestamp | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v)) {
    throw new MalformedMessageError('bad_field', 'global_timestamp is not an object');
  }
  const o = v as Record<string, unknown>;
  // BP's compact handler also accepts the legacy key "epoch" for "sec" (§2).
  const sec = has(o, 'sec') ? o['sec'] : o['epoch'];
  const ns = o['ns'] ?? 0;
  if (typeof sec !== 'number' || !Number.isSafeInteger(sec)) {
    throw new MalformedMessageError('bad_field', `global_timestamp.sec is not an integer: ${JSON.stringify(sec)}`);
  }
  if (typeof ns !== 'number' || !Number.isSafeInteger(ns)) {
    throw new MalformedMessageError('bad_field', `global_timestamp.ns is not an integer: ${JSON.stringify(ns)}`);
  }
  return { sec, ns };
}

export function parseCompression(v: unknown, what: string, channel?: string): Compression {
  if (v === undefined || v === null) return 'none';
  if (typeof v !== 'string') {
    throw new MalformedMessageError('bad_field', `${what} is not a string: ${JSON.stringify(v)}`, channel);
  }
  if (!isCompression(v)) throw new MalformedMessageError('unknown_compression', `${what} ${JSON.stringify(v)}`, channel);
  return v;
}

/**
 * Parses frame 0 only: the buffer's hot path (it relays the other frames byte for byte).
 * Checks that the frame count is even and at least 2 (it cannot know the channel count without
 * frame 1). Throws MalformedMessageError; returns NotDataMessage for control messages.
 */
export function readMainHeader(frames: MessageFrames): MainHeader | NotDataMessage {
  return readMainHeaderFrame(frameAt(frames, 0), frames.length);
}

/** readMainHeader for a message held packed (frame 0 and the frame count only, no per-frame views). */
export function readMainHeaderFrame(f0: Uint8Array | undefined, frameCount: number): MainHeader | NotDataMessage {
  if (f0 === undefined || frameCount === 0) throw new MalformedMessageError('frame_count', 'message has no frames');
  const o = parseJsonObject(f0, 'main header');
  const htype = o['htype'];
  if (typeof htype !== 'string') {
    throw new MalformedMessageError('bad_htype', htype === undefined ? 'main header has no htype' : 'main header htype is not a string');
  }
  if (!htype.startsWith(MAIN_HTYPE_PREFIX)) return { kind: 'not_data', htype };
  if (frameCount < 2 || frameCount % 2 !== 0) {
    throw new MalformedMessageError('frame_count', `${frameCount} frames; a data message has 2 + 2 × channels`);
  }
  const pulseId = o['pulse_id'];
  if (pulseId === undefined || pulseId === null) throw new MalformedMessageError('missing_field', 'main header has no pulse_id');
  if (typeof pulseId !== 'number' || !Number.isSafeInteger(pulseId) || pulseId < 0) {
    throw new MalformedMessageError('bad_field', `pulse_id is not a non-negative integer: ${JSON.stringify(pulseId)}`);
  }
  const hash = o['hash'];
  if (hash === undefined || hash === null) throw new MalformedMessageError('missing_field', 'main header has no hash');
  if (typeof hash !== 'string') throw new MalformedMessageError('bad_field', 'hash is not a string');
  return {
    kind: 'data',
    htype,
    pulseId,
    globalTimestamp: parseTimestamp(o['global_timestamp']),
    hash,
    dhCompression: parseCompression(o['dh_compression'], 'dh_compression'),
  };
}

/** Frame 1 bytes → JSON bytes (§3.4). lz4: big-endian size prefix first (BJ, BC, BR), then little (BP HEAD). */
export function decompressDataHeader(frame: Uint8Array, dhCompression: Compression): Uint8Array {
  if (dhCompression === 'none') return frame;
  try {
    return dhCompression === 'lz4' ? lz4Decompress(frame, 'big', MAX_DATA_HEADER_BYTES) : bitshuffleLz4Decompress(frame, 1, MAX_DATA_HEADER_BYTES);
  } catch (e) {
    throw compressionError(e, `data header (${dhCompression})`);
  }
}

/**
 * Turns an error from compression.ts into MalformedMessageError('decompress'). An addon that is
 * missing or not built yet is not the message's fault, so that BsreadError passes through.
 */
export function compressionError(e: unknown, what: string, channel?: string): BsreadError {
  if (e instanceof BsreadError && e.code === 'BSREAD_ERR_ADDON') return e;
  if (e instanceof MalformedMessageError) return e;
  const detail = e instanceof Error ? e.message : String(e);
  return new MalformedMessageError('decompress', `${what}: ${detail}`, channel, { cause: e });
}

// HDF5 datasets have at most 32 dimensions; the h5 layer takes at most 31 sizes per shape.
const MAX_RANK = 31;

function parseShape(v: unknown, name: string): number[] {
  if (v === undefined || v === null) return [1];
  if (!Array.isArray(v) || v.length > MAX_RANK) {
    throw new MalformedMessageError('bad_field', `shape is not a list of at most ${MAX_RANK} sizes: ${JSON.stringify(v)}`, name);
  }
  const out: number[] = new Array<number>(v.length);
  let product = 1;
  for (let i = 0; i < v.length; i++) {
    const d: unknown = v[i];
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw new MalformedMessageError('bad_field', `shape has a bad size: ${JSON.stringify(v)}`, name);
    }
    product *= d;
    out[i] = d;
  }
  if (!Number.isSafeInteger(product)) throw new MalformedMessageError('bad_field', `shape is too large: ${JSON.stringify(v)}`, name);
  return out;
}

function parseEncoding(v: unknown): Encoding {
  // BJ: contains "big"; BR also accepts ">"; anything else is little (§3.2).
  return typeof v === 'string' && (v.toLowerCase().includes('big') || v === '>') ? 'big' : 'little';
}

function parseType(v: unknown, name: string): BsreadType {
  if (v === undefined || v === null) return 'float64';
  if (typeof v !== 'string') throw new MalformedMessageError('bad_field', `type is not a string: ${JSON.stringify(v)}`, name);
  // BP lower-cases the type before decoding (§5.1).
  const t = v.toLowerCase();
  if (!isBsreadType(t)) throw new MalformedMessageError('unknown_type', `type ${JSON.stringify(v)}`, name);
  return t;
}

function parseInt(v: unknown, dflt: number, min: number, what: string, name: string): number {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw new MalformedMessageError('bad_field', `${what} is not an integer >= ${min}: ${JSON.stringify(v)}`, name);
  }
  return v;
}

/** Builds a ChannelDef from its parts (defaults already applied). */
export function makeChannelDef(d: {
  name: string;
  type: BsreadType;
  shape: readonly number[];
  encoding: Encoding;
  compression: Compression;
  modulo: number;
  offset: number;
}): ChannelDef {
  const shape = Object.freeze([...d.shape]);
  let elements = 1;
  for (const s of shape) elements *= s;
  return Object.freeze({
    name: d.name,
    type: d.type,
    shape,
    encoding: d.encoding,
    compression: d.compression,
    modulo: d.modulo,
    offset: d.offset,
    cShape: Object.freeze([...shape].reverse()),
    elements,
    key: channelKey({ ...d, shape }),
  });
}

function parseChannel(v: unknown, index: number): ChannelEntry {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new MalformedMessageError('bad_field', `channels[${index}] is not an object`);
  }
  const o = v as Record<string, unknown>;
  const name = o['name'];
  if (name === undefined || name === null) throw new MalformedMessageError('missing_field', `channels[${index}] has no name`);
  if (typeof name !== 'string') throw new MalformedMessageError('bad_field', `channels[${index}].name is not a string`);
  try {
    return makeChannelDef({
      name,
      type: parseType(o['type'], name),
      shape: parseShape(o['shape'], name),
      encoding: parseEncoding(o['encoding']),
      compression: parseCompression(o['compression'], 'compression', name),
      modulo: parseInt(o['modulo'], 1, 1, 'modulo', name),
      offset: parseInt(o['offset'], 0, Number.MIN_SAFE_INTEGER, 'offset', name),
    });
  } catch (e) {
    if (!(e instanceof MalformedMessageError)) throw e;
    const bad: InvalidChannelDef = { name, invalid: e, key: 'invalid:' + JSON.stringify(o) };
    return Object.freeze(bad);
  }
}

/**
 * Parses frame 1 (decompressing it first). Header-level problems (bad JSON, no channel list, a
 * channel without a name) throw; a problem confined to one channel's entry (unknown type or
 * compression, bad shape/modulo/offset) yields an InvalidChannelDef for that channel only.
 */
export function parseDataHeader(frame: Uint8Array, dhCompression: Compression): DataHeader {
  const o = parseJsonObject(decompressDataHeader(frame, dhCompression), 'data header');
  const channels = o['channels'];
  if (channels === undefined || channels === null) throw new MalformedMessageError('missing_field', 'data header has no channels');
  if (!Array.isArray(channels)) throw new MalformedMessageError('bad_field', 'data header channels is not a list');
  const htype = typeof o['htype'] === 'string' ? (o['htype'] as string) : '';
  const defs: ChannelEntry[] = new Array<ChannelEntry>(channels.length);
  const indexByName = new Map<string, number>();
  for (let i = 0; i < channels.length; i++) {
    const d = parseChannel(channels[i], i);
    defs[i] = d;
    if (!indexByName.has(d.name)) indexByName.set(d.name, i);
  }
  return Object.freeze({ htype, channels: Object.freeze(defs), indexByName });
}
