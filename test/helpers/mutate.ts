// A seeded, reproducible generator of malformed and mutated bsread messages for the reliability
// fuzz tests. Every mutation is a single fault with an outcome that is fixed by its name (not by
// the random details), so a test can predict, before sending anything, what each layer must
// count:
//
//   layer 'main'    frame 0 or the frame count is bad: the buffer (which reads frame 0 only)
//                   and the writer both drop the message and count `kind`;
//   layer 'message' frame 0 is fine, the rest is unusable as a whole (frame count against the
//                   data header, data header JSON/fields/compression): the buffer stores and
//                   forwards it; the writer drops it and counts `kind` in `malformed`;
//   layer 'channel' the message opens, one channel's definition or value is bad: the writer
//                   writes the row with that channel missing and counts `kind` in `channel_errors`;
//   layer 'good'    valid by the protocol although unusual (wrong hash, hash "", huge string,
//                   deeply nested extra JSON, a timestamp frame the SwissFEL format does not
//                   store, a legal missing value): written like a good message;
//   layer 'control' htype not bsr_m: the buffer counts not_data, the writer control_messages;
//   layer 'early'   pulse id 0: valid, but before any range: the writer discards it as early.
//   layer 'repeat'  a later copy of a pulse id already written (other values, maybe a damaged
//                   channel): the buffer forwards it; the writer counts it as repeated and never
//                   lets it replace or shift the row written first.
//
// `kinds` lists the malformed kinds the receiver may report; most mutations have exactly one.
// Mutations that consume a pulse id (channel, good) produce one row of the file each.
import { createHash } from 'node:crypto';
import { encodeMessage, prepareDataHeader, resolveChannelDef, type PreparedDataHeader } from '../../src/bsread/index.js';

/** mulberry32: small, fast, and the same sequence for the same seed on every platform. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(a: readonly T[]): T {
    return a[Math.floor(this.next() * a.length)]!;
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(this.next() * 256);
    return b;
  }
  hex32(): string {
    return this.bytes(16).toString('hex');
  }
}

export type Layer = 'main' | 'message' | 'channel' | 'good' | 'control' | 'early' | 'repeat';

/** The test stream's channels, in frame order: value frame 2+2i, timestamp frame 3+2i. */
export const FUZZ_CHANNELS = ['SCALAR', 'PAIR', 'TEXT', 'IMG', 'LZ'] as const;
export type FuzzChannel = (typeof FUZZ_CHANNELS)[number];
const DEFS = [
  resolveChannelDef({ name: 'SCALAR', type: 'float64', shape: [1] }),
  resolveChannelDef({ name: 'PAIR', type: 'int32', shape: [2] }),
  resolveChannelDef({ name: 'TEXT', type: 'string', shape: [1] }),
  resolveChannelDef({ name: 'IMG', type: 'uint16', shape: [16, 8], compression: 'bitshuffle_lz4' }),
  resolveChannelDef({ name: 'LZ', type: 'int32', shape: [8], compression: 'lz4' }),
];
const CH = { SCALAR: 0, PAIR: 1, TEXT: 2, IMG: 3, LZ: 4 } as const;
const valueFrame = (c: FuzzChannel): number => 2 + 2 * CH[c];
let header: PreparedDataHeader | null = null;

export function fuzzTimestamp(pulseId: number): { sec: number; ns: number } {
  return { sec: 1_700_000_000 + Math.floor(pulseId / 100), ns: (pulseId % 100) * 10_000_000 };
}

/** The good message of pulse p: SCALAR p*1.5, PAIR [p,-p], TEXT "p<p>", IMG (i+p)&0xffff, LZ [p..p+7]. */
export function goodMessage(pulseId: number, text?: string): Buffer[] {
  header ??= prepareDataHeader(DEFS);
  const img = new Uint16Array(128);
  for (let i = 0; i < 128; i++) img[i] = (i + pulseId) & 0xffff;
  const lz = new Int32Array(8);
  for (let i = 0; i < 8; i++) lz[i] = (pulseId + i) | 0;
  return encodeMessage({
    pulseId,
    globalTimestamp: fuzzTimestamp(pulseId),
    header,
    channels: [
      { def: DEFS[0]!, value: pulseId * 1.5 },
      { def: DEFS[1]!, value: new Int32Array([pulseId, -pulseId]) },
      { def: DEFS[2]!, value: text ?? `p${pulseId}` },
      { def: DEFS[3]!, value: { shape: [8, 16], data: img } },
      { def: DEFS[4]!, value: lz },
    ],
  });
}

export function goodDataHeaderJson(): { htype: string; channels: Record<string, unknown>[] } {
  header ??= prepareDataHeader(DEFS);
  return JSON.parse(header.frame.toString('utf8')) as { htype: string; channels: Record<string, unknown>[] };
}

interface Ctx {
  rng: Rng;
  pulseId: number;
  frames: Buffer[];
  main: Record<string, unknown>;
}

export interface MutationSpec {
  name: string;
  layer: Layer;
  /** Malformed kinds the receiver may report (empty for good/control/early). */
  kinds: readonly string[];
  /** For 'channel': the channel written as missing; for 'good': a channel legally missing. */
  channel?: FuzzChannel;
  /** Relative frequency. */
  weight: number;
  apply(c: Ctx): Buffer[];
}

const J = (o: unknown): Buffer => Buffer.from(JSON.stringify(o));
const withMain = (c: Ctx, patch: Record<string, unknown>, drop: string[] = []): Buffer[] => {
  const m: Record<string, unknown> = { ...c.main, ...patch };
  for (const k of drop) delete m[k];
  return [J(m), ...c.frames.slice(1)];
};
/** Frame 0 text with a raw (non-JSON-value) token spliced in for a key. */
const withRawMain = (c: Ctx, key: string, raw: string): Buffer[] => {
  const text = JSON.stringify({ ...c.main, [key]: '__RAW__' }).replace('"__RAW__"', raw);
  return [Buffer.from(text), ...c.frames.slice(1)];
};
/** A new data header (as JSON text) with a fresh hash, so no receiver cache can hide it. */
const withDataHeader = (c: Ctx, frame1: Buffer, mainPatch: Record<string, unknown> = {}): Buffer[] => {
  const m = { ...c.main, hash: createHash('md5').update(frame1).update(c.rng.bytes(8)).digest('hex'), ...mainPatch };
  return [J(m), frame1, ...c.frames.slice(2)];
};
const withChannelEntry = (c: Ctx, ch: FuzzChannel, patch: Record<string, unknown>): Buffer[] => {
  const dh = goodDataHeaderJson();
  dh.channels[CH[ch]] = { ...dh.channels[CH[ch]], ...patch };
  return withDataHeader(c, J(dh));
};
const withFrame = (c: Ctx, index: number, frame: Buffer): Buffer[] => {
  const f = [...c.frames];
  f[index] = frame;
  return f;
};
/** IMG's bitshuffle_lz4 frame with its header's total size replaced by `bytes`. */
const withImgDeclaredSize = (c: Ctx, bytes: bigint): Buffer[] => {
  const f = Buffer.from(c.frames[valueFrame('IMG')]!);
  f.writeBigInt64BE(bytes, 0);
  return withFrame(c, valueFrame('IMG'), f);
};
/** Bytes that are not JSON at all (first byte 0xff cannot start a JSON text). */
const garbage = (c: Ctx): Buffer => {
  const b = c.rng.bytes(c.rng.int(1, 64));
  b[0] = 0xff;
  return b;
};
const deep = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);

export const MUTATIONS: readonly MutationSpec[] = [
  // --- frame 0: both layers ---
  { name: 'main_truncated', layer: 'main', kinds: ['bad_json'], weight: 3, apply: (c) => withFrame(c, 0, c.frames[0]!.subarray(0, c.rng.int(0, c.frames[0]!.length - 1))) },
  { name: 'main_garbage', layer: 'main', kinds: ['bad_json'], weight: 2, apply: (c) => withFrame(c, 0, garbage(c)) },
  {
    name: 'main_not_object',
    layer: 'main',
    kinds: ['bad_json'],
    weight: 2,
    apply: (c) => withFrame(c, 0, Buffer.from(c.rng.pick(['[]', '42', 'null', '"bsr_m-1.1"', 'true', '[{"htype":"bsr_m-1.1"}]']))),
  },
  { name: 'main_deep_unclosed', layer: 'main', kinds: ['bad_json'], weight: 1, apply: (c) => withFrame(c, 0, Buffer.from('['.repeat(c.rng.int(1000, 100_000)))) },
  { name: 'main_deep_array', layer: 'main', kinds: ['bad_json'], weight: 1, apply: (c) => withFrame(c, 0, Buffer.from(deep(c.rng.int(1000, 100_000)))) },
  { name: 'main_no_htype', layer: 'main', kinds: ['bad_htype'], weight: 1, apply: (c) => withMain(c, {}, ['htype']) },
  { name: 'main_htype_number', layer: 'main', kinds: ['bad_htype'], weight: 1, apply: (c) => withMain(c, { htype: 11 }) },
  { name: 'main_no_pulse_id', layer: 'main', kinds: ['missing_field'], weight: 1, apply: (c) => withMain(c, {}, ['pulse_id']) },
  { name: 'main_pulse_id_string', layer: 'main', kinds: ['bad_field'], weight: 2, apply: (c) => withMain(c, { pulse_id: String(c.pulseId) }) },
  { name: 'main_pulse_id_negative', layer: 'main', kinds: ['bad_field'], weight: 2, apply: (c) => withMain(c, { pulse_id: -c.rng.int(1, 2 ** 31) }) },
  { name: 'main_pulse_id_float', layer: 'main', kinds: ['bad_field'], weight: 1, apply: (c) => withMain(c, { pulse_id: c.pulseId + 0.5 }) },
  {
    name: 'main_pulse_id_huge',
    layer: 'main',
    kinds: ['bad_field'],
    weight: 1,
    apply: (c) => withRawMain(c, 'pulse_id', c.rng.pick(['1152921504606846976', '1e300', '18446744073709551615'])),
  },
  { name: 'main_pulse_id_nan', layer: 'main', kinds: ['bad_json'], weight: 1, apply: (c) => withRawMain(c, 'pulse_id', c.rng.pick(['NaN', 'Infinity', '-Infinity'])) },
  {
    name: 'main_timestamp_nan',
    layer: 'main',
    kinds: ['bad_json'],
    weight: 2,
    apply: (c) => withRawMain(c, 'global_timestamp', c.rng.pick(['{"sec": NaN, "ns": 0}', '{"sec": 1, "ns": NaN}', 'NaN'])),
  },
  {
    name: 'main_timestamp_wrong_type',
    layer: 'main',
    kinds: ['bad_field'],
    weight: 2,
    apply: (c) => withMain(c, { global_timestamp: c.rng.pick([5, 'now', [1, 2], { sec: 'x', ns: 0 }, { sec: 1.5, ns: 0 }, { sec: 1, ns: 'x' }]) }),
  },
  { name: 'main_no_hash', layer: 'main', kinds: ['missing_field'], weight: 1, apply: (c) => withMain(c, {}, ['hash']) },
  { name: 'main_hash_number', layer: 'main', kinds: ['bad_field'], weight: 1, apply: (c) => withMain(c, { hash: 12345 }) },
  {
    name: 'main_dh_compression_unknown',
    layer: 'main',
    kinds: ['unknown_compression'],
    weight: 1,
    apply: (c) => withMain(c, { dh_compression: c.rng.pick(['zstd', 'LZ4X', 'gzip']) }),
  },
  { name: 'main_dh_compression_number', layer: 'main', kinds: ['bad_field'], weight: 1, apply: (c) => withMain(c, { dh_compression: 3 }) },
  { name: 'frames_only_main', layer: 'main', kinds: ['frame_count'], weight: 1, apply: (c) => [c.frames[0]!] },
  { name: 'frames_one_missing', layer: 'main', kinds: ['frame_count'], weight: 2, apply: (c) => c.frames.slice(0, -1) },
  { name: 'frames_one_extra', layer: 'main', kinds: ['frame_count'], weight: 2, apply: (c) => [...c.frames, c.rng.bytes(c.rng.int(0, 16))] },
  // --- the rest of the message: the writer only ---
  { name: 'frames_two_missing', layer: 'message', kinds: ['frame_count'], weight: 2, apply: (c) => c.frames.slice(0, -2) },
  { name: 'frames_two_extra', layer: 'message', kinds: ['frame_count'], weight: 2, apply: (c) => [...c.frames, Buffer.alloc(8), Buffer.alloc(16)] },
  { name: 'frames_header_only', layer: 'message', kinds: ['frame_count'], weight: 1, apply: (c) => c.frames.slice(0, 2) },
  { name: 'dh_truncated', layer: 'message', kinds: ['bad_json'], weight: 2, apply: (c) => withDataHeader(c, c.frames[1]!.subarray(0, c.rng.int(0, c.frames[1]!.length - 1))) },
  { name: 'dh_garbage', layer: 'message', kinds: ['bad_json'], weight: 2, apply: (c) => withDataHeader(c, garbage(c)) },
  { name: 'dh_not_object', layer: 'message', kinds: ['bad_json'], weight: 1, apply: (c) => withDataHeader(c, Buffer.from(c.rng.pick(['[]', '7', 'null', '"x"']))) },
  { name: 'dh_deep_array', layer: 'message', kinds: ['bad_json'], weight: 1, apply: (c) => withDataHeader(c, Buffer.from(deep(c.rng.int(1000, 100_000)))) },
  { name: 'dh_no_channels', layer: 'message', kinds: ['missing_field'], weight: 1, apply: (c) => withDataHeader(c, J({ htype: 'bsr_d-1.1' })) },
  { name: 'dh_channels_not_list', layer: 'message', kinds: ['bad_field'], weight: 1, apply: (c) => withDataHeader(c, J({ htype: 'bsr_d-1.1', channels: { SCALAR: {} } })) },
  {
    name: 'dh_channel_without_name',
    layer: 'message',
    kinds: ['missing_field'],
    weight: 1,
    apply: (c) => {
      const dh = goodDataHeaderJson();
      delete dh.channels[c.rng.int(0, 4)]!['name'];
      return withDataHeader(c, J(dh));
    },
  },
  {
    name: 'dh_channel_name_not_string',
    layer: 'message',
    kinds: ['bad_field'],
    weight: 1,
    apply: (c) => {
      const dh = goodDataHeaderJson();
      dh.channels[c.rng.int(0, 4)]!['name'] = c.rng.pick([1, true, ['a'], { a: 1 }]);
      return withDataHeader(c, J(dh));
    },
  },
  {
    name: 'dh_channel_not_object',
    layer: 'message',
    kinds: ['bad_field'],
    weight: 1,
    apply: (c) => {
      const dh = goodDataHeaderJson() as { htype: string; channels: unknown[] };
      dh.channels[c.rng.int(0, 4)] = c.rng.pick(['SCALAR', 5, [1]]);
      return withDataHeader(c, J(dh));
    },
  },
  {
    name: 'dh_claims_compression',
    layer: 'message',
    kinds: ['decompress'],
    weight: 2,
    apply: (c) => withDataHeader(c, c.frames[1]!, { dh_compression: c.rng.pick(['bitshuffle_lz4', 'lz4']) }),
  },
  // --- one channel: the row is written with that channel missing ---
  {
    name: 'ch_unknown_type',
    layer: 'channel',
    channel: 'SCALAR',
    kinds: ['unknown_type'],
    weight: 1,
    apply: (c) => withChannelEntry(c, 'SCALAR', { type: c.rng.pick(['complex128', 'float16', '']) }),
  },
  {
    name: 'ch_unknown_compression',
    layer: 'channel',
    channel: 'PAIR',
    kinds: ['unknown_compression'],
    weight: 1,
    apply: (c) => withChannelEntry(c, 'PAIR', { compression: 'zstd' }),
  },
  {
    name: 'ch_bad_shape',
    layer: 'channel',
    channel: 'PAIR',
    kinds: ['bad_field'],
    weight: 2,
    apply: (c) => withChannelEntry(c, 'PAIR', { shape: c.rng.pick([[-1], 'x', [1.5], [2 ** 53], [1e300], new Array(40).fill(1)]) }),
  },
  {
    name: 'ch_bad_modulo',
    layer: 'channel',
    channel: 'SCALAR',
    kinds: ['bad_field'],
    weight: 1,
    apply: (c) => withChannelEntry(c, 'SCALAR', { modulo: c.rng.pick([0, -3, 'x', 1.5]) }),
  },
  {
    name: 'val_scalar_truncated',
    layer: 'channel',
    channel: 'SCALAR',
    kinds: ['size_mismatch'],
    weight: 2,
    apply: (c) => withFrame(c, valueFrame('SCALAR'), c.frames[valueFrame('SCALAR')]!.subarray(0, c.rng.int(1, 7))),
  },
  {
    name: 'val_scalar_extended',
    layer: 'channel',
    channel: 'SCALAR',
    kinds: ['size_mismatch'],
    weight: 1,
    apply: (c) => withFrame(c, valueFrame('SCALAR'), Buffer.concat([c.frames[valueFrame('SCALAR')]!, c.rng.bytes(c.rng.int(1, 64))])),
  },
  {
    name: 'val_pair_truncated',
    layer: 'channel',
    channel: 'PAIR',
    kinds: ['size_mismatch'],
    weight: 1,
    apply: (c) => withFrame(c, valueFrame('PAIR'), c.frames[valueFrame('PAIR')]!.subarray(0, c.rng.int(1, 7))),
  },
  {
    name: 'val_bitshuffle_lying_size',
    layer: 'channel',
    channel: 'IMG',
    // direct chunk storage checks the declared size (size_mismatch); decoding reports decompress
    kinds: ['size_mismatch', 'decompress'],
    weight: 2,
    apply: (c) => withImgDeclaredSize(c, BigInt(c.rng.pick([2, 254, 258, 1 << 30, 2 ** 40, Number.MAX_SAFE_INTEGER]))),
  },
  {
    name: 'val_bitshuffle_no_header',
    layer: 'channel',
    channel: 'IMG',
    kinds: ['decompress', 'size_mismatch'],
    weight: 1,
    apply: (c) => withFrame(c, valueFrame('IMG'), c.frames[valueFrame('IMG')]!.subarray(0, c.rng.int(1, 11))),
  },
  {
    name: 'val_lz4_lying_size',
    layer: 'channel',
    channel: 'LZ',
    kinds: ['decompress', 'size_mismatch'],
    weight: 2,
    apply: (c) => {
      const f = Buffer.from(c.frames[valueFrame('LZ')]!);
      f.writeUInt32LE(c.rng.pick([1, 31, 33, 4096, 0x7fffffff, 0xffffffff]), 0);
      return withFrame(c, valueFrame('LZ'), f);
    },
  },
  {
    name: 'val_text_bad_utf8',
    layer: 'channel',
    channel: 'TEXT',
    kinds: ['bad_field'],
    weight: 1,
    apply: (c) => withFrame(c, valueFrame('TEXT'), Buffer.from([0x70, 0xff, 0xfe, 0x31])),
  },
  // --- a later copy of an earlier pulse id (fuzzPlan picks the id): discarded, counted ---
  { name: 'repeat_changed', layer: 'repeat', kinds: [], weight: 2, apply: (c) => withFrame(c, valueFrame('TEXT'), Buffer.from('dup')) },
  {
    name: 'repeat_damaged',
    layer: 'repeat',
    kinds: [],
    weight: 1,
    apply: (c) => withImgDeclaredSize(c, 2n ** 40n), // a 2^40-byte claim
  },
  {
    name: 'val_lz4_truncated',
    layer: 'channel',
    channel: 'LZ',
    kinds: ['decompress', 'size_mismatch'],
    weight: 1,
    apply: (c) => withFrame(c, valueFrame('LZ'), c.frames[valueFrame('LZ')]!.subarray(0, c.rng.int(1, c.frames[valueFrame('LZ')]!.length - 1))),
  },
  // --- valid by the protocol: written ---
  { name: 'good_wrong_hash', layer: 'good', kinds: [], weight: 2, apply: (c) => withMain(c, { hash: c.rng.hex32() }) },
  { name: 'good_empty_hash', layer: 'good', kinds: [], weight: 1, apply: (c) => withMain(c, { hash: '' }) },
  { name: 'good_deep_extra_json', layer: 'good', kinds: [], weight: 1, apply: (c) => withRawMain(c, 'x_nested', deep(c.rng.int(100, 20_000))) },
  { name: 'good_bad_timestamp_frame', layer: 'good', kinds: [], weight: 1, apply: (c) => withFrame(c, 3 + 2 * c.rng.int(0, 4), c.rng.bytes(c.rng.pick([1, 5, 15, 17, 100]))) },
  { name: 'good_huge_string', layer: 'good', kinds: [], weight: 0.3, apply: (c) => goodMessage(c.pulseId, 'x'.repeat(c.rng.int(64 * 1024, 1024 * 1024))) },
  {
    name: 'good_missing_value',
    layer: 'good',
    kinds: [],
    channel: 'PAIR',
    weight: 1,
    apply: (c) => {
      const f = [...c.frames];
      f[valueFrame('PAIR')] = Buffer.alloc(0);
      f[valueFrame('PAIR') + 1] = Buffer.alloc(0);
      return f;
    },
  },
  // --- not data / before the range ---
  { name: 'control_message', layer: 'control', kinds: [], weight: 1, apply: (c) => withMain(c, { htype: c.rng.pick(['bsr_reconnect-1.0', 'bsr_stop-1.0', 'xyz']) }) },
  { name: 'pulse_id_zero', layer: 'early', kinds: [], weight: 1, apply: () => goodMessage(0) },
];

export interface FuzzItem {
  /** Index in the sequence. */
  index: number;
  /** null: a good message. */
  mutation: MutationSpec | null;
  /** Pulse id in frame 0 (for main/message/control the current one; not consumed). */
  pulseId: number;
  /** true when this message makes a row (good, channel, good-layer mutations). */
  row: boolean;
  /** Seed for the random details (frames are built on demand, identical every time). */
  seed: number;
}

/**
 * The plan: `count` messages, about `badFraction` of them mutated, pulse ids from `firstPulseId`
 * consumed by every message that makes a row. Cheap (no frames built).
 */
export function fuzzPlan(seed: number, count: number, firstPulseId: number, badFraction = 0.5): FuzzItem[] {
  const rng = new Rng(seed);
  const total = MUTATIONS.reduce((s, m) => s + m.weight, 0);
  const items: FuzzItem[] = [];
  let pulse = firstPulseId;
  for (let i = 0; i < count; i++) {
    let mutation: MutationSpec | null = null;
    // The first and the last message are good: the range starts and ends on known rows.
    if (i > 0 && i < count - 1 && rng.next() < badFraction) {
      let r = rng.next() * total;
      for (const m of MUTATIONS) {
        r -= m.weight;
        if (r < 0) {
          mutation = m;
          break;
        }
      }
      mutation ??= MUTATIONS[MUTATIONS.length - 1]!;
    }
    const row = mutation === null || mutation.layer === 'channel' || mutation.layer === 'good';
    // A repeat carries one of the last (up to) 50 pulse ids already written.
    const pulseId = mutation?.layer === 'repeat' ? pulse - 1 - Math.floor(rng.next() * Math.min(50, pulse - firstPulseId)) : pulse;
    items.push({ index: i, mutation, pulseId, row, seed: Math.floor(rng.next() * 2 ** 32) });
    if (row) pulse++;
  }
  return items;
}

/** The frames of one planned message. */
export function buildFrames(item: FuzzItem): Buffer[] {
  const frames = goodMessage(item.pulseId);
  if (item.mutation === null) return frames;
  const c: Ctx = { rng: new Rng(item.seed), pulseId: item.pulseId, frames, main: JSON.parse(frames[0]!.toString('utf8')) as Record<string, unknown> };
  return item.mutation.apply(c);
}

export interface FuzzExpectation {
  sent: number;
  rows: number;
  firstPulseId: number;
  lastPulseId: number;
  /** Per layer, number of messages. */
  layers: Record<Layer | 'plain', number>;
  byMutation: Record<string, number>;
  /** Buffer: malformed by kind (main layer), not_data. */
  bufferMalformed: Record<string, number>;
  bufferNotData: number;
  /** Writer reading the source directly: malformed by kind (main + message layers). */
  writerMalformedDirect: KindBounds;
  /** Writer behind the buffer: message layer only. */
  writerMalformedViaBuffer: KindBounds;
  channelErrors: KindBounds;
  /** Per row (pulse id - firstPulseId): channels expected missing. */
  missing: Map<number, FuzzChannel>;
  /** Rows whose TEXT is not "p<pulse id>" (huge strings): pulse id → length. */
  textLength: Map<number, number>;
}

/** Per kind: at least `min` (mutations with only this kind), at most `max`; `total` exactly. */
export interface KindBounds {
  total: number;
  min: Record<string, number>;
  max: Record<string, number>;
}

function addKinds(b: KindBounds, kinds: readonly string[]): void {
  b.total++;
  if (kinds.length === 1) b.min[kinds[0]!] = (b.min[kinds[0]!] ?? 0) + 1;
  for (const k of kinds) b.max[k] = (b.max[k] ?? 0) + 1;
}

const emptyBounds = (): KindBounds => ({ total: 0, min: {}, max: {} });

export function expectationOf(plan: readonly FuzzItem[]): FuzzExpectation {
  const e: FuzzExpectation = {
    sent: plan.length,
    rows: 0,
    firstPulseId: plan[0]!.pulseId,
    lastPulseId: plan[0]!.pulseId,
    layers: { main: 0, message: 0, channel: 0, good: 0, control: 0, early: 0, repeat: 0, plain: 0 },
    byMutation: {},
    bufferMalformed: {},
    bufferNotData: 0,
    writerMalformedDirect: emptyBounds(),
    writerMalformedViaBuffer: emptyBounds(),
    channelErrors: emptyBounds(),
    missing: new Map(),
    textLength: new Map(),
  };
  for (const it of plan) {
    if (it.row) {
      e.rows++;
      e.lastPulseId = it.pulseId;
    }
    const m = it.mutation;
    if (m === null) {
      e.layers.plain++;
      continue;
    }
    e.layers[m.layer]++;
    e.byMutation[m.name] = (e.byMutation[m.name] ?? 0) + 1;
    switch (m.layer) {
      case 'main':
        e.bufferMalformed[m.kinds[0]!] = (e.bufferMalformed[m.kinds[0]!] ?? 0) + 1;
        addKinds(e.writerMalformedDirect, m.kinds);
        break;
      case 'message':
        addKinds(e.writerMalformedDirect, m.kinds);
        addKinds(e.writerMalformedViaBuffer, m.kinds);
        break;
      case 'channel':
        addKinds(e.channelErrors, m.kinds);
        e.missing.set(it.pulseId, m.channel!);
        break;
      case 'good':
        if (m.channel !== undefined) e.missing.set(it.pulseId, m.channel);
        if (m.name === 'good_huge_string') {
          const c: Ctx = { rng: new Rng(it.seed), pulseId: it.pulseId, frames: [], main: {} };
          // Same draw as apply(): the first random number is the length.
          e.textLength.set(it.pulseId, c.rng.int(64 * 1024, 1024 * 1024));
        }
        break;
      case 'control':
        e.bufferNotData++;
        break;
      case 'early':
      case 'repeat':
        break;
    }
  }
  return e;
}

/** Checks observed counts against bounds; returns problems (empty when consistent). */
export function checkKinds(what: string, observed: Record<string, number>, b: KindBounds): string[] {
  const problems: string[] = [];
  const total = Object.values(observed).reduce((s, n) => s + n, 0);
  if (total !== b.total) problems.push(`${what}: total ${total}, expected ${b.total}`);
  for (const k of new Set([...Object.keys(observed), ...Object.keys(b.max)])) {
    const n = observed[k] ?? 0;
    if (n < (b.min[k] ?? 0) || n > (b.max[k] ?? 0)) problems.push(`${what}: ${k} = ${n}, expected ${b.min[k] ?? 0}..${b.max[k] ?? 0}`);
  }
  return problems;
}
