// The server side of the replay protocol (docs/replay-protocol.md): a ROUTER socket that
// answers hello / replay / release. Each replay consumer gets a PUSH socket of its own on an
// ephemeral port, a bounded queue from the store and its own async send loop. Intake never
// awaits a consumer. What is replayed comes from a ReplayStore: the buffer's ring today, any
// other store of recent messages that can hand out such queues tomorrow.
import { randomUUID } from 'node:crypto';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { frameViews, PushEndpoint, RouterEndpoint, Wakeup, type PackedFrames } from '../transport/index.js';
import {
  encodePackedMessage,
  encodeReply,
  parseReplayRequest,
  REPLAY_PROTOCOL_VERSION,
  REPLAY_FRAMINGS,
  REPLAY_SERVICE_NAME,
  type ErrorReply,
  type ReplayFraming,
  type HelloReply,
  type ReplayReply,
} from './messages.js';

/** A message to replay: its frames, packed, and its pulse id. */
export interface ReplayMessage extends PackedFrames {
  readonly pulseId: number;
}

/** One consumer's bounded queue, filled by the store (the buffered past, then live messages). */
export interface ReplayQueue {
  readonly depth: number;
  readonly bytes: number;
  /** Messages dropped because the queue was full. */
  readonly dropped: number;
  /** Called by the store when a message was queued. */
  onData: (() => void) | undefined;
  peek(): ReplayMessage | undefined;
  shift(): unknown;
}

/** What the store answers to a replay request. */
export interface ReplayRegistration {
  readonly id: string;
  /** null: live messages only. */
  readonly fromPulseId: number | null;
  readonly queue: ReplayQueue;
  /** Pulse id of the first queued message from the past, null when none. */
  readonly firstPulseId: number | null;
  /** Oldest pulse id the store held at registration, null when empty. */
  readonly oldestPulseId: number | null;
  /** Pulses asked for that the store no longer holds. */
  readonly gap: number;
  /** Messages queued from the past at registration. */
  readonly snapshotCount: number;
}

/** The recent past a replay service serves from. */
export interface ReplayStore {
  readonly depth: number;
  oldestPulseId(): number | null;
  newestPulseId(): number | null;
  /**
   * Queues every held message with pulse id >= fromPulseId (null: none) and registers the
   * consumer for live messages, in one synchronous step (no message in between is lost or
   * doubled).
   */
  register(id: string, fromPulseId: number | null): ReplayRegistration;
  unregister(id: string): void;
}

export interface ConsumerStatus {
  consumer_id: string;
  stream: string;
  framing: ReplayFraming;
  from_pulse_id: number | null;
  peers: number;
  queue_depth: number;
  queue_bytes: number;
  sent: number;
  dropped: number;
  gap: number;
  last_sent_pulse_id: number | null;
}

class ReplayConsumer {
  private closed = false;
  sent = 0;
  lastSentPulseId: number | null = null;

  constructor(
    readonly reg: ReplayRegistration,
    private readonly socket: PushEndpoint,
    private readonly framing: ReplayFraming,
    private readonly log: Logger,
    private readonly wake: Wakeup,
  ) {
    reg.queue.onData = () => this.wake.notify();
    void this.run();
  }

  get endpoint(): string {
    return this.socket.endpoint;
  }

  get peers(): number {
    return this.socket.peers;
  }

  get noPeerSinceMs(): number {
    return this.socket.noPeerSinceMs;
  }

  private async run(): Promise<void> {
    const q = this.reg.queue;
    while (!this.closed) {
      const m = q.peek();
      if (m === undefined || this.socket.peers === 0) {
        await this.wake.wait();
        continue;
      }
      try {
        await this.socket.send(this.framing === 'packed' ? encodePackedMessage(m.data, m.offsets) : frameViews(m));
        this.sent++;
        this.lastSentPulseId = m.pulseId;
      } catch (e) {
        if (this.closed) return;
        this.log.error({ consumer: this.reg.id, err: errorMessage(e) }, `replay send failed; pulse_id ${m.pulseId} skipped`);
      }
      q.shift();
    }
  }

  status(): ConsumerStatus {
    return {
      consumer_id: this.reg.id,
      stream: this.endpoint,
      framing: this.framing,
      from_pulse_id: this.reg.fromPulseId,
      peers: this.socket.peers,
      queue_depth: this.reg.queue.depth,
      queue_bytes: this.reg.queue.bytes,
      sent: this.sent,
      dropped: this.reg.queue.dropped,
      gap: this.reg.gap,
      last_sent_pulse_id: this.lastSentPulseId,
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.reg.queue.onData = undefined;
    this.socket.close();
    this.wake.notify();
  }
}

export interface ReplayServiceOptions {
  /** Where the ROUTER binds, e.g. tcp://127.0.0.1:8083. */
  address: string;
  /** Host the consumers' PUSH sockets bind on (the replay service's host). */
  bindHost: string;
  store: ReplayStore;
  log: Logger;
  /** Release a consumer whose stream had no reader for this long. */
  idleMs: number;
  /** ZeroMQ send high-water mark of each consumer's PUSH socket. */
  consumerHighWaterMark?: number;
}

export class ReplayService {
  private readonly consumers = new Map<string, ReplayConsumer>();
  private closed = false;
  private nextId = 1;
  /** Consumers released because nobody read their stream. */
  idleReleased = 0;
  /** Requests answered with an error. */
  badRequests = 0;
  /** Drops of consumers that are gone, so the total never goes down. */
  private droppedByGone = 0;

  /** Names this run of the buffer, so writers notice a restart (see ReplaySource). */
  readonly instance = randomUUID();

  private constructor(
    private readonly router: RouterEndpoint,
    private readonly opts: ReplayServiceOptions,
  ) {
    void this.run();
  }

  /** Throws BsreadError BSREAD_ERR_TRANSPORT when the address cannot be bound. */
  static async bind(opts: ReplayServiceOptions): Promise<ReplayService> {
    return new ReplayService(await RouterEndpoint.bind(opts.address, 'the replay service'), opts);
  }

  get endpoint(): string {
    return this.router.endpoint;
  }

  private async run(): Promise<void> {
    while (!this.closed) {
      let frames: Buffer[];
      try {
        frames = await this.router.receive();
      } catch (e) {
        if (this.closed) return;
        this.opts.log.error({ err: errorMessage(e) }, 'replay service receive failed');
        continue;
      }
      // [identity, payload] from DEALER, [identity, '', payload] from REQ (or a DEALER that adds it).
      const envelope = frames.length >= 3 && frames[1]!.length === 0 ? frames.slice(0, 2) : frames.slice(0, 1);
      const payload = frames[envelope.length];
      let reply: object;
      try {
        reply = payload === undefined || frames.length !== envelope.length + 1 ? this.error('expected one JSON frame') : await this.handle(payload);
      } catch (e) {
        reply = this.error(errorMessage(e));
      }
      if (this.closed) return;
      try {
        await this.router.send([...envelope, encodeReply(reply)]);
      } catch (e) {
        if (this.closed) return;
        this.opts.log.warn({ err: errorMessage(e) }, 'replay service could not reply');
      }
    }
  }

  private error(text: string): ErrorReply {
    this.badRequests++;
    return { state: 'error', error: text };
  }

  private async handle(payload: Buffer): Promise<object> {
    const parsed = parseReplayRequest(payload);
    if (!parsed.ok) return this.error(parsed.error);
    const req = parsed.request;
    const store = this.opts.store;
    switch (req.op) {
      case 'hello':
      case 'status': {
        const reply: HelloReply = {
          state: 'ok',
          service: REPLAY_SERVICE_NAME,
          protocol: REPLAY_PROTOCOL_VERSION,
          instance: this.instance,
          oldest_pulse_id: store.oldestPulseId(),
          newest_pulse_id: store.newestPulseId(),
          depth: store.depth,
          framings: [...REPLAY_FRAMINGS],
        };
        return req.op === 'hello' ? reply : { ...reply, consumers: this.status() };
      }
      case 'release': {
        const c = this.consumers.get(req.consumerId);
        if (c === undefined) return this.error(`no consumer ${req.consumerId}`);
        this.release(req.consumerId, 'released by the client');
        return { state: 'ok' };
      }
      case 'replay':
        return this.openConsumer(req.fromPulseId, req.framing);
    }
  }

  private async openConsumer(fromPulseId: number | null, framing: ReplayFraming): Promise<ReplayReply | ErrorReply> {
    const wake = new Wakeup();
    let socket: PushEndpoint;
    try {
      socket = await PushEndpoint.bind(`tcp://${this.opts.bindHost}:0`, {
        highWaterMark: this.opts.consumerHighWaterMark ?? 10,
        what: 'a stream for the consumer at',
        onPeersChange: () => wake.notify(),
      });
    } catch (e) {
      return this.error(errorMessage(e));
    }
    if (this.closed) {
      socket.close();
      return this.error('the buffer is shutting down');
    }
    // Unique across runs of the buffer: a client that outlived a restart cannot release someone else's stream.
    const id = `${this.instance.slice(0, 8)}-c${this.nextId++}`;
    // Snapshot + live registration: one synchronous step (no await in between).
    const reg = this.opts.store.register(id, fromPulseId);
    const consumer = new ReplayConsumer(reg, socket, framing, this.opts.log, wake);
    this.consumers.set(id, consumer);
    const stream = consumer.endpoint;
    const port = Number(/:(\d+)$/.exec(stream)?.[1] ?? 0);
    this.opts.log.info({ consumer: id, from_pulse_id: fromPulseId, framing, stream, queued: reg.snapshotCount, gap: reg.gap }, 'replay consumer opened');
    return {
      state: 'ok',
      stream,
      port,
      consumer_id: id,
      framing,
      first_pulse_id: reg.firstPulseId,
      oldest_pulse_id: reg.oldestPulseId,
      gap: reg.gap,
    };
  }

  private release(id: string, why: string): void {
    const c = this.consumers.get(id);
    if (c === undefined) return;
    this.consumers.delete(id);
    this.droppedByGone += c.reg.queue.dropped;
    this.opts.store.unregister(id);
    c.close();
    this.opts.log.info({ consumer: id, sent: c.sent, dropped: c.reg.queue.dropped }, `replay consumer ${why}`);
  }

  /** Releases consumers whose stream had no reader for idleMs (call periodically). */
  releaseIdle(nowMs: number): void {
    for (const [id, c] of this.consumers) {
      if (c.peers === 0 && nowMs - c.noPeerSinceMs > this.opts.idleMs) {
        this.idleReleased++;
        this.release(id, `released: no reader for ${Math.round(this.opts.idleMs / 1000)} s`);
      }
    }
  }

  status(): ConsumerStatus[] {
    return [...this.consumers.values()].map((c) => c.status());
  }

  /** Messages dropped for all consumers, including released ones. */
  totalDropped(): number {
    let n = this.droppedByGone;
    for (const c of this.consumers.values()) n += c.reg.queue.dropped;
    return n;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const id of [...this.consumers.keys()]) this.release(id, 'closed (shutdown)');
    this.router.close();
  }
}
