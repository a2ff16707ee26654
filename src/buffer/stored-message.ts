// One buffered message: the original frames packed into ONE contiguous Buffer plus a table of
// frame offsets. A 1000-channel message is 2002 small frames; 2002 Buffer objects would cost
// more memory than the payload, so views are made only when the message is sent.
import type { Timestamp } from '../bsread/index.js';

export interface StoredMessage {
  /** Arrival sequence number in this buffer (0, 1, 2, ...), never reused. */
  readonly seq: number;
  /** From the main header (frame 0) as received. */
  readonly pulseId: number;
  readonly globalTimestamp: Timestamp | null;
  /** Buffer clock (ms since the epoch) when the message arrived. */
  readonly arrivalMs: number;
  /** All frames back to back, exactly as received. */
  readonly data: Buffer;
  /** offsets[i] .. offsets[i+1] is frame i; length = frame count + 1. */
  readonly offsets: Uint32Array;
}

/** Bytes a stored message costs in the ring's accounting (payload + offset table + object overhead). */
export const STORED_OVERHEAD_BYTES = 160;

export function storedBytes(m: StoredMessage): number {
  return m.data.byteLength + m.offsets.byteLength + STORED_OVERHEAD_BYTES;
}

export interface PackedFrames {
  readonly data: Buffer;
  readonly offsets: Uint32Array;
}

/**
 * Copies the frames into one contiguous Buffer. allocUnsafeSlow keeps the message off Node's
 * shared 8 kB pool, so a buffered message never keeps a pool slab of other data alive.
 */
export function packFrames(frames: readonly Uint8Array[]): PackedFrames {
  const offsets = new Uint32Array(frames.length + 1);
  let total = 0;
  for (let i = 0; i < frames.length; i++) {
    offsets[i] = total;
    total += frames[i]!.byteLength;
  }
  offsets[frames.length] = total;
  const data = Buffer.allocUnsafeSlow(total);
  for (let i = 0; i < frames.length; i++) data.set(frames[i]!, offsets[i]!);
  return { data, offsets };
}

/** Zero-copy views of the frames, for sending. */
export function frameViews(m: PackedFrames): Buffer[] {
  const n = m.offsets.length - 1;
  const out = new Array<Buffer>(n);
  for (let i = 0; i < n; i++) out[i] = m.data.subarray(m.offsets[i]!, m.offsets[i + 1]!);
  return out;
}

export function frameCount(m: PackedFrames): number {
  return m.offsets.length - 1;
}
