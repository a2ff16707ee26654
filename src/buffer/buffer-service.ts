// The buffer program's core: intake from one source into the ring, the compatible PUSH output,
// the replay service and the analyzer, wired together. The intake loop only awaits the input
// socket; every output has its own send loop, so no consumer can block intake.
import { BsreadReceiver, readMainHeaderFrame } from '../bsread/index.js';
import { DropCounter } from '../drop-counter.js';
import { BsreadError, errorMessage, MalformedMessageError, type MalformedKind } from '../errors.js';
import { JetStreamPublisher, type JetStreamStatus, type StreamSettings } from '../jetstream/index.js';
import type { Logger } from '../log.js';
import { ReplayService, type ConsumerStatus } from '../replay/index.js';
import { messageFrames, NativeStreamReceiver, packFrames, type PackedFrames, type ReceiveMode, type ReceiveReader } from '../transport/index.js';
import { CompatOutput, type CompatOutputStatus } from './compat-output.js';
import { DispatcherStream, type DispatcherStreamOptions, type DispatcherStreamStatus } from './dispatcher-stream.js';
import { RateLimitedLog } from '../rate-limited-log.js';
import { ReplayRegistry, ringReplayStore } from './replay-registry.js';
import { RingBuffer, type RingLimits } from './ring-buffer.js';
import { StatusHistory, type HistorySample } from './status-history.js';
import type { StoredMessage } from './stored-message.js';
import { StreamAnalyzer, type AnalyzerCounters, type AnomalyKind } from './stream-analyzer.js';

export interface BufferServiceOptions {
  /** The source, tcp://host:port. */
  inputAddress: string;
  inputMode: ReceiveMode;
  /** Who reads the input (NativeReceiverOptions.reader); default libzmq. */
  inputReader?: ReceiveReader | undefined;
  /** Receive high-water mark of the input (the original used 100). */
  inputHighWaterMark?: number;
  /** Compatible PUSH output, e.g. tcp://127.0.0.1:8082. */
  outputAddress: string;
  /** Replay service ROUTER, e.g. tcp://127.0.0.1:8083. */
  replayAddress: string;
  /** Host the replay consumers' streams bind on. */
  bindHost: string;
  limits: RingLimits;
  analyzer: boolean;
  consumerIdleMs: number;
  log: Logger;
  /** Also publish every message into this JetStream stream. */
  jetStream?: { servers: readonly string[]; stream: StreamSettings; onFatal: (e: BsreadError) => void } | undefined;
  /**
   * -c: the dispatcher stream inputAddress was obtained from; it is requested again when it ends
   * (see dispatcher-stream.ts).
   */
  dispatcher?: Omit<DispatcherStreamOptions, 'log' | 'connect' | 'onLost' | 'now'> | undefined;
  /** Buffer clock, for tests. */
  now?: () => number;
}

export interface BufferStatus {
  service: 'sf_bsread_buffer';
  uptime_s: number;
  input: {
    address: string;
    mode: ReceiveMode;
    received: number;
    buffered: number;
    not_data: number;
    malformed: Record<string, number>;
    /** Messages read and dropped because they could not be kept (4 GiB or more, or no memory). */
    oversized: number;
    /** Who reads the input: zmtp (the addon's ZMTP reader) or libzmq. */
    reader: ReceiveReader;
    /** zmtp: connections to the source ended because it broke the protocol, and the last reason. */
    protocol_errors: number;
    last_protocol_error: string | null;
    rate_hz: number;
    last_pulse_id: number | null;
  };
  buffer: {
    depth: number;
    /** Seconds between the arrival of the oldest and of the newest message held. */
    seconds: number;
    bytes: number;
    oldest_pulse_id: number | null;
    newest_pulse_id: number | null;
    evicted: number;
    max_messages: number;
    max_seconds: number | null;
    max_bytes: number | null;
  };
  output: CompatOutputStatus;
  replay: { endpoint: string; consumers: ConsumerStatus[]; dropped: number; idle_released: number; bad_requests: number };
  analyzer: AnalyzerCounters | null;
  jetstream: JetStreamStatus | null;
  /** With -c: the dispatcher stream and its re-requests; null for a STREAM given directly. */
  dispatcher: DispatcherStreamStatus | null;
}

export class BufferService {
  readonly ring: RingBuffer;
  readonly registry: ReplayRegistry;
  private readonly malformed: DropCounter<MalformedKind>;
  private readonly analyzer: StreamAnalyzer | null;
  private readonly bsreadReceiver: BsreadReceiver | null;
  private readonly now: () => number;
  private readonly startedMs: number;
  private input: NativeStreamReceiver | undefined;
  /** Oversized messages counted by inputs closed since (a dispatcher stream's earlier addresses). */
  private oversizedBefore = 0;
  private protocolErrorsBefore = 0;
  private protocolErrorsLogged = 0;
  private inputAddress: string;
  private dispatcher: DispatcherStream | undefined;
  readonly history = new StatusHistory();
  private output: CompatOutput | undefined;
  private replay: ReplayService | undefined;
  private publisher: JetStreamPublisher | undefined;
  private intake: Promise<void> | undefined;
  private tick: NodeJS.Timeout | undefined;
  private stopping = false;
  received = 0;
  notData = 0;
  private rate = { hz: 0, atMs: 0, count: 0 };
  private lastPulseId: number | null = null;
  private oversizedLogged = 0;

  private constructor(private readonly opts: BufferServiceOptions) {
    this.now = opts.now ?? Date.now;
    this.startedMs = this.now();
    this.inputAddress = opts.inputAddress;
    this.ring = new RingBuffer(opts.limits);
    this.registry = new ReplayRegistry({ maxMessages: opts.limits.maxMessages, maxBytes: opts.limits.maxBytes });
    this.malformed = new DropCounter<MalformedKind>(opts.log, 'malformed message');
    if (opts.analyzer) {
      const anomalies = new RateLimitedLog<AnomalyKind>(opts.log, 'info');
      this.analyzer = new StreamAnalyzer({ onAnomaly: (k, d) => anomalies.event(k, d) });
      this.bsreadReceiver = new BsreadReceiver();
    } else {
      this.analyzer = null;
      this.bsreadReceiver = null;
    }
  }

  /** Binds the outputs, connects the input and starts the loops. Throws BsreadError when a port cannot be used. */
  static async start(opts: BufferServiceOptions): Promise<BufferService> {
    const s = new BufferService(opts);
    try {
      s.output = await CompatOutput.bind(opts.outputAddress, s.ring, opts.log);
      s.replay = await ReplayService.bind({
        address: opts.replayAddress,
        bindHost: opts.bindHost,
        store: ringReplayStore(s.ring, s.registry),
        log: opts.log,
        idleMs: opts.consumerIdleMs,
      });
      if (opts.jetStream !== undefined) {
        s.publisher = await JetStreamPublisher.start(s.ring, { servers: opts.jetStream.servers, stream: opts.jetStream.stream, log: opts.log, onFatal: opts.jetStream.onFatal });
      }
      s.input = s.openInput(opts.inputAddress);
    } catch (e) {
      await s.stop();
      throw e;
    }
    if (opts.dispatcher !== undefined) {
      s.dispatcher = new DispatcherStream({
        ...opts.dispatcher,
        log: opts.log,
        now: s.now,
        connect: (address) => s.switchInput(address),
        onLost: () => s.analyzer?.streamReRequested(),
      });
    }
    s.output.start();
    s.rate = { hz: 0, atMs: s.now(), count: 0 };
    s.tick = setInterval(() => s.housekeeping(), 1000);
    s.intake = s.runIntake();
    opts.log.info({ input: opts.inputAddress, mode: opts.inputMode, output: s.output.endpoint, replay: s.replay.endpoint }, 'buffer started');
    return s;
  }

  private openInput(address: string): NativeStreamReceiver {
    // The addon's libzmq receiver: each message arrives already packed (one Buffer + frame
    // offsets), which is exactly how the ring stores it, so intake does no per-frame work.
    return new NativeStreamReceiver({
      address,
      mode: this.opts.inputMode,
      highWaterMark: this.opts.inputHighWaterMark ?? 100,
      receiveTimeoutMs: 1000,
      reader: this.opts.inputReader ?? 'libzmq',
    });
  }

  /**
   * Connects the input to another source (a dispatcher stream requested again). The intake loop
   * takes the new receiver on its next turn; the old one is closed, which ends its wait at once.
   * Throws BsreadError when the address cannot be used; the old input then stays.
   */
  switchInput(address: string): void {
    if (this.stopping) return;
    const next = this.openInput(address);
    const old = this.input;
    this.input = next;
    this.inputAddress = address;
    if (old !== undefined) {
      const st = old.stats();
      this.oversizedBefore += st.dropped;
      this.protocolErrorsBefore += st.protocolErrors ?? 0;
      old.close();
    }
    this.opts.log.info({ input: address }, 'input connected to a new source address');
  }

  /** The input's drop counters since start, over every input (a dispatcher stream's earlier addresses too), from one stats() read. */
  private inputDrops(): { oversized: number; protocolErrors: number; lastProtocolError: string | null } {
    const st = this.input?.stats();
    const last = st?.lastProtocolError;
    return {
      oversized: this.oversizedBefore + (st?.dropped ?? 0),
      protocolErrors: this.protocolErrorsBefore + (st?.protocolErrors ?? 0),
      lastProtocolError: last === undefined || last === '' ? null : last,
    };
  }

  private async runIntake(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      let batch: PackedFrames[];
      try {
        batch = await this.input!.receiveBatch(64);
        failures = 0;
        if (batch.length > 0) this.dispatcher?.messageArrived(this.now());
      } catch (e) {
        if (this.stopping) return;
        failures++;
        this.opts.log.error({ err: errorMessage(e) }, 'receive from the source failed');
        // Back off a little on repeated failures instead of spinning.
        await new Promise((r) => setTimeout(r, Math.min(1000, 10 * failures)));
        continue;
      }
      for (const m of batch) {
        try {
          this.acceptPacked(m);
        } catch (e) {
          // A defect of ours, not bad input (that is counted in acceptPacked): lose one message, not the batch.
          this.opts.log.error({ err: errorMessage(e) }, 'a received message could not be stored');
        }
      }
    }
  }

  /** accept() for a message given as frames (tests, tools). */
  accept(frames: readonly Uint8Array[]): StoredMessage | null {
    return this.acceptPacked(packFrames(frames));
  }

  /**
   * Takes one received message, packed as the ring keeps it: validate frame 0, store, hand to every
   * output. Never throws on bad input.
   */
  acceptPacked(packed: PackedFrames): StoredMessage | null {
    this.received++;
    const o = packed.offsets;
    const frameCount = o.length - 1;
    let main;
    try {
      const f0 = frameCount > 0 ? packed.data.subarray(o[0]!, o[1]!) : undefined;
      main = readMainHeaderFrame(f0, frameCount);
    } catch (e) {
      if (!(e instanceof MalformedMessageError)) throw e;
      this.malformed.add(e.kind, e.message);
      this.analyzer?.malformed(e.kind, e.message);
      return null;
    }
    if (main.kind === 'not_data') {
      this.notData++;
      return null;
    }
    const nowMs = this.now();
    if (this.analyzer !== null) this.analyze(packed, main.pulseId, main.globalTimestamp, nowMs);
    const m: StoredMessage = {
      seq: this.ring.allocSeq(),
      pulseId: main.pulseId,
      globalTimestamp: main.globalTimestamp,
      arrivalMs: nowMs,
      data: packed.data,
      offsets: packed.offsets,
    };
    this.lastPulseId = main.pulseId;
    this.ring.push(m, nowMs);
    this.registry.publish(m);
    this.output?.notify();
    this.publisher?.notify();
    return m;
  }

  private analyze(packed: PackedFrames, pulseId: number, ts: StoredMessage['globalTimestamp'], nowMs: number): void {
    const a = this.analyzer!;
    a.observe(pulseId, ts, nowMs);
    try {
      const msg = this.bsreadReceiver!.open(messageFrames(packed));
      if (msg.kind !== 'data') return;
      const missing: string[] = [];
      for (let i = 0; i < msg.channelCount; i++) if (!msg.isPresent(i)) missing.push(msg.entry(i).name);
      a.observeMissingChannels(pulseId, missing);
    } catch (e) {
      if (e instanceof MalformedMessageError) a.malformed(e.kind, e.message);
      else if (e instanceof BsreadError) a.malformed('bad_field', e.message);
      else throw e;
    }
  }

  private housekeeping(): void {
    const t = this.now();
    const { oversized, protocolErrors, lastProtocolError } = this.inputDrops();
    if (oversized > this.oversizedLogged) {
      this.opts.log.error({ oversized }, `${oversized - this.oversizedLogged} message(s) from the source too big to keep (4 GiB or more, or no memory): dropped`);
      this.oversizedLogged = oversized;
    }
    if (protocolErrors > this.protocolErrorsLogged) {
      this.opts.log.error(
        { input: this.inputAddress, protocol_errors: protocolErrors },
        `the source broke the ZeroMQ protocol and was disconnected: ${lastProtocolError ?? 'no reason given'}`,
      );
      this.protocolErrorsLogged = protocolErrors;
    }
    this.ring.evict(t);
    this.replay?.releaseIdle(t);
    void this.publisher?.refreshStreamState();
    const dt = (t - this.rate.atMs) / 1000;
    if (dt > 0) this.rate = { hz: (this.received - this.rate.count) / dt, atMs: t, count: this.received };
    const r = this.ring.stats();
    this.history.push({ t, rate_hz: Math.round(this.rate.hz * 10) / 10, depth: r.depth, bytes: r.bytes });
    void this.dispatcher?.check();
  }

  /** The samples of the last minutes (one a second), oldest first; with sinceMs only later ones. */
  historySamples(sinceMs?: number): HistorySample[] {
    return this.history.samples(sinceMs);
  }

  status(): BufferStatus {
    const r = this.ring.stats();
    const drops = this.inputDrops();
    const l = this.ring.limits;
    return {
      service: 'sf_bsread_buffer',
      uptime_s: Math.round((this.now() - this.startedMs) / 1000),
      input: {
        address: this.inputAddress,
        mode: this.opts.inputMode,
        received: this.received,
        buffered: this.ring.nextSeq,
        not_data: this.notData,
        malformed: this.malformed.toJSON(),
        oversized: drops.oversized,
        reader: this.opts.inputReader ?? 'libzmq',
        protocol_errors: drops.protocolErrors,
        last_protocol_error: drops.lastProtocolError,
        rate_hz: Math.round(this.rate.hz * 10) / 10,
        last_pulse_id: this.lastPulseId,
      },
      buffer: {
        depth: r.depth,
        seconds: r.depth === 0 ? 0 : Math.round((this.ring.newest()!.arrivalMs - this.ring.oldest()!.arrivalMs) / 100) / 10,
        bytes: r.bytes,
        oldest_pulse_id: r.oldestPulseId,
        newest_pulse_id: r.newestPulseId,
        evicted: r.evicted,
        max_messages: l.maxMessages,
        max_seconds: l.maxAgeMs === undefined ? null : l.maxAgeMs / 1000,
        max_bytes: l.maxBytes ?? null,
      },
      output: this.output!.status(),
      replay: {
        endpoint: this.replay?.endpoint ?? '',
        consumers: this.replay?.status() ?? [],
        dropped: this.replay?.totalDropped() ?? 0,
        idle_released: this.replay?.idleReleased ?? 0,
        bad_requests: this.replay?.badRequests ?? 0,
      },
      analyzer: this.analyzer?.counters() ?? null,
      jetstream: this.publisher?.status() ?? null,
      dispatcher: this.dispatcher?.status() ?? null,
    };
  }

  get outputEndpoint(): string {
    return this.output?.endpoint ?? '';
  }

  get replayEndpoint(): string {
    return this.replay?.endpoint ?? '';
  }

  /** Stops intake first, then closes every socket and deletes a dispatcher stream. Idempotent. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.dispatcher?.stop();
    if (this.tick !== undefined) clearInterval(this.tick);
    this.input?.close();
    await this.intake;
    // What intake accepted is published before the connection closes (bounded wait).
    await this.publisher?.close();
    this.replay?.close();
    this.output?.close();
    await this.dispatcher?.remove();
  }
}
