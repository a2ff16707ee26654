// The original buffer's output: a PUSH socket bound on OUTPUT_PORT that delivers the buffered
// messages, then live ones, in order (a FIFO). Implemented as a cursor into the ring that an
// async send loop advances; eviction moves a lagging cursor to the oldest entry (counted as
// skipped). Unlike the original, nothing is taken from the buffer before a reader is connected,
// so the first reader gets exactly what the buffer holds, oldest first.
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { frameViews, PushEndpoint, Wakeup } from '../transport/index.js';
import type { RingBuffer } from './ring-buffer.js';

export interface CompatOutputStatus {
  endpoint: string;
  peers: number;
  /** Sequence number of the next message to send. */
  cursor: number;
  /** Pulse id at the cursor, null when it waits for a new message. */
  nextPulseId: number | null;
  /** Messages behind the newest one. */
  lag: number;
  sent: number;
  /** Messages evicted from the ring before this output could send them. */
  skipped: number;
}

export class CompatOutput {
  private readonly wake: Wakeup;
  private cursor: number;
  private closed = false;
  private loop: Promise<void> | undefined;
  sent = 0;
  skipped = 0;

  private constructor(
    private readonly socket: PushEndpoint,
    private readonly ring: RingBuffer,
    private readonly log: Logger,
    wake: Wakeup,
  ) {
    this.cursor = ring.oldestSeq;
    this.wake = wake;
  }

  /** Binds the PUSH socket (HWM 1 as the original) on `address`, e.g. tcp://127.0.0.1:8082. */
  static async bind(address: string, ring: RingBuffer, log: Logger, highWaterMark = 1): Promise<CompatOutput> {
    const wake = new Wakeup();
    const socket = await PushEndpoint.bind(address, { highWaterMark, what: 'the output', onPeersChange: () => wake.notify() });
    return new CompatOutput(socket, ring, log, wake);
  }

  get endpoint(): string {
    return this.socket.endpoint;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Something new is in the ring. */
  notify(): void {
    this.wake.notify();
  }

  private async run(): Promise<void> {
    while (!this.closed) {
      if (this.socket.peers === 0) {
        await this.wake.wait();
        continue;
      }
      if (this.cursor < this.ring.oldestSeq) {
        this.skipped += this.ring.oldestSeq - this.cursor;
        this.cursor = this.ring.oldestSeq;
      }
      const m = this.ring.get(this.cursor);
      if (m === undefined) {
        await this.wake.wait();
        continue;
      }
      try {
        await this.socket.send(frameViews(m));
      } catch (e) {
        if (this.closed) return;
        this.log.error({ err: errorMessage(e) }, `send on the output ${this.endpoint} failed; message pulse_id ${m.pulseId} skipped`);
      }
      this.cursor++;
      this.sent++;
    }
  }

  status(): CompatOutputStatus {
    const behind = this.cursor < this.ring.oldestSeq ? this.ring.oldestSeq : this.cursor;
    return {
      endpoint: this.endpoint,
      peers: this.socket.peers,
      cursor: this.cursor,
      nextPulseId: this.ring.get(behind)?.pulseId ?? null,
      lag: this.ring.nextSeq - behind,
      sent: this.sent,
      skipped: this.skipped + (behind - this.cursor),
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close();
    this.wake.notify();
  }
}
