// The last minutes of the buffer's intake rate and depth, for the status page's chart: one
// sample per housekeeping tick (1 s) in a fixed-size ring, so a page opened late still shows
// them. Pure: the caller passes each sample with its time.

export interface HistorySample {
  /** Wall-clock time of the sample, ms since the epoch. */
  t: number;
  /** Messages per second received from the source over the last tick. */
  rate_hz: number;
  /** Messages held. */
  depth: number;
  /** Bytes held. */
  bytes: number;
}

/** 10 minutes at one sample a second. */
export const DEFAULT_HISTORY_SAMPLES = 600;

export class StatusHistory {
  private readonly slots: (HistorySample | undefined)[];
  /** Index the next sample goes to. */
  private head = 0;
  private count = 0;

  constructor(readonly capacity: number = DEFAULT_HISTORY_SAMPLES) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`history capacity must be a positive integer, not ${capacity}`);
    this.slots = new Array<HistorySample | undefined>(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Adds a sample; the oldest one goes once the ring is full. */
  push(sample: HistorySample): void {
    this.slots[this.head] = sample;
    this.head = (this.head + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
  }

  /** The samples held, oldest first; with sinceMs, only those taken after that time. */
  samples(sinceMs?: number): HistorySample[] {
    const out: HistorySample[] = [];
    const start = (this.head - this.count + this.capacity) % this.capacity;
    for (let i = 0; i < this.count; i++) {
      const s = this.slots[(start + i) % this.capacity]!;
      if (sinceMs === undefined || s.t > sinceMs) out.push(s);
    }
    return out;
  }
}
