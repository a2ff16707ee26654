// The pure heart of the simulator: what every channel holds at every pulse id. Everything here
// is a function of (profile, channel index, pulse id), and a value depends on (seed, channel
// name, pulse id) only, so a test can check what was received or written without recording
// what was sent, and the dispatcher's streams carry the same values as a full simulation.
import {
  TYPES,
  isScalarShape,
  valueToJson,
  type BsreadType,
  type ChannelDef,
  type ChannelValue,
  type JsonChannel,
  type JsonMessage,
  type NdArray,
  type Timestamp,
  type TypedArray,
} from '../bsread/index.js';
import { BsreadError } from '../errors.js';
import { mix32, unit, word } from './hash.js';
import type { ChannelSegment, SimChannel, SimProfile } from './profile.js';

/**
 * Pulse id 0 is at this Unix time (2020-06-01T00:00:00Z), and pulses are 10 ms apart, so pulse
 * ids derived from the wall clock are ~2.0–2.2·10^10 in 2026–2027, like SwissFEL's.
 */
export const PULSE_EPOCH_SEC = 1590969600;
export const PULSES_PER_SECOND = 100;

/** The pulse id that belongs to a wall-clock time (ms since the Unix epoch). */
export function pulseIdAt(unixMs: number): number {
  // In milliseconds first, so that the division is exact for whole milliseconds.
  return Math.floor(((unixMs - PULSE_EPOCH_SEC * 1000) * PULSES_PER_SECOND) / 1000);
}

/** The global timestamp that belongs to a pulse id (exact: sec + multiples of 10 ms). */
export function pulseTimestamp(pulseId: number): Timestamp {
  const sec = PULSE_EPOCH_SEC + Math.floor(pulseId / PULSES_PER_SECOND);
  const ns = (pulseId % PULSES_PER_SECOND) * (1_000_000_000 / PULSES_PER_SECOND);
  return { sec, ns };
}

/** Whether a pulse id falls into a requested gap (gap_every / gap_length, counted from `start`). */
export function isGap(profile: SimProfile, start: number, pulseId: number): boolean {
  if (profile.gapEvery <= 0 || pulseId < start) return false;
  return (pulseId - start) % (profile.gapEvery + profile.gapLength) >= profile.gapEvery;
}

/** The k-th pulse id sent (k = 0, 1, ...), skipping gaps. */
export function nthPulseId(profile: SimProfile, start: number, k: number): number {
  if (profile.gapEvery <= 0) return start + k;
  return start + k + Math.floor(k / profile.gapEvery) * profile.gapLength;
}

function channel(profile: SimProfile, i: number): SimChannel {
  const c = profile.channels[i];
  if (c === undefined) throw new BsreadError('BSREAD_ERR_INVALID_ARGUMENT', `channel index ${i} out of range (0..${profile.channels.length - 1})`);
  return c;
}

function segmentAt(c: SimChannel, pulseId: number): ChannelSegment {
  const segs = c.segments;
  let s = segs[0]!;
  for (let j = 1; j < segs.length && segs[j]!.fromPulse <= pulseId; j++) s = segs[j]!;
  return s;
}

/** The channel's definition at a pulse id (changes apply from their at_pulse on). */
export function definitionAt(profile: SimProfile, channelIndex: number, pulseId: number): ChannelDef {
  return segmentAt(channel(profile, channelIndex), pulseId).def;
}

/** Whether a channel is due by modulo/offset (§3.2) at a pulse id. */
export function isDue(def: ChannelDef, pulseId: number): boolean {
  const r = (pulseId - def.offset) % def.modulo;
  return r === 0;
}

/** Whether the channel has a value at this pulse: due by modulo/offset and not missing by its rule. */
export function isPresent(profile: SimProfile, channelIndex: number, pulseId: number): boolean {
  const c = channel(profile, channelIndex);
  if (!isDue(segmentAt(c, pulseId).def, pulseId)) return false;
  const m = c.missing;
  if (m.pattern.length > 0 && m.pattern.charCodeAt(pulseId % m.pattern.length) === 48 /* '0' */) return false;
  if (m.probability > 0 && unit(word(c.key, pulseId, 0x6d15)) < m.probability) return false;
  return true;
}

/** Whether any channel is due by modulo/offset at this pulse (a dispatcher sends nothing otherwise, §4.4). */
export function anyDue(profile: SimProfile, pulseId: number): boolean {
  for (const c of profile.channels) if (isDue(segmentAt(c, pulseId).def, pulseId)) return true;
  return false;
}

// ---- value generators ----------------------------------------------------------------------

const INT_RANGE: Partial<Record<BsreadType, readonly [number, number]>> = {
  bool: [0, 1],
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
  // 64-bit values stay within ±2^53 so that JSON consumers see them exactly.
  int64: [-(2 ** 53) + 1, 2 ** 53 - 1],
  uint64: [0, 2 ** 53 - 1],
};

/** Typical full scale of array values of a type (a 12-bit camera for uint16). */
function fullScale(type: BsreadType): number {
  switch (type) {
    case 'bool':
      return 1;
    case 'int8':
      return 100;
    case 'uint8':
      return 250;
    case 'int16':
      return 10000;
    case 'uint16':
      return 4000;
    default:
      return 100000;
  }
}

/** A number stored as the type stores it (rounded, clamped, float32-rounded). */
function asType(type: BsreadType, x: number): number {
  if (type === 'float64') return x;
  if (type === 'float32') return Math.fround(x);
  const r = INT_RANGE[type]!;
  const v = Math.round(x);
  return v < r[0] ? r[0] : v > r[1] ? r[1] : v;
}

function scalarOf(type: BsreadType, x: number): number | bigint {
  const v = asType(type, x);
  return TYPES[type].bigint ? BigInt(v) : v;
}

/** 53 random bits as an integer in [0, 2^53). */
function bits53(key: number, pulseId: number): number {
  const hi = word(key, pulseId, 1) >>> 11; // 21 bits
  const lo = word(key, pulseId, 2);
  return hi * 4294967296 + lo;
}

function scalarValue(c: SimChannel, def: ChannelDef, pulseId: number): number | bigint {
  const type = def.type;
  const w = word(c.key, pulseId);
  if (type === 'float64' || type === 'float32') {
    // A slow sine around a channel-specific baseline, plus 5 % noise.
    const k = c.key;
    const base = ((k % 2001) - 1000) / 10;
    const amp = 1 + ((k >>> 11) % 100) / 10;
    const period = 50 + ((k >>> 18) % 951);
    const phase = (pulseId % period) / period;
    return asType(type, base + amp * Math.sin(2 * Math.PI * phase) + amp * 0.1 * (unit(w) - 0.5));
  }
  if (type === 'bool') return w & 1;
  if (type === 'int64') return BigInt(bits53(c.key, pulseId) - 2 ** 52);
  if (type === 'uint64') return BigInt(bits53(c.key, pulseId));
  const r = INT_RANGE[type]!;
  return scalarOf(type, r[0] + Math.floor(unit(w) * (r[1] - r[0] + 1)));
}

function counterValue(def: ChannelDef, pulseId: number): number | bigint {
  const type = def.type;
  if (type === 'float64' || type === 'float32') return asType(type, pulseId);
  if (type === 'int64' || type === 'uint64') return BigInt(pulseId);
  const r = INT_RANGE[type]!;
  return scalarOf(type, r[0] + (pulseId % (r[1] - r[0] + 1)));
}

const TEXTS = ['OK', 'Beam on', 'Beam off', 'Strahl an — 5 µJ', 'Interlock', 'Standby', 'Ready', 'Moving'] as const;

function textValue(c: SimChannel, pulseId: number): string {
  const w = word(c.key, pulseId);
  return `${TEXTS[w % TEXTS.length]} #${pulseId % 1000}`;
}

function store(out: TypedArray, type: BsreadType, j: number, x: number): void {
  const v = asType(type, x);
  if (TYPES[type].bigint) (out as BigInt64Array)[j] = BigInt(v);
  else (out as Float64Array)[j] = v;
}

function waveformValue(c: SimChannel, def: ChannelDef, pulseId: number): TypedArray {
  const n = def.elements;
  const type = def.type;
  const out = new TYPES[type].array(n);
  const w = word(c.key, pulseId);
  if (type === 'bool') {
    for (let j = 0; j < n; j++) (out as Uint8Array)[j] = mix32(w ^ Math.imul(j + 1, 0x9e3779b9)) & 1;
    return out;
  }
  const float = type === 'float32' || type === 'float64';
  const scale = float ? 1 + ((c.key >>> 7) % 100) : fullScale(type);
  const signed = type === 'int8' || type === 'int16' || type === 'int32' || type === 'int64' || float;
  // A gaussian peak that wanders a little from pulse to pulse, on a noisy baseline.
  const centre = n / 2 + (unit(w) - 0.5) * (n / 10);
  const sigma = n / 20 + 1;
  const height = 0.6 + 0.3 * unit(word(c.key, pulseId, 3));
  for (let j = 0; j < n; j++) {
    const d = (j - centre) / sigma;
    const noise = unit(mix32(w ^ Math.imul(j + 1, 0x9e3779b9))) - 0.5;
    const x = height * Math.exp(-0.5 * d * d) + 0.05 * noise + (signed ? 0 : 0.05);
    store(out, type, j, scale * x);
  }
  return out;
}

// Camera images: one base image per channel definition, computed once; each pulse shows it
// shifted by a few pixels (circularly), which costs two row copies per row.
const IMAGE_CACHE_SIZE = 8;
const imageCache = new Map<string, TypedArray>();

function baseImage(c: SimChannel, def: ChannelDef): TypedArray {
  const cacheKey = `${c.key}|${def.key}`;
  const hit = imageCache.get(cacheKey);
  if (hit !== undefined) return hit;
  const type = def.type;
  const n = def.elements;
  const width = def.shape[0]!;
  const height = n / width;
  const out = new TYPES[type].array(n);
  const scale = fullScale(type);
  const cx = width / 2;
  const cy = height / 2;
  const sx = Math.max(1, width / 8);
  const sy = Math.max(1, height / 10);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const j = y * width + x;
      const dx = (x - cx) / sx;
      const dy = (y - cy) / sy;
      const noise = unit(mix32(c.key ^ Math.imul(j + 1, 0x9e3779b9)));
      const v = type === 'bool' ? (dx * dx + dy * dy < 1 ? 1 : 0) : scale * (0.05 + 0.02 * noise + 0.7 * Math.exp(-0.5 * (dx * dx + dy * dy)));
      store(out, type, j, v);
    }
  }
  imageCache.set(cacheKey, out);
  while (imageCache.size > IMAGE_CACHE_SIZE) imageCache.delete(imageCache.keys().next().value as string);
  return out;
}

/** A typed array without zero-filling (every element is written next): big zeroed allocations cost more than the copy. */
function uninitialised(type: BsreadType, n: number): TypedArray {
  const size = TYPES[type].size;
  const buf = Buffer.allocUnsafeSlow(n * size);
  return new TYPES[type].array(buf.buffer, buf.byteOffset, n);
}

function imageValue(c: SimChannel, def: ChannelDef, pulseId: number): TypedArray {
  const base = baseImage(c, def);
  const n = def.elements;
  const width = def.shape[0]!;
  const w = word(c.key, pulseId);
  const sx = ((w & 0xff) % 9) - 4; // -4..4 pixels of jitter in x and in y
  const sy = (((w >>> 8) & 0xff) % 9) - 4;
  // One circular shift of the flat image by sy rows and sx pixels: two block copies, so a
  // 1024 × 1024 image costs well under a millisecond (pixels leaving a row enter the next).
  const s = (((sy * width + sx) % n) + n) % n;
  const out = uninitialised(def.type, n);
  out.set(base.subarray(s) as never, 0);
  if (s > 0) out.set(base.subarray(0, s) as never, n - s);
  return out;
}

/**
 * The value of channel `channelIndex` at `pulseId`, in the decoded form (src/bsread ChannelValue:
 * number, bigint for int64/uint64 scalars, 0/1 for bool, string, or an NdArray in C order), or
 * null when the channel has no value at that pulse (modulo/offset or a missing rule).
 */
export function simulatedValue(profile: SimProfile, channelIndex: number, pulseId: number): ChannelValue | null {
  if (!isPresent(profile, channelIndex, pulseId)) return null;
  const c = profile.channels[channelIndex]!;
  const { def, kind } = segmentAt(c, pulseId);
  if (def.type === 'string') return textValue(c, pulseId);
  if (isScalarShape(def)) return kind === 'counter' ? counterValue(def, pulseId) : scalarValue(c, def, pulseId);
  let data: TypedArray;
  if (kind === 'image') data = imageValue(c, def, pulseId);
  else if (kind === 'counter') {
    data = new TYPES[def.type].array(def.elements);
    for (let j = 0; j < def.elements; j++) store(data, def.type, j, pulseId + j);
  } else if (kind === 'scalar') {
    data = new TYPES[def.type].array(def.elements);
    for (let j = 0; j < def.elements; j++) {
      const v = scalarValue(c, def, pulseId + j * 7919);
      if (typeof v === 'bigint') (data as BigInt64Array)[j] = v;
      else (data as Float64Array)[j] = v;
    }
  } else data = waveformValue(c, def, pulseId);
  const nd: NdArray = { dtype: def.type, shape: def.cShape, data };
  return nd;
}

/**
 * What `bsread receive --json` prints for this pulse (src/bsread messageToJson, the fixtures'
 * format): pulse id, global timestamp, and every channel's value and timestamp in frame order.
 */
export function predictMessage(profile: SimProfile, pulseId: number): JsonMessage {
  const ts = pulseTimestamp(pulseId);
  const channels: Record<string, JsonChannel> = {};
  for (let i = 0; i < profile.channels.length; i++) {
    const v = simulatedValue(profile, i, pulseId);
    channels[profile.channels[i]!.name] = { value: valueToJson(v), timestamp: v === null ? null : [ts.sec, ts.ns] };
  }
  return { pulse_id: pulseId, global_timestamp: { sec: ts.sec, ns: ts.ns }, channels };
}
