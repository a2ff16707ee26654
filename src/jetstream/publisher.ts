// The buffer's JetStream output: a cursor into the buffer's memory ring that publishes every
// message, in order, with a bounded number of unacknowledged messages. Intake never waits for
// it: when the server is slow or away, the cursor falls behind inside the ring; what the ring
// evicts before it was acknowledged is counted as given up.
//
// Order is kept in the stream, also across failures: every publish expects the message id of the
// one before it as the stream's last (Nats-Expected-Last-Msg-Id), so when a message fails (a
// stream leader that died, a timeout) the ones after it are refused instead of being stored
// before it. Once everything in flight has settled, the publisher reads the stream's last message
// and goes on from the first message of the ring after that pulse (resync). Republishing is
// safe: the message id (from the pulse id) makes JetStream store a pulse once.
import type { Timestamp } from '../bsread/index.js';
import { BsreadError, errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { RateLimitedLog } from '../rate-limited-log.js';
import { Wakeup, type PackedFrames } from '../transport/index.js';
import { ensureStream, isLastingRefusal, JetStreamConnection, makeHeaders, type StreamSettings } from './connection.js';
import { PART_HEADROOM_BYTES, publishParts, recordHeaders, recordMessageId } from './record.js';

/** A message the publisher can take from the source (the buffer's StoredMessage is one). */
export interface PublishableMessage extends PackedFrames {
  readonly seq: number;
  readonly pulseId: number;
  readonly globalTimestamp: Timestamp | null;
}

/** Messages by sequence number, oldest first (the buffer's RingBuffer is one). */
export interface PublishSource {
  readonly oldestSeq: number;
  readonly nextSeq: number;
  get(seq: number): PublishableMessage | undefined;
}

export interface PublisherOptions {
  servers: readonly string[];
  stream: StreamSettings;
  log: Logger;
  /** Messages published and not yet acknowledged, at most. */
  maxPendingAcks?: number;
  /** Bytes published and not yet acknowledged, at most (one message is always allowed). */
  maxPendingBytes?: number;
  /** How long to wait for an acknowledgement (ms). */
  ackTimeoutMs?: number;
  /** How long start() waits for the server before going on in the background (ms). */
  startWaitMs?: number;
  /** Called when the stream turns out to be unusable (the buffer stops with this error). */
  onFatal: (e: BsreadError) => void;
}

export interface JetStreamStatus {
  servers: string[];
  stream: string;
  subject: string;
  /** Connected to a server, and the stream was found or created. */
  ready: boolean;
  connected: boolean;
  server: string | null;
  published: number;
  /** Messages JetStream already had (another buffer, or a republish after a failure). */
  duplicates: number;
  parts_published: number;
  pending_acks: number;
  pending_bytes: number;
  failures: number;
  /** Messages evicted from the memory ring before JetStream acknowledged them. */
  given_up: number;
  /** Times the publisher read where the stream ends and went on from there (at start and after failures). */
  resyncs: number;
  /** Publishes refused because the stream's last message was another than expected (not failures: a resync follows). */
  order_refusals: number;
  /** Messages not published because the stream already held a later pulse (stored by another buffer, or before a failure). */
  passed_over: number;
  /** Messages the cursor is behind the ring's newest. */
  lag: number;
  last_published_pulse_id: number | null;
  stream_messages: number | null;
  stream_bytes: number | null;
  first_seq: number | null;
  last_seq: number | null;
  first_pulse_id: number | null;
  last_pulse_id: number | null;
  last_error: string | null;
}

/** A resync passes over stored-or-missing pulses only this close below the stream's last (2 minutes at 100 Hz). */
const RESYNC_WINDOW_PULSES = 12_000;

interface InFlight {
  readonly seq: number;
  readonly pulseId: number;
  readonly bytes: number;
  readonly parts: number;
  /** The connection's disconnect count when published: an ack cannot come over a later connection. */
  readonly epoch: number;
  settled: boolean;
  ok: boolean;
  duplicate: boolean;
  error: string | null;
}

/** Our own checks of the stream, or the server's lasting refusal: retrying cannot help. */
function isConfigurationError(e: unknown): e is BsreadError {
  return e instanceof BsreadError && (e.cause === undefined || isLastingRefusal(e.cause));
}

export class JetStreamPublisher {
  private conn: JetStreamConnection | null = null;
  private readonly wake = new Wakeup();
  private readonly inflight: InFlight[] = [];
  private pendingBytes = 0;
  private cursor: number;
  private rewindTo: number | null = null;
  /** Message id the next publish expects as the stream's last; null: publish without (just after a resync). */
  private expectLastId: string | null = null;
  /** Messages passed over by a resync because the stream already holds a later pulse. */
  passedOver = 0;
  resyncs = 0;
  /** Publishes the stream refused because its last message was not the one expected (then a resync). */
  orderRefusals = 0;
  private closed = false;
  private loop: Promise<void> | undefined;
  private setup: Promise<void>;
  private partBytes = 0;
  private lastError: string | null = null;
  private readonly errors: RateLimitedLog<'publish' | 'connect' | 'state'>;
  private streamState: Pick<JetStreamStatus, 'stream_messages' | 'stream_bytes' | 'first_seq' | 'last_seq' | 'first_pulse_id' | 'last_pulse_id'> = {
    stream_messages: null,
    stream_bytes: null,
    first_seq: null,
    last_seq: null,
    first_pulse_id: null,
    last_pulse_id: null,
  };
  private refreshing = false;
  published = 0;
  duplicates = 0;
  partsPublished = 0;
  failures = 0;
  givenUp = 0;
  lastPublishedPulseId: number | null = null;

  private constructor(
    private readonly source: PublishSource,
    private readonly opts: PublisherOptions,
  ) {
    this.cursor = source.nextSeq;
    this.errors = new RateLimitedLog(opts.log, 'warn', (k) => `JetStream ${k} failed`);
    this.setup = this.connectLoop();
  }

  /**
   * Starts publishing from the source's next message. Waits up to startWaitMs for the server:
   * a stream that cannot be created or used is thrown here; an unreachable server is not (the
   * publisher keeps trying in the background and /status says so).
   */
  static async start(source: PublishSource, opts: PublisherOptions): Promise<JetStreamPublisher> {
    const p = new JetStreamPublisher(source, opts);
    const wait = new Promise<null>((r) => setTimeout(() => r(null), opts.startWaitMs ?? 3000).unref());
    const fatal = await Promise.race([
      p.setup.then(
        () => null,
        (e: unknown) => (e instanceof Error ? e : new Error(String(e))),
      ),
      wait,
    ]);
    if (fatal !== null) {
      await p.close();
      throw fatal;
    }
    p.setup.catch((e: unknown) => opts.onFatal(e as BsreadError));
    p.loop = p.run();
    return p;
  }

  private async connectLoop(): Promise<void> {
    const { servers, stream, log } = this.opts;
    while (!this.closed) {
      let conn: JetStreamConnection | null = null;
      try {
        conn = await JetStreamConnection.open({ servers, name: `sf_bsread_buffer ${stream.name}`, log });
        this.partBytes = conn.maxPayload - PART_HEADROOM_BYTES;
        const check = await ensureStream(conn.jsm, stream, this.partBytes);
        if (check.created) log.info({ stream: stream.name, subject: stream.subject, server: conn.server }, 'JetStream stream created');
        else if (check.differences.length > 0) {
          log.warn({ stream: stream.name, differences: check.differences }, 'JetStream stream exists with other settings; it is used as it is (never changed or purged)');
        } else log.info({ stream: stream.name, server: conn.server }, 'JetStream stream found');
        if (this.closed) {
          await conn.close();
          return;
        }
        this.conn = conn;
        this.rewindTo = this.cursor; // start with a resync: where the stream ends decides the first publish
        this.wake.notify();
        return;
      } catch (e) {
        await conn?.close();
        if (isConfigurationError(e)) throw e;
        this.lastError = errorMessage(e);
        this.errors.event('connect', this.lastError);
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  /** Something new is in the source. */
  notify(): void {
    this.wake.notify();
  }

  private async run(): Promise<void> {
    const maxAcks = this.opts.maxPendingAcks ?? 256;
    const maxBytes = this.opts.maxPendingBytes ?? 64 * 1024 * 1024;
    while (!this.closed) {
      this.settleHead();
      const conn = this.conn;
      if (conn === null || !conn.connected) {
        await this.sleep(250);
        continue;
      }
      if (this.rewindTo !== null) {
        // A publish failed: let everything in flight settle, then go back to the first failure.
        if (this.inflight.length > 0) {
          await this.wake.wait();
          continue;
        }
        if (!(await this.resync(conn, this.rewindTo))) {
          await this.sleep(500);
          continue;
        }
        this.rewindTo = null;
        continue;
      }
      if (this.cursor < this.source.oldestSeq) {
        this.givenUp += this.source.oldestSeq - this.cursor;
        this.cursor = this.source.oldestSeq;
      }
      const m = this.source.get(this.cursor);
      if (m === undefined || this.inflight.length >= maxAcks || (this.inflight.length > 0 && this.pendingBytes + m.data.byteLength > maxBytes)) {
        await this.wake.wait();
        continue;
      }
      this.publish(conn, m);
      this.cursor++;
    }
  }

  /**
   * After a failure (or at start): read the stream's last pulse and go on from the first message
   * at or after `from` whose pulse id is later; the next publish expects nothing. Pulses up to
   * the stored one are either stored already or, if missing, could only be stored out of order.
   * A pulse far below the stored one (a source restarted with lower pulse ids) is published
   * anyway. False when the stream could not be read (try again later).
   */
  private async resync(conn: JetStreamConnection, from: number): Promise<boolean> {
    let lastPulse: number | null = null;
    try {
      const info = await conn.jsm.streams.info(this.opts.stream.name);
      if (info.state.messages > 0) {
        const h = await conn.storedPartAt(this.opts.stream.name, info.state.last_seq);
        // A split message whose last part is not stored yet counts as not stored: it is published
        // again (its stored parts come back as duplicates), so its parts stay together.
        lastPulse = h === null ? null : h.part < h.parts - 1 ? h.pulseId - 1 : h.pulseId;
      }
    } catch (e) {
      this.lastError = errorMessage(e);
      this.errors.event('state', `reading where the stream ends: ${this.lastError}`);
      return false;
    }
    let cursor = Math.max(from, this.source.oldestSeq);
    const skipBelow = lastPulse === null ? null : lastPulse - RESYNC_WINDOW_PULSES;
    let passed = 0;
    for (;;) {
      const m = this.source.get(cursor);
      if (m === undefined || lastPulse === null || skipBelow === null || m.pulseId > lastPulse || m.pulseId <= skipBelow) break;
      cursor++;
      passed++;
    }
    if (this.resyncs > 0 && passed > 0) this.opts.log.info({ last_stored_pulse_id: lastPulse, passed_over: passed }, 'JetStream: going on after the last stored pulse');
    this.passedOver += passed;
    this.resyncs++;
    this.cursor = cursor;
    this.expectLastId = null;
    return true;
  }

  private publish(conn: JetStreamConnection, m: PublishableMessage): void {
    const parts = publishParts(m, this.partBytes);
    const entry: InFlight = {
      seq: m.seq,
      pulseId: m.pulseId,
      bytes: m.data.byteLength,
      parts: parts.length,
      epoch: conn.disconnects,
      settled: false,
      ok: false,
      duplicate: false,
      error: null,
    };
    this.inflight.push(entry);
    this.pendingBytes += entry.bytes;
    const subject = this.opts.stream.subject;
    const timeout = this.opts.ackTimeoutMs ?? 5000;
    const acks = parts.map((payload, i) => {
      const msgID = recordMessageId(m.pulseId, i, parts.length);
      const expect = this.expectLastId === null ? {} : { expect: { lastMsgID: this.expectLastId } };
      this.expectLastId = msgID;
      return conn.js.publish(subject, payload, { msgID, headers: makeHeaders(recordHeaders(m, i, parts.length)), timeout, ...expect });
    });
    void Promise.allSettled(acks).then((results) => {
      if (entry.settled) return; // given up already (connection lost)
      entry.settled = true;
      entry.ok = results.every((r) => r.status === 'fulfilled');
      entry.duplicate = entry.ok && results.every((r) => r.status === 'fulfilled' && r.value.duplicate);
      const failed = results.find((r) => r.status === 'rejected');
      if (failed !== undefined) entry.error = errorMessage(failed.reason);
      this.wake.notify();
    });
  }

  /** Takes settled messages off the head of the in-flight list, in order. */
  private settleHead(): void {
    const epoch = this.conn?.disconnects ?? 0;
    for (const e of this.inflight) {
      if (!e.settled && e.epoch !== epoch) {
        // Published before the connection was lost: its ack will never come; do not wait for the timeout.
        e.settled = true;
        e.error = 'the connection was lost before the acknowledgement';
      }
    }
    while (this.inflight.length > 0) {
      const e = this.inflight[0]!;
      if (!e.settled) {
        // Later ones may have failed already; a failure anywhere starts the rewind.
        const failed = this.inflight.find((x) => x.settled && !x.ok);
        if (failed !== undefined) this.noteFailure(failed);
        return;
      }
      this.inflight.shift();
      this.pendingBytes -= e.bytes;
      if (e.ok) {
        if (e.duplicate) this.duplicates++;
        else this.published++;
        this.partsPublished += e.parts;
        this.lastPublishedPulseId = e.pulseId;
      } else this.noteFailure(e);
    }
  }

  private noteFailure(e: InFlight): void {
    if (e.error !== null) {
      if (/wrong last msg ?id/i.test(e.error)) {
        // Not an error: the stream moved on without us (another buffer, or an earlier failure); resync.
        this.orderRefusals++;
      } else {
        this.failures++;
        this.lastError = e.error;
        this.errors.event('publish', `pulse_id ${e.pulseId}: ${e.error}; republishing from there`);
      }
      e.error = null; // counted once
    }
    this.rewindTo = Math.min(this.rewindTo ?? Infinity, e.seq);
  }

  private async sleep(ms: number): Promise<void> {
    await Promise.race([new Promise((r) => setTimeout(r, ms)), this.wake.wait()]);
  }

  /** Reads the stream's extent (call periodically; at most one read runs at a time). */
  async refreshStreamState(): Promise<void> {
    const conn = this.conn;
    if (conn === null || !conn.connected || this.refreshing) return;
    this.refreshing = true;
    try {
      const info = await conn.jsm.streams.info(this.opts.stream.name);
      const s = info.state;
      const old = this.streamState;
      const pulseAt = async (seq: number, known: number | null, knownSeq: number | null): Promise<number | null> => {
        if (s.messages === 0) return null;
        if (knownSeq === seq) return known;
        return (await conn.storedPartAt(this.opts.stream.name, seq))?.pulseId ?? null;
      };
      this.streamState = {
        stream_messages: s.messages,
        stream_bytes: s.bytes,
        first_seq: s.first_seq,
        last_seq: s.last_seq,
        first_pulse_id: await pulseAt(s.first_seq, old.first_pulse_id, old.first_seq),
        last_pulse_id: await pulseAt(s.last_seq, old.last_pulse_id, old.last_seq),
      };
    } catch (e) {
      this.errors.event('state', errorMessage(e));
    } finally {
      this.refreshing = false;
    }
  }

  status(): JetStreamStatus {
    const behind = Math.max(this.cursor, this.source.oldestSeq);
    return {
      servers: [...this.opts.servers],
      stream: this.opts.stream.name,
      subject: this.opts.stream.subject,
      ready: this.conn !== null,
      connected: this.conn?.connected ?? false,
      server: this.conn?.server ?? null,
      published: this.published,
      duplicates: this.duplicates,
      parts_published: this.partsPublished,
      pending_acks: this.inflight.length,
      pending_bytes: this.pendingBytes,
      failures: this.failures,
      given_up: this.givenUp + (behind - this.cursor),
      resyncs: this.resyncs,
      order_refusals: this.orderRefusals,
      passed_over: this.passedOver,
      lag: this.source.nextSeq - behind,
      last_published_pulse_id: this.lastPublishedPulseId,
      ...this.streamState,
      last_error: this.lastError,
    };
  }

  /** Waits (up to waitMs) for what is in flight and what the ring still holds, then disconnects. */
  async close(waitMs = 2000): Promise<void> {
    const deadline = Date.now() + waitMs;
    while (!this.closed && this.conn?.connected && Date.now() < deadline && (this.inflight.length > 0 || this.source.get(this.cursor) !== undefined)) {
      await new Promise((r) => setTimeout(r, 20));
    }
    this.closed = true;
    this.wake.notify();
    await this.loop;
    await this.conn?.close();
  }
}
