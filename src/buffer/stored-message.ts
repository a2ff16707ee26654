// One buffered message: the original frames packed (transport/packed-frames.ts) with what the
// buffer knows of it.
import type { Timestamp } from '../bsread/index.js';
import type { PackedFrames } from '../transport/index.js';

export interface StoredMessage extends PackedFrames {
  /** Arrival sequence number in this buffer (0, 1, 2, ...), never reused. */
  readonly seq: number;
  /** From the main header (frame 0) as received. */
  readonly pulseId: number;
  readonly globalTimestamp: Timestamp | null;
  /** Buffer clock (ms since the epoch) when the message arrived. */
  readonly arrivalMs: number;
}

/** Bytes a stored message costs in the ring's accounting (payload + offset table + object overhead). */
export const STORED_OVERHEAD_BYTES = 160;

export function storedBytes(m: StoredMessage): number {
  return m.data.byteLength + m.offsets.byteLength + STORED_OVERHEAD_BYTES;
}
