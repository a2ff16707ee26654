// Small builders for hand-made (often broken) bsread messages, shared by the bsread tests.
import assert from 'node:assert/strict';
import { MalformedMessageError, type MalformedKind } from '../../../src/errors.js';
import { BsreadReceiver, md5hex, type BsreadMessage } from '../../../src/bsread/index.js';

export const GT = { sec: 1_700_000_000, ns: 5 };

/** Frame 0 with a correct hash of `dh` unless `main` overrides it. */
export function mainHeader(dh: Buffer, main: Record<string, unknown> = {}): Buffer {
  return Buffer.from(JSON.stringify({ htype: 'bsr_m-1.1', hash: md5hex(dh), pulse_id: 7, global_timestamp: GT, ...main }));
}

export function dataHeader(channels: unknown[], extra: Record<string, unknown> = {}): Buffer {
  return Buffer.from(JSON.stringify({ htype: 'bsr_d-1.1', channels, ...extra }));
}

export function f64(x: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(x);
  return b;
}

export function ts(sec = GT.sec, ns = GT.ns): Buffer {
  const b = Buffer.alloc(16);
  b.writeBigInt64LE(BigInt(sec), 0);
  b.writeBigInt64LE(BigInt(ns), 8);
  return b;
}

/** A message from a channel list and (value, timestamp) pairs. */
export function message(channels: unknown[], pairs: Buffer[], main: Record<string, unknown> = {}): Buffer[] {
  const dh = dataHeader(channels);
  return [mainHeader(dh, main), dh, ...pairs];
}

export function openData(frames: readonly Uint8Array[], r = new BsreadReceiver()): BsreadMessage {
  const m = r.open(frames);
  assert.equal(m.kind, 'data');
  return m as BsreadMessage;
}

/** Asserts that fn throws a MalformedMessageError of this kind (and channel, when given). */
export function throwsKind(fn: () => unknown, kind: MalformedKind, channel?: string): MalformedMessageError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof MalformedMessageError, `expected MalformedMessageError(${kind}), got ${String(caught)}`);
  assert.equal(caught.kind, kind, caught.message);
  assert.equal(caught.code, 'BSREAD_ERR_MALFORMED');
  if (channel !== undefined) assert.equal(caught.channel, channel);
  return caught;
}
