// How one bsread message is stored in JetStream (docs/jetstream.md). Pure: no client here.
//
//   payload  = u32 frame count N | u32 offsets[N+1] | the frames back to back   (little endian)
//   headers  = Bsread-Pulse-Id: <decimal>
//              Bsread-Global-Timestamp: <sec>.<9-digit ns>      (absent when the message has none)
//              Bsread-Part: <i>/<n>                              (only when split, i from 0)
//   msg id   = <pulse id>, or <pulse id>.<i> for part i: two buffers storing the same pulse
//              store it once (JetStream's duplicate window).
//
// A payload larger than the server's max_payload is cut into parts published in order; the
// reader (PartAssembler) joins them again and drops a message whose parts did not all arrive.
import { PackedFrameList, type Timestamp } from '../bsread/index.js';
import type { PackedFrames } from '../transport/index.js';

export const HEADER_PULSE_ID = 'Bsread-Pulse-Id';
export const HEADER_TIMESTAMP = 'Bsread-Global-Timestamp';
export const HEADER_PART = 'Bsread-Part';

/** Room left in each part for the headers and the protocol line (max_payload counts both). */
export const PART_HEADROOM_BYTES = 4096;

export interface RecordMeta {
  readonly pulseId: number;
  readonly globalTimestamp: Timestamp | null;
}

export interface RecordPart {
  readonly pulseId: number;
  /** Index of this part, 0 when the message is not split. */
  readonly part: number;
  /** How many parts the message has (1 when not split). */
  readonly parts: number;
  readonly payload: Uint8Array;
}

/** The payload's head: frame count and offsets. */
function recordHead(m: PackedFrames): Buffer {
  const n = m.offsets.length - 1;
  const out = Buffer.allocUnsafe(4 * (n + 2));
  out.writeUInt32LE(n, 0);
  for (let i = 0; i <= n; i++) out.writeUInt32LE(m.offsets[i]!, 4 * (i + 1));
  return out;
}

/** The payload of one message: frame count, offsets and frames in one buffer. */
export function encodeRecord(m: PackedFrames): Buffer {
  const head = recordHead(m);
  const out = Buffer.allocUnsafe(head.byteLength + m.data.byteLength);
  out.set(head, 0);
  out.set(m.data, head.byteLength);
  return out;
}

/**
 * The parts to publish for one message, at most partBytes each. A payload that fits is one
 * part (one copy). A larger one is published as the head alone, then views of the frames: the
 * same bytes in the same order as splitRecord(encodeRecord(m)) would give, cut at other places,
 * without copying megabytes of image data once more (the client copies them into its buffer).
 */
export function publishParts(m: PackedFrames, partBytes: number): Uint8Array[] {
  const headBytes = 4 * (m.offsets.length + 1);
  if (headBytes + m.data.byteLength <= partBytes || headBytes > partBytes) return splitRecord(encodeRecord(m), partBytes);
  return [recordHead(m), ...splitRecord(m.data, partBytes)];
}

/** The frames of a payload, or a string saying what is wrong. Never throws. */
export function decodeRecord(payload: Uint8Array): PackedFrameList | string {
  if (payload.byteLength < 8) return `a stored message of ${payload.byteLength} bytes is too short`;
  const dv = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const n = dv.getUint32(0, true);
  const head = 4 * (n + 2);
  if (n === 0 || head > payload.byteLength) return `a stored message claims ${n} frames, more than its ${payload.byteLength} bytes hold`;
  const offsets = new Uint32Array(n + 1);
  for (let i = 0; i <= n; i++) offsets[i] = dv.getUint32(4 * (i + 1), true);
  const list = PackedFrameList.from(payload.subarray(head), offsets);
  return typeof list === 'string' ? `stored message: ${list}` : list;
}

/** Cuts a payload into parts of at most partBytes (views, no copy). */
export function splitRecord(payload: Uint8Array, partBytes: number): Uint8Array[] {
  if (!(partBytes >= 1)) throw new RangeError(`part size ${partBytes} must be at least 1 byte`);
  if (payload.byteLength <= partBytes) return [payload];
  const parts: Uint8Array[] = [];
  for (let at = 0; at < payload.byteLength; at += partBytes) parts.push(payload.subarray(at, Math.min(at + partBytes, payload.byteLength)));
  return parts;
}

/** The message id of part i of n. */
export function recordMessageId(pulseId: number, part: number, parts: number): string {
  return parts === 1 ? String(pulseId) : `${pulseId}.${part}`;
}

export function formatTimestamp(ts: Timestamp): string {
  return `${ts.sec}.${String(ts.ns).padStart(9, '0')}`;
}

export function parseTimestamp(text: string | undefined): Timestamp | null {
  if (text === undefined || text === '') return null;
  const m = /^(\d{1,15})\.(\d{9})$/.exec(text);
  return m === null ? null : { sec: Number(m[1]), ns: Number(m[2]) };
}

/** The headers of one part, as name/value pairs. */
export function recordHeaders(meta: RecordMeta, part: number, parts: number): [string, string][] {
  const h: [string, string][] = [[HEADER_PULSE_ID, String(meta.pulseId)]];
  if (meta.globalTimestamp !== null) h.push([HEADER_TIMESTAMP, formatTimestamp(meta.globalTimestamp)]);
  if (parts > 1) h.push([HEADER_PART, `${part}/${parts}`]);
  return h;
}

/** Reads a stored part's headers; a string says what is wrong. */
export function readPartHeaders(get: (name: string) => string | undefined): { pulseId: number; part: number; parts: number } | string {
  const p = get(HEADER_PULSE_ID);
  if (p === undefined || !/^\d{1,16}$/.test(p) || !Number.isSafeInteger(Number(p))) return `header ${HEADER_PULSE_ID} is ${p === undefined ? 'missing' : JSON.stringify(p)}`;
  const partText = get(HEADER_PART);
  if (partText === undefined || partText === '') return { pulseId: Number(p), part: 0, parts: 1 };
  const m = /^(\d{1,6})\/(\d{1,6})$/.exec(partText);
  const part = Number(m?.[1]);
  const parts = Number(m?.[2]);
  if (m === null || parts < 1 || part >= parts) return `header ${HEADER_PART} is ${JSON.stringify(partText)}`;
  return { pulseId: Number(p), part, parts };
}

interface Pending {
  readonly parts: (Uint8Array | undefined)[];
  got: number;
}

/**
 * Joins the parts of split messages. Parts normally arrive one after the other; when two buffers
 * store the same pulse, the parts of one message may come from both and be interleaved with other
 * messages, so up to `maxPending` messages may be under way at once. When more start, the oldest
 * unfinished one is dropped and counted in `incomplete`: never handed on half.
 */
export class PartAssembler {
  private readonly pending = new Map<number, Pending>();
  /** Messages dropped because a part never came. */
  incomplete = 0;

  constructor(private readonly maxPending = 16) {}

  /** The whole payload once every part of its message is in; null while parts are missing. */
  add(p: RecordPart): Uint8Array | null {
    if (p.parts === 1) return p.payload;
    let entry = this.pending.get(p.pulseId);
    if (entry !== undefined && entry.parts.length !== p.parts) {
      // The same pulse cut differently: the earlier parts cannot be completed.
      this.pending.delete(p.pulseId);
      this.incomplete++;
      entry = undefined;
    }
    if (entry === undefined) {
      entry = { parts: new Array<Uint8Array | undefined>(p.parts).fill(undefined), got: 0 };
      this.pending.set(p.pulseId, entry);
      while (this.pending.size > this.maxPending) {
        const oldest = this.pending.keys().next().value as number;
        this.pending.delete(oldest);
        this.incomplete++;
      }
    }
    if (entry.parts[p.part] !== undefined) return null; // a repeated part
    // Kept as given: the client hands each message a buffer of its own (never reused).
    entry.parts[p.part] = p.payload;
    entry.got++;
    if (entry.got < p.parts) return null;
    this.pending.delete(p.pulseId);
    return Buffer.concat(entry.parts as Uint8Array[]);
  }

  /** Messages under way; counted as incomplete if the reading stops now. */
  get pendingCount(): number {
    return this.pending.size;
  }
}
