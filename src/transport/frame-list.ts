// The frames of one message as one block plus frame boundaries: what the addon's receiver
// delivers and what the buffer's 'packed' replay framing carries. A BsreadMessage reads its
// frames through this without making a view per frame: a 5000-channel message is 10,002
// frames, and a view each cost more than the writer's work on them.

/** Frames held as one block: frame k is data[offsets[k] .. offsets[k + 1]). */
export class PackedFrameList {
  /** Frame count (as an array's length). */
  readonly length: number;
  /**
   * True when the block is lent by a recycling receiver: valid only until the consumer takes
   * the next message, so nothing may keep a view of it (the writer writes such rows at once).
   */
  borrowed = false;

  private constructor(
    readonly data: Uint8Array,
    readonly offsets: Uint32Array,
  ) {
    this.length = offsets.length - 1;
  }

  /**
   * The frame list, after checking the boundaries: at least one entry, starting at 0, never
   * decreasing, ending exactly at the end of `data`. A string says what is wrong. Never throws.
   */
  static from(data: Uint8Array, offsets: Uint32Array): PackedFrameList | string {
    const n = offsets.length;
    if (n < 1) return 'no frame offsets';
    if (offsets[0] !== 0) return 'frame offsets do not start at 0';
    let prev = 0;
    for (let i = 1; i < n; i++) {
      const end = offsets[i]!;
      if (end < prev || end > data.byteLength) return `frame offset ${i} (${end}) is out of order or past the data (${data.byteLength} bytes)`;
      prev = end;
    }
    if (prev !== data.byteLength) return `frame offsets end at ${prev}, the data has ${data.byteLength} bytes`;
    return new PackedFrameList(data, offsets);
  }

  /** A view of frame k (no copy). */
  frame(k: number): Uint8Array {
    const o = this.offsets;
    const start = o[k]!;
    return new Uint8Array(this.data.buffer, this.data.byteOffset + start, o[k + 1]! - start);
  }

  /** The byte length of frame k, without a view. */
  frameLength(k: number): number {
    return this.offsets[k + 1]! - this.offsets[k]!;
  }

  /** A view of every frame. */
  toArray(): Uint8Array[] {
    const out = new Array<Uint8Array>(this.length);
    for (let k = 0; k < this.length; k++) out[k] = this.frame(k);
    return out;
  }
}

/** The frames of one message: one per array element, or packed. */
export type MessageFrames = readonly Uint8Array[] | PackedFrameList;

/** Frame k of either form, or undefined past the end. */
export function frameAt(frames: MessageFrames, k: number): Uint8Array | undefined {
  if (!(frames instanceof PackedFrameList)) return frames[k];
  return k >= 0 && k < frames.length ? frames.frame(k) : undefined;
}
