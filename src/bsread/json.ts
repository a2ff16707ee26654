// The fixtures' value format (also `bsread receive --json`):
//   {"pulse_id", "global_timestamp": {"sec","ns"}, "channels": {name: {"value", "timestamp": [sec, ns] | null}}}
// Scalars (bsread shape [1]) are numbers (bool 0/1), strings are strings, arrays are
// {"dtype", "shape" (C order), "values" (flat)}; NaN and ±Infinity are the strings "NaN",
// "Infinity", "-Infinity". int64/uint64 are JSON numbers with every digit (a bigint when they do
// not fit a double exactly). A channel whose value cannot be decoded has value null, timestamp
// null and an extra "error" with the reason (not in the fixtures: they have no bad channels).
import { MalformedMessageError } from '../errors.js';
import type { ChannelValue } from './codec.js';
import type { BsreadMessage } from './message.js';
import { PyFloat, pyJson, type PyJsonValue } from './pyjson.js';
import { TYPES, type BsreadType, type Timestamp } from './types.js';

export type JsonNumber = number | bigint | 'NaN' | 'Infinity' | '-Infinity';

export interface JsonArray {
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly values: readonly JsonNumber[];
}

// A scalar is a JsonNumber or a string channel's text (JsonNumber's special values are strings too).
export type JsonValue = number | bigint | string | JsonArray | null;

export interface JsonChannel {
  readonly value: JsonValue;
  readonly timestamp: readonly [number, number] | null;
  readonly error?: string;
}

export interface JsonMessage {
  readonly pulse_id: number;
  readonly global_timestamp: { readonly sec: number; readonly ns: number } | null;
  readonly channels: Readonly<Record<string, JsonChannel>>;
}

function jsonNumber(v: number | bigint): JsonNumber {
  if (typeof v === 'bigint') {
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : v;
  }
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  return v;
}

/** One decoded value in the fixtures' format. */
export function valueToJson(v: ChannelValue | null): JsonValue {
  if (v === null || typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return jsonNumber(v);
  const data = v.data;
  const values: JsonNumber[] = new Array<JsonNumber>(data.length);
  for (let i = 0; i < data.length; i++) values[i] = jsonNumber(data[i]!);
  return { dtype: TYPES[v.dtype].numpy, shape: [...v.shape], values };
}

function tsToJson(t: Timestamp | null): readonly [number, number] | null {
  return t === null ? null : [t.sec, t.ns];
}

/** The whole message in the fixtures' format (decodes every channel). */
/** `only`: the names of the channels to include (absent or empty: all). */
export function messageToJson(msg: BsreadMessage, only?: ReadonlySet<string>): JsonMessage {
  const channels: Record<string, JsonChannel> = {};
  for (let i = 0; i < msg.channelCount; i++) {
    const name = msg.entry(i).name;
    if (only !== undefined && only.size > 0 && !only.has(name)) continue;
    try {
      const value = valueToJson(msg.value(i));
      // A missing value has no timestamp (BP returns None for both).
      channels[name] = { value, timestamp: value === null ? null : tsToJson(msg.timestamp(i)) };
    } catch (e) {
      if (!(e instanceof MalformedMessageError)) throw e;
      channels[name] = { value: null, timestamp: null, error: e.message };
    }
  }
  const g = msg.globalTimestamp;
  return { pulse_id: msg.pulseId, global_timestamp: g === null ? null : { sec: g.sec, ns: g.ns }, channels };
}

function pyNumber(v: JsonNumber, float: boolean): PyJsonValue {
  return typeof v === 'number' && float ? new PyFloat(v) : v;
}

/**
 * One line of `bsread receive --json`: the message as json.dumps would write the fixtures'
 * object (float channels print as 1.0, non-ASCII escaped, ", " / ": " separators).
 */
export function formatMessageJson(msg: BsreadMessage, only?: ReadonlySet<string>): string {
  const obj = messageToJson(msg, only);
  const channels: Record<string, PyJsonValue> = {};
  for (let i = 0; i < msg.channelCount; i++) {
    const e = msg.entry(i);
    const c = obj.channels[e.name];
    if (c === undefined) continue; // left out by `only`
    const type: BsreadType | undefined = e.invalid === undefined ? e.type : undefined;
    const float = type === 'float32' || type === 'float64';
    let value: PyJsonValue;
    const v = c.value;
    if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint') {
      value = v === null || typeof v === 'string' ? v : pyNumber(v, float);
    } else {
      value = { dtype: v.dtype, shape: [...v.shape], values: v.values.map((x) => pyNumber(x, float)) };
    }
    channels[e.name] = { value, timestamp: c.timestamp === null ? null : [...c.timestamp], error: c.error };
  }
  return pyJson({ pulse_id: obj.pulse_id, global_timestamp: obj.global_timestamp, channels });
}
