// A replay consumer's own bounded queue of stored messages (references into the ring, no copies).
// When it is full, new messages for this consumer are dropped and counted: intake never waits.
import { storedBytes, type StoredMessage } from './stored-message.js';

export interface QueueLimits {
  maxMessages: number;
  maxBytes?: number | undefined;
}

export class ConsumerQueue {
  private items: (StoredMessage | undefined)[] = [];
  private head = 0;
  private bytesHeld = 0;
  /** Messages that did not fit and were dropped. */
  dropped = 0;
  /** Messages handed out with shift(). */
  taken = 0;
  /** Called after a message was queued (wakes the consumer's send loop). */
  onData: (() => void) | undefined;

  constructor(readonly limits: QueueLimits) {}

  get depth(): number {
    return this.items.length - this.head;
  }

  get bytes(): number {
    return this.bytesHeld;
  }

  /** Queues m unless the queue is full; returns false (and counts) when dropped. */
  push(m: StoredMessage): boolean {
    const b = storedBytes(m);
    const { maxMessages, maxBytes } = this.limits;
    if (this.depth >= maxMessages || (maxBytes !== undefined && this.depth > 0 && this.bytesHeld + b > maxBytes)) {
      this.dropped++;
      return false;
    }
    this.items.push(m);
    this.bytesHeld += b;
    this.onData?.();
    return true;
  }

  peek(): StoredMessage | undefined {
    return this.items[this.head];
  }

  shift(): StoredMessage | undefined {
    if (this.depth === 0) return undefined;
    const m = this.items[this.head]!;
    this.items[this.head] = undefined;
    this.head++;
    this.bytesHeld -= storedBytes(m);
    this.taken++;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return m;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
    this.bytesHeld = 0;
  }
}
