// The writer's side of a JetStream stream: find the first message of a pulse range without
// reading the stream from its start, then read the past and live messages through one ordered
// consumer. The reader remembers the stream sequence after the last message it handed on, and
// after any error (lost server, leader change) reads on from exactly there: no gap, no duplicate.
import { DeliverPolicy, type Consumer, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import type { PackedFrameList } from '../bsread/index.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { RateLimitedLog } from '../rate-limited-log.js';
import { Wakeup } from '../transport/index.js';
import type { JetStreamConnection } from './connection.js';
import { decodeRecord, PartAssembler, readPartHeaders } from './record.js';

/** What a stored message's headers say of it; null when the sequence holds no message. */
export type PulseAt = (seq: number) => Promise<{ pulseId: number; part: number } | null>;

/**
 * The smallest sequence in firstSeq..lastSeq whose pulse id is >= fromPulseId (lastSeq + 1 when
 * none), by binary search: about log2(n) reads. Pulse ids are assumed to grow with the sequence,
 * as a buffer publishes them. A sequence that holds nothing (aged out while searching) counts as
 * older. The answer is moved back to part 0 of a split message.
 */
export async function findStartSequence(pulseAt: PulseAt, firstSeq: number, lastSeq: number, fromPulseId: number): Promise<number> {
  let lo = firstSeq;
  let hi = lastSeq + 1;
  let found: { pulseId: number; part: number } | null = null;
  while (lo < hi) {
    const mid = lo + Math.floor((hi - lo) / 2);
    const at = await pulseAt(mid);
    if (at !== null && at.pulseId >= fromPulseId) {
      hi = mid;
      found = at;
    } else lo = mid + 1;
  }
  if (lo <= lastSeq && found !== null) {
    const at = await pulseAt(lo);
    if (at !== null && at.part > 0) return Math.max(firstSeq, lo - at.part);
  }
  return lo;
}

/** How long one pull waits on the server for messages (ms). */
const PULL_EXPIRES_MS = 1000;
/** A pull still open this long after its expiry is given up (its server is gone). */
const PULL_STALL_MS = 2000;

export interface ReaderOptions {
  log: Logger;
  /** Bytes one pull asks for, about (the count per pull is derived from the message size). */
  pullBytes?: number;
  /** At most this many messages per pull. */
  maxPullMessages?: number;
}

export interface ReaderOpened {
  /** Pulses asked for that the stream no longer holds. */
  readonly gap: number;
  /** Pulse id of the stream's first message when opened, null when empty. */
  readonly firstStoredPulseId: number | null;
  readonly startSeq: number;
}

export interface ReceivedRecord {
  readonly frames: PackedFrameList;
  readonly pulseId: number;
  /** Bytes stored (the payload of all parts). */
  readonly bytes: number;
}

export class JetStreamReader {
  private readonly queue: ReceivedRecord[] = [];
  private queuedBytes = 0;
  private readonly dataWake = new Wakeup();
  private readonly spaceWake = new Wakeup();
  private readonly assembler = new PartAssembler();
  private readonly problems: RateLimitedLog<'bad_record' | 'fetch'>;
  private closed = false;
  private pump: Promise<void> = Promise.resolve();
  /** The pull under way, ended at once by close() instead of waiting for its expiry. */
  private pull: ConsumerMessages | null = null;
  /** Largest message of the last pull; the next pull's count is sized from it (the server's max_payload before the first). */
  private largest: number;
  private largestNow = 0;
  /** Sequence of the next message to read. */
  nextSeq: number;
  /** Stored messages that did not decode (bad headers or payload). */
  badRecords = 0;
  /** Times the consumer was created again after an error. */
  resumes = 0;

  private constructor(
    private readonly conn: JetStreamConnection,
    private readonly stream: string,
    readonly opened: ReaderOpened,
    private readonly opts: ReaderOptions,
  ) {
    this.nextSeq = opened.startSeq;
    this.largest = conn.maxPayload;
    this.problems = new RateLimitedLog(opts.log, 'warn');
  }

  /**
   * Opens the stream at the first message with pulse id >= fromPulseId (null: at the newest
   * message). Throws BsreadError BSREAD_ERR_JETSTREAM when the stream does not exist.
   */
  static async open(conn: JetStreamConnection, stream: string, fromPulseId: number | null, opts: ReaderOptions): Promise<JetStreamReader> {
    const info = await conn.jsm.streams.info(stream);
    const { first_seq: firstSeq, last_seq: lastSeq, messages } = info.state;
    const pulseAt: PulseAt = (seq) => conn.storedPartAt(stream, seq);
    let startSeq = lastSeq + 1;
    let firstStoredPulseId: number | null = null;
    if (messages > 0) {
      firstStoredPulseId = (await pulseAt(firstSeq))?.pulseId ?? null;
      if (fromPulseId !== null) startSeq = await findStartSequence(pulseAt, firstSeq, lastSeq, fromPulseId);
      else {
        const last = await pulseAt(lastSeq);
        startSeq = Math.max(firstSeq, lastSeq - (last?.part ?? 0));
      }
    }
    const gap = fromPulseId !== null && firstStoredPulseId !== null && firstStoredPulseId > fromPulseId ? firstStoredPulseId - fromPulseId : 0;
    const r = new JetStreamReader(conn, stream, { gap, firstStoredPulseId, startSeq }, opts);
    r.pump = r.run();
    return r;
  }

  /** Messages dropped because a part never came. */
  get incomplete(): number {
    return this.assembler.incomplete;
  }

  private async run(): Promise<void> {
    const pullBytes = this.opts.pullBytes ?? 16 * 1024 * 1024;
    const maxPull = this.opts.maxPullMessages ?? 256;
    let consumer: Consumer | null = null;
    while (!this.closed) {
      if (this.queuedBytes >= pullBytes) {
        await this.spaceWake.wait();
        continue;
      }
      try {
        consumer ??= await this.conn.js.consumers.get(this.stream, { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: this.nextSeq });
        // Pull by count, sized from the bytes: pulls asked by bytes were slow with nats-server 2.9,
        // and many 1 MB messages per pull slow too (docs/jetstream.md).
        // The server disconnects a client with more than 64 MB unread, so a pull never asks for more than pullBytes.
        const count = Math.max(1, Math.min(maxPull, Math.floor(pullBytes / this.largest)));
        this.largestNow = 0;
        const batch = await consumer.fetch({ max_messages: count, expires: PULL_EXPIRES_MS });
        this.pull = batch;
        if (this.closed) void batch.close();
        // A pull whose server died (a cluster node, a stream leader) may never end by itself: when
        // nothing came for a while after its expiry, end it and read on from nextSeq.
        let lastActivity = Date.now();
        let stalled = false;
        const watchdog = setInterval(() => {
          if (Date.now() - lastActivity > PULL_EXPIRES_MS + PULL_STALL_MS) {
            stalled = true;
            void batch.close().catch(() => {});
          }
        }, 250);
        try {
          for await (const jm of batch) {
            if (this.closed) break;
            lastActivity = Date.now();
            this.take(jm);
          }
        } finally {
          clearInterval(watchdog);
          this.pull = null;
        }
        if (stalled && !this.closed) {
          this.problems.event('fetch', `a pull got no answer for ${(PULL_EXPIRES_MS + PULL_STALL_MS) / 1000} s; reading on from stream sequence ${this.nextSeq}`);
          consumer = null;
          this.resumes++;
        }
        if (this.largestNow > 0) this.largest = this.largestNow;
      } catch (e) {
        if (this.closed) return;
        this.problems.event('fetch', `${errorMessage(e)}; reading on from stream sequence ${this.nextSeq}`);
        consumer = null;
        this.resumes++;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  private take(jm: JsMsg): void {
    if (jm.seq < this.nextSeq) return; // already handed on (a consumer created again)
    this.nextSeq = jm.seq + 1;
    this.largestNow = Math.max(this.largestNow, 256, jm.data.byteLength);
    const h = readPartHeaders((k) => jm.headers?.get(k) || undefined);
    if (typeof h === 'string') {
      this.badRecords++;
      this.problems.event('bad_record', `stream sequence ${jm.seq}: ${h}`);
      return;
    }
    const whole = this.assembler.add({ ...h, payload: jm.data });
    if (whole === null) return;
    const frames = decodeRecord(whole);
    if (typeof frames === 'string') {
      this.badRecords++;
      this.problems.event('bad_record', `stream sequence ${jm.seq}: ${frames}`);
      return;
    }
    this.queue.push({ frames, pulseId: h.pulseId, bytes: whole.byteLength });
    this.queuedBytes += whole.byteLength;
    this.dataWake.notify();
  }

  /** The next message, or null when none came within timeoutMs or after close(). */
  async receive(timeoutMs: number): Promise<ReceivedRecord | null> {
    let timer: NodeJS.Timeout | undefined;
    try {
      while (this.queue.length === 0) {
        if (this.closed) return null;
        let timedOut = false;
        await Promise.race([
          this.dataWake.wait(),
          new Promise<void>((r) => {
            timer = setTimeout(() => {
              timedOut = true;
              r();
            }, timeoutMs);
          }),
        ]);
        clearTimeout(timer);
        if (timedOut && this.queue.length === 0) return null;
      }
    } finally {
      clearTimeout(timer);
    }
    const r = this.queue.shift()!;
    this.queuedBytes -= r.bytes;
    this.spaceWake.notify();
    return r;
  }

  /** The stream's newest pulse id once everything stored was read; null while more is stored or when unknown. */
  async newestPulseIdIfCaughtUp(): Promise<number | null> {
    const info = await this.conn.jsm.streams.info(this.stream);
    if (info.state.messages === 0 || this.nextSeq <= info.state.last_seq || this.queue.length > 0) return null;
    return (await this.conn.storedPartAt(this.stream, info.state.last_seq))?.pulseId ?? null;
  }

  /**
   * Stops reading: receive() returns null. The pull under way may wait for its expiry (1 s)
   * unless the connection is closed next, as the writer's source does; `ended` says when it is over.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.dataWake.notify();
    this.spaceWake.notify();
    void this.pull?.close().catch(() => {});
  }

  /** Resolves when the reading loop has ended (after close()). */
  get ended(): Promise<void> {
    return this.pump;
  }
}
