// The replay protocol's JSON requests and replies (docs/replay-protocol.md): shapes, parsing and
// validation, shared by the service and the client. Pure.
import { PackedFrameList } from '../bsread/index.js';

export const REPLAY_SERVICE_NAME = 'sf_bsread_buffer';
export const REPLAY_PROTOCOL_VERSION = 1;

/**
 * How a consumer's stream carries each message:
 * - 'frames': the original multipart message, frame for frame (any bsread PULL client reads it);
 * - 'packed': two frames, [offsets, data]: data is all the original frames back to back, offsets
 *   little-endian uint32, frame count + 1 of them (offsets[i]..offsets[i+1] is frame i). Same
 *   bytes, but 2 ZeroMQ frames instead of 2 + 2 × channels (zeromq.js costs µs per frame).
 */
export type ReplayFraming = 'frames' | 'packed';
export const REPLAY_FRAMINGS: readonly ReplayFraming[] = ['frames', 'packed'];

export type ReplayRequest =
  | { readonly op: 'hello' }
  | { readonly op: 'replay'; readonly fromPulseId: number | null; readonly framing: ReplayFraming }
  | { readonly op: 'release'; readonly consumerId: string }
  | { readonly op: 'status' };

export interface HelloReply {
  state: 'ok';
  service: typeof REPLAY_SERVICE_NAME;
  protocol: number;
  /** Differs each time the buffer starts: a client that sees it change knows its stream is gone. */
  instance?: string;
  oldest_pulse_id: number | null;
  newest_pulse_id: number | null;
  depth: number;
  /** Framings the replay op accepts; absent from buffers that only send 'frames'. */
  framings?: ReplayFraming[];
}

export interface ReplayReply {
  state: 'ok';
  /** The consumer's PUSH socket as bound by the buffer (its host may be 0.0.0.0). */
  stream: string;
  /** The port of `stream`: clients connect to it on the host they reached the replay service at. */
  port: number;
  consumer_id: string;
  /** Absent means 'frames'. */
  framing?: ReplayFraming;
  first_pulse_id: number | null;
  oldest_pulse_id: number | null;
  gap: number;
}

export interface ErrorReply {
  state: 'error';
  error: string;
}

export type ParsedRequest = { ok: true; request: ReplayRequest } | { ok: false; error: string };

function isPulseId(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Parses one request frame; never throws. */
export function parseReplayRequest(frame: Uint8Array): ParsedRequest {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).toString('utf8'));
  } catch {
    return { ok: false, error: 'request is not valid JSON' };
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { ok: false, error: 'request is not a JSON object' };
  const o = v as Record<string, unknown>;
  switch (o['op']) {
    case 'hello':
      return { ok: true, request: { op: 'hello' } };
    case 'status':
      return { ok: true, request: { op: 'status' } };
    case 'replay': {
      const from = o['from_pulse_id'];
      if (from !== null && !isPulseId(from)) {
        return { ok: false, error: `from_pulse_id must be a non-negative integer or null, got ${JSON.stringify(from)}` };
      }
      const framing = o['framing'] ?? 'frames';
      if (!REPLAY_FRAMINGS.includes(framing as ReplayFraming)) {
        return { ok: false, error: `framing must be one of ${REPLAY_FRAMINGS.join(', ')}, got ${JSON.stringify(framing)}` };
      }
      return { ok: true, request: { op: 'replay', fromPulseId: from ?? null, framing: framing as ReplayFraming } };
    }
    case 'release': {
      const id = o['consumer_id'];
      if (typeof id !== 'string' || id.length === 0) return { ok: false, error: 'release needs a consumer_id string' };
      return { ok: true, request: { op: 'release', consumerId: id } };
    }
    default:
      return { ok: false, error: `unknown op ${JSON.stringify(o['op'])}; expected hello, replay or release` };
  }
}

export function encodeReply(reply: object): Buffer {
  return Buffer.from(JSON.stringify(reply), 'utf8');
}

function asObject(frame: Uint8Array | undefined): Record<string, unknown> | null {
  if (frame === undefined) return null;
  try {
    const v: unknown = JSON.parse(Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

const nullablePulse = (v: unknown): v is number | null => v === null || isPulseId(v);

/** A hello reply from our buffer, or null for anything else (another service on that port). */
export function parseHelloReply(frame: Uint8Array | undefined): HelloReply | null {
  const o = asObject(frame);
  if (o === null || o['state'] !== 'ok' || o['service'] !== REPLAY_SERVICE_NAME) return null;
  if (typeof o['protocol'] !== 'number' || !nullablePulse(o['oldest_pulse_id']) || !nullablePulse(o['newest_pulse_id'])) return null;
  if (typeof o['depth'] !== 'number') return null;
  return o as unknown as HelloReply;
}

/** A replay reply, or an error text. */
export function parseReplayReply(frame: Uint8Array | undefined): ReplayReply | { error: string } {
  const o = asObject(frame);
  if (o === null) return { error: 'reply is not a JSON object' };
  if (o['state'] === 'error') return { error: typeof o['error'] === 'string' ? o['error'] : 'unspecified error' };
  if (o['state'] !== 'ok') return { error: `unexpected state ${JSON.stringify(o['state'])}` };
  const port = o['port'];
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) return { error: 'reply has no valid port' };
  if (typeof o['consumer_id'] !== 'string' || typeof o['stream'] !== 'string') return { error: 'reply has no consumer_id or stream' };
  if (!nullablePulse(o['first_pulse_id']) || !nullablePulse(o['oldest_pulse_id'])) return { error: 'reply has invalid pulse ids' };
  if (typeof o['gap'] !== 'number' || !Number.isSafeInteger(o['gap']) || o['gap'] < 0) return { error: 'reply has an invalid gap' };
  if (o['framing'] !== undefined && !REPLAY_FRAMINGS.includes(o['framing'] as ReplayFraming)) return { error: 'reply has an unknown framing' };
  return o as unknown as ReplayReply;
}

/** State of a plain {"state":...} reply. */
export function parseStateReply(frame: Uint8Array | undefined): { ok: true } | { ok: false; error: string } {
  const o = asObject(frame);
  if (o === null) return { ok: false, error: 'reply is not a JSON object' };
  if (o['state'] === 'ok') return { ok: true };
  return { ok: false, error: typeof o['error'] === 'string' ? o['error'] : `unexpected reply ${JSON.stringify(o)}` };
}

const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/** The two frames of a message in 'packed' framing (no copy of the data on little-endian hosts). */
export function encodePackedMessage(data: Uint8Array, offsets: Uint32Array): [Uint8Array, Uint8Array] {
  if (LITTLE_ENDIAN) return [new Uint8Array(offsets.buffer, offsets.byteOffset, offsets.byteLength), data];
  const o = new Uint8Array(offsets.length * 4);
  const dv = new DataView(o.buffer);
  for (let i = 0; i < offsets.length; i++) dv.setUint32(i * 4, offsets[i]!, true);
  return [o, data];
}

/** The original frames (a PackedFrameList over the data frame, no copy) of a 'packed' message, or an error text. Never throws. */
export function decodePackedMessage(frames: readonly Uint8Array[]): PackedFrameList | string {
  if (frames.length !== 2) return `a packed message has 2 frames, got ${frames.length}`;
  const [o, data] = frames as [Uint8Array, Uint8Array];
  if (o.byteLength < 8 || o.byteLength % 4 !== 0) return `packed offsets frame of ${o.byteLength} bytes`;
  let offsets: Uint32Array;
  if (LITTLE_ENDIAN && o.byteOffset % 4 === 0) {
    offsets = new Uint32Array(o.buffer, o.byteOffset, o.byteLength / 4);
  } else {
    const dv = new DataView(o.buffer, o.byteOffset, o.byteLength);
    offsets = new Uint32Array(o.byteLength / 4);
    for (let i = 0; i < offsets.length; i++) offsets[i] = dv.getUint32(i * 4, true);
  }
  const list = PackedFrameList.from(data, offsets);
  return typeof list === 'string' ? `packed ${list}` : list;
}
