// The buffer's memory: stored messages in arrival order, bounded by count, age and bytes.
// Whichever limit is hit first evicts the oldest entries. Pure: no I/O, the clock is passed in.
import { storedBytes, type StoredMessage } from './stored-message.js';

export interface RingLimits {
  /** At most this many messages (>= 1). */
  maxMessages: number;
  /** Evict messages older than this (arrival time), if set. */
  maxAgeMs?: number | undefined;
  /** Evict while the stored bytes exceed this, if set. The newest message is always kept. */
  maxBytes?: number | undefined;
}

export interface RingStats {
  depth: number;
  bytes: number;
  oldestSeq: number;
  /** Sequence number the next message will get. */
  nextSeq: number;
  oldestPulseId: number | null;
  newestPulseId: number | null;
  evicted: number;
}

export class RingBuffer {
  private items: (StoredMessage | undefined)[] = [];
  private head = 0;
  private bytesHeld = 0;
  private next = 0;
  /** Messages evicted since start. */
  evicted = 0;

  constructor(readonly limits: RingLimits) {
    if (!Number.isInteger(limits.maxMessages) || limits.maxMessages < 1) throw new RangeError('maxMessages must be an integer >= 1');
  }

  get depth(): number {
    return this.items.length - this.head;
  }

  get bytes(): number {
    return this.bytesHeld;
  }

  /** Sequence number of the oldest message held (== nextSeq when empty). */
  get oldestSeq(): number {
    return this.next - this.depth;
  }

  get nextSeq(): number {
    return this.next;
  }

  oldest(): StoredMessage | undefined {
    return this.items[this.head];
  }

  newest(): StoredMessage | undefined {
    return this.depth === 0 ? undefined : this.items[this.items.length - 1];
  }

  /** The message with this sequence number, if still held. */
  get(seq: number): StoredMessage | undefined {
    const i = seq - this.oldestSeq;
    if (i < 0 || i >= this.depth) return undefined;
    return this.items[this.head + i];
  }

  /** The sequence number the next pushed message will get; use it to build the StoredMessage. */
  allocSeq(): number {
    return this.next;
  }

  /** Appends a message (its seq must be allocSeq()) and evicts by the limits; returns how many were evicted. */
  push(m: StoredMessage, nowMs: number = m.arrivalMs): number {
    if (m.seq !== this.next) throw new RangeError(`message seq ${m.seq} pushed, expected ${this.next}`);
    this.items.push(m);
    this.next++;
    this.bytesHeld += storedBytes(m);
    return this.evict(nowMs);
  }

  /** Evicts what is over the limits at time nowMs (call periodically so age limits apply when the stream stops). */
  evict(nowMs: number): number {
    const { maxMessages, maxAgeMs, maxBytes } = this.limits;
    let n = 0;
    while (this.depth > 0) {
      const o = this.items[this.head]!;
      const over =
        this.depth > maxMessages || (maxBytes !== undefined && this.bytesHeld > maxBytes && this.depth > 1) || (maxAgeMs !== undefined && nowMs - o.arrivalMs > maxAgeMs);
      if (!over) break;
      this.items[this.head] = undefined;
      this.head++;
      this.bytesHeld -= storedBytes(o);
      n++;
    }
    // Compact now and then so the array does not grow without bound.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    this.evicted += n;
    return n;
  }

  /** Messages held, oldest first, with pulseId >= fromPulseId (all when null). In arrival order. */
  select(fromPulseId: number | null): StoredMessage[] {
    const out: StoredMessage[] = [];
    for (let i = this.head; i < this.items.length; i++) {
      const m = this.items[i]!;
      if (fromPulseId === null || m.pulseId >= fromPulseId) out.push(m);
    }
    return out;
  }

  /** Smallest pulse id held (not necessarily the oldest entry when a source restarted), or null. */
  minPulseId(): number | null {
    let min: number | null = null;
    for (let i = this.head; i < this.items.length; i++) {
      const p = this.items[i]!.pulseId;
      if (min === null || p < min) min = p;
    }
    return min;
  }

  stats(): RingStats {
    return {
      depth: this.depth,
      bytes: this.bytesHeld,
      oldestSeq: this.oldestSeq,
      nextSeq: this.next,
      oldestPulseId: this.oldest()?.pulseId ?? null,
      newestPulseId: this.newest()?.pulseId ?? null,
      evicted: this.evicted,
    };
  }

  clear(): void {
    this.evicted += this.depth;
    this.items = [];
    this.head = 0;
    this.bytesHeld = 0;
  }
}
