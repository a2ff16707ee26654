// Pre-encoded simulated messages, sent in a cycle as a recorded stream is replayed: only the
// pulse id and the timestamps change from one send to the next. Encoding 10,000 channels costs
// the simulator most of a core at 100 Hz; patching a pre-encoded message costs a few
// microseconds plus one 16-byte copy per channel, so a benchmark's source stops competing with
// the programs it measures.
//
// The message sent for pulse p carries the values (and the presence) recorded for pulse
// start + ((p - start) mod count): `recordedPulseId` says which, so checks stay exact.
import { encodeMainHeader, encodeTimestamp, type Compression } from '../bsread/index.js';
import { BsreadError } from '../errors.js';
import { encodeSimulatedMessage, HeaderCache } from './message.js';
import type { SimProfile } from './profile.js';
import { pulseTimestamp } from './values.js';

/** Room reserved in front of the frames for the main header (it is about 160 bytes long). */
const MAIN_HEADER_ROOM = 512;
/** Pre-encoded messages are kept in memory: a bound that still allows a few seconds of cameras. */
export const MAX_PRE_ENCODED = 10_000;

interface PackedTemplate {
  /** MAIN_HEADER_ROOM bytes for the main header, then frames 1.. back to back. */
  readonly data: Uint8Array;
  /** Frame boundaries (frames + 1 entries); offsets[0] moves with the main header's length. */
  readonly offsets: Uint32Array;
  readonly hash: string;
  readonly dhCompression: Compression;
  /** Start of each little-endian and big-endian 16-byte timestamp frame in `data`. */
  readonly littleStamps: Uint32Array;
  readonly bigStamps: Uint32Array;
}

export interface PackedMessage {
  readonly data: Uint8Array;
  readonly offsets: Uint32Array;
  /** Bytes of all frames. */
  readonly bytes: number;
}

function mainHeaderInfo(frame: Buffer): { hash: string; dhCompression: Compression } {
  const h = JSON.parse(frame.toString('utf8')) as { hash: string; dh_compression?: Compression };
  return { hash: h.hash, dhCompression: h.dh_compression ?? 'none' };
}

function packTemplate(frames: Buffer[], recordedPulseId: number): PackedTemplate {
  const ts = pulseTimestamp(recordedPulseId);
  const little = encodeTimestamp(ts, 'little');
  const big = encodeTimestamp(ts, 'big');
  let size = MAIN_HEADER_ROOM;
  for (let i = 1; i < frames.length; i++) size += frames[i]!.length;
  const data = new Uint8Array(size);
  const offsets = new Uint32Array(frames.length + 1);
  const littleStamps: number[] = [];
  const bigStamps: number[] = [];
  let at = MAIN_HEADER_ROOM;
  offsets[1] = at;
  for (let i = 1; i < frames.length; i++) {
    const f = frames[i]!;
    data.set(f, at);
    // Timestamp frames (odd frames from 3 on) equal to the global timestamp get the new one at each send.
    if (i >= 3 && i % 2 === 1 && f.length === 16) {
      if (f.equals(little)) littleStamps.push(at);
      else if (f.equals(big)) bigStamps.push(at);
    }
    at += f.length;
    offsets[i + 1] = at;
  }
  return { data, offsets, ...mainHeaderInfo(frames[0]!), littleStamps: Uint32Array.from(littleStamps), bigStamps: Uint32Array.from(bigStamps) };
}

export class PreEncodedCycle {
  private constructor(
    private readonly templates: readonly PackedTemplate[],
    /** The pulse id the cycle was recorded from. */
    readonly start: number,
  ) {}

  /** Encodes `count` messages, for pulse ids start .. start + count - 1. */
  static build(profile: SimProfile, start: number, count: number, headers: HeaderCache = new HeaderCache()): PreEncodedCycle {
    if (!Number.isSafeInteger(count) || count < 1 || count > MAX_PRE_ENCODED) {
      throw new BsreadError('BSREAD_ERR_INVALID_ARGUMENT', `pre-encoded message count ${count} is not an integer from 1 to ${MAX_PRE_ENCODED}`);
    }
    const templates: PackedTemplate[] = [];
    for (let k = 0; k < count; k++) templates.push(packTemplate(encodeSimulatedMessage(profile, start + k, headers), start + k));
    return new PreEncodedCycle(templates, start);
  }

  get count(): number {
    return this.templates.length;
  }

  /** The pulse id whose values the message for `pulseId` carries. */
  recordedPulseId(pulseId: number): number {
    return this.start + ((((pulseId - this.start) % this.count) + this.count) % this.count);
  }

  /**
   * The message for `pulseId`, ready for NativeStreamSender.sendPacked. Its buffers are reused:
   * send it before asking for another message of the same cycle position.
   */
  messageFor(pulseId: number): PackedMessage {
    const t = this.templates[this.recordedPulseId(pulseId) - this.start]!;
    const ts = pulseTimestamp(pulseId);
    const header = encodeMainHeader(pulseId, ts, t.hash, t.dhCompression);
    if (header.length > MAIN_HEADER_ROOM) throw new BsreadError('BSREAD_ERR_INVALID_ARGUMENT', `main header of ${header.length} bytes does not fit`);
    const headerAt = MAIN_HEADER_ROOM - header.length;
    t.data.set(header, headerAt);
    t.offsets[0] = headerAt;
    const little = encodeTimestamp(ts, 'little');
    for (let i = 0; i < t.littleStamps.length; i++) t.data.set(little, t.littleStamps[i]);
    if (t.bigStamps.length > 0) {
      const big = encodeTimestamp(ts, 'big');
      for (let i = 0; i < t.bigStamps.length; i++) t.data.set(big, t.bigStamps[i]);
    }
    return { data: t.data, offsets: t.offsets, bytes: t.data.length - headerAt };
  }
}
