// A message's frames packed into ONE contiguous Buffer plus a table of frame offsets: what the
// native receiver hands out, what the buffer stores and what the replay protocol's packed
// framing carries. A 1000-channel message is 2002 small frames; 2002 Buffer objects would cost
// more memory than the payload, so views are made only when the message is sent.

export interface PackedFrames {
  /** All frames back to back, exactly as received. */
  readonly data: Buffer;
  /** offsets[i] .. offsets[i+1] is frame i; length = frame count + 1. */
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
