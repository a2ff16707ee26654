// A simulated bsread source: binds a PUSH or PUB socket (the addon's libzmq sender, so the
// simulator itself is not the limit at 1000s of channels) and sends the profile's messages at a
// steady rate. The schedule is absolute (message k is due at t0 + k / rate on the hrtime
// clock), so timer lateness never accumulates into a drifting rate.
import { setImmediate as yieldToLoop, setTimeout as sleep } from 'node:timers/promises';
import { BsreadError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { NativeStreamSender, type SendMode } from '../transport/index.js';
import { encodeSimulatedMessage, HeaderCache } from './message.js';
import { PreEncodedCycle } from './pre-encoded.js';
import type { SimProfile } from './profile.js';
import { anyDue, isGap, pulseIdAt } from './values.js';

export interface SimulatorOptions {
  readonly profile: SimProfile;
  /** Where to bind, e.g. tcp://127.0.0.1:9999 (port 0: a free port, see `endpoint`). */
  readonly address: string;
  readonly mode?: SendMode;
  /** Send high-water mark in messages (default 10, as bsread_python's sender). */
  readonly highWaterMark?: number;
  /** Drop and count messages that cannot be queued at once (IOC behaviour) instead of waiting. */
  readonly dropWhenFull?: boolean;
  /** Stop after this many messages (default: run until stop()). */
  readonly count?: number;
  /** Messages per second; 0 = as fast as possible. Default: the profile's rate. */
  readonly rate?: number;
  /** First pulse id. Default: the profile's start_pulse_id, else the pulse id of the wall clock. */
  readonly startPulseId?: number;
  /** Send no message for a pulse in which no channel is due by modulo/offset (what a dispatcher does, §4.4). */
  readonly skipWhenNoneDue?: boolean;
  /** How long queued messages may still be delivered after the socket is closed (ms). Default 0 for stop(), see `finish`. */
  readonly lingerMs?: number;
  readonly log?: Logger;
  /** Interval of the rate report in the log (ms); 0 = none. Default 0. */
  readonly statsIntervalMs?: number;
  /**
   * Encode this many messages once (pulse ids start .. start + N - 1) and send them in a cycle,
   * changing only the pulse id and the timestamps (src/sim/pre-encoded.ts). Default: encode each.
   */
  readonly preEncoded?: number;
}

export interface SimulatorStats {
  /** Messages handed to ZeroMQ. */
  readonly sent: number;
  /** Messages dropped because the queue was full (dropWhenFull only). */
  readonly dropped: number;
  /** Bytes of all frames sent. */
  readonly bytes: number;
  readonly firstPulseId: number;
  /** Pulse id of the last message sent or dropped; null before the first. */
  readonly lastPulseId: number | null;
}

/** Falling further behind than this (e.g. blocked in send) restarts the schedule instead of bursting. */
const MAX_LAG_NS = 1_000_000_000n;

export class Simulator {
  private readonly sender: NativeStreamSender;
  private readonly opts: SimulatorOptions;
  private readonly log: Logger;
  private readonly headers = new HeaderCache();
  private stopping = false;
  private closed = false;
  private sent = 0;
  private dropped = 0;
  private bytes = 0;
  private lastPulseId: number | null = null;
  private statsTimer: NodeJS.Timeout | undefined;
  readonly firstPulseId: number;
  /** The address actually bound. */
  readonly endpoint: string;
  /** Settles when sending has ended (count reached or stop()); rejects on a socket error. */
  readonly done: Promise<void>;

  private constructor(sender: NativeStreamSender, opts: SimulatorOptions, firstPulseId: number) {
    this.sender = sender;
    this.opts = opts;
    this.log = opts.log ?? silentLogger();
    this.firstPulseId = firstPulseId;
    this.endpoint = sender.endpoint || opts.address;
    this.done = this.run();
    // A caller that only stops us must not see an unhandled rejection.
    this.done.catch(() => undefined);
  }

  /** Binds and starts sending. */
  static async start(opts: SimulatorOptions): Promise<Simulator> {
    const rate = opts.rate ?? opts.profile.rate;
    if (!Number.isFinite(rate) || rate < 0) throw new BsreadError('BSREAD_ERR_INVALID_ARGUMENT', `rate ${rate} is not a number ≥ 0`);
    if (opts.count !== undefined && (!Number.isSafeInteger(opts.count) || opts.count < 0)) {
      throw new BsreadError('BSREAD_ERR_INVALID_ARGUMENT', `count ${opts.count} is not an integer ≥ 0`);
    }
    const start = opts.startPulseId ?? opts.profile.startPulseId ?? pulseIdAt(Date.now());
    if (!Number.isSafeInteger(start) || start < 0) throw new BsreadError('BSREAD_ERR_INVALID_ARGUMENT', `start pulse id ${start} is not an integer ≥ 0`);
    const sender = await NativeStreamSender.bind({
      address: opts.address,
      mode: opts.mode ?? 'push',
      highWaterMark: opts.highWaterMark ?? 10,
      dropWhenFull: opts.dropWhenFull ?? false,
      linger: opts.lingerMs ?? 0,
    });
    return new Simulator(sender, opts, start);
  }

  stats(): SimulatorStats {
    return { sent: this.sent, dropped: this.dropped, bytes: this.bytes, firstPulseId: this.firstPulseId, lastPulseId: this.lastPulseId };
  }

  /** Stops sending and closes the socket (messages still queued are discarded unless lingerMs). Idempotent. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.close();
    await this.done.catch(() => undefined);
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.statsTimer !== undefined) clearInterval(this.statsTimer);
    this.sender.close();
  }

  private startStats(): void {
    const every = this.opts.statsIntervalMs ?? 0;
    if (every <= 0) return;
    let last = { t: process.hrtime.bigint(), sent: 0, bytes: 0 };
    this.statsTimer = setInterval(() => {
      const now = { t: process.hrtime.bigint(), sent: this.sent, bytes: this.bytes };
      const s = Number(now.t - last.t) / 1e9;
      const rate = (now.sent - last.sent) / s;
      const mbps = (now.bytes - last.bytes) / s / 1e6;
      last = now;
      this.log.info(
        { rate: Math.round(rate * 10) / 10, mbps: Math.round(mbps * 100) / 100, sent: this.sent, dropped: this.dropped, pulse_id: this.lastPulseId },
        `${rate.toFixed(1)} messages/s, ${mbps.toFixed(2)} MB/s, ${this.sent} sent, ${this.dropped} dropped`,
      );
    }, every);
    this.statsTimer.unref();
  }

  private async send(frames: Buffer[]): Promise<boolean> {
    const sent = await this.sender.send(frames);
    this.dropped = this.sender.dropped;
    return sent;
  }

  private async sendPacked(data: Uint8Array, offsets: Uint32Array): Promise<boolean> {
    const sent = await this.sender.sendPacked(data, offsets);
    this.dropped = this.sender.dropped;
    return sent;
  }

  private async run(): Promise<void> {
    // Let the constructor return before the first send.
    await yieldToLoop();
    const { profile } = this.opts;
    const count = this.opts.count ?? Number.POSITIVE_INFINITY;
    const rate = this.opts.rate ?? profile.rate;
    const periodNs = rate > 0 ? BigInt(Math.max(1, Math.round(1e9 / rate))) : 0n;
    const start = this.firstPulseId;
    const cycle = this.opts.preEncoded === undefined ? null : PreEncodedCycle.build(profile, start, this.opts.preEncoded, this.headers);
    if (cycle !== null) this.log.info({ messages: cycle.count }, `pre-encoded ${cycle.count} messages`);
    this.startStats();
    let t0 = process.hrtime.bigint();
    let slot = 0;
    let spins = 0;
    try {
      while (!this.stopping && this.sent + this.dropped < count) {
        if (periodNs > 0n) {
          const due = t0 + BigInt(slot) * periodNs;
          const now = process.hrtime.bigint();
          if (now < due) await sleep(Math.max(1, Math.round(Number(due - now) / 1e6)));
          else if (now - due > MAX_LAG_NS) t0 = now - BigInt(slot) * periodNs;
          if (this.stopping) break;
          // Timers may fire early by a fraction of a millisecond: wait for the exact due time.
          if (process.hrtime.bigint() < due) continue;
        } else if (++spins % 64 === 0) {
          await yieldToLoop(); // as fast as possible, but signals and timers still run
        }
        const pulseId = start + slot;
        if (isGap(profile, start, pulseId)) {
          // Jump over the rest of the gap; its time still passes when a rate is set.
          const inCycle = (pulseId - start) % (profile.gapEvery + profile.gapLength);
          slot += profile.gapEvery + profile.gapLength - inCycle;
          continue;
        }
        slot++;
        if (this.opts.skipWhenNoneDue && !anyDue(profile, pulseId)) continue;
        this.lastPulseId = pulseId;
        if (cycle !== null) {
          const m = cycle.messageFor(pulseId);
          if (await this.sendPacked(m.data, m.offsets)) {
            this.sent++;
            this.bytes += m.bytes;
          }
          continue;
        }
        const frames = encodeSimulatedMessage(profile, pulseId, this.headers);
        if (await this.send(frames)) {
          this.sent++;
          for (const f of frames) this.bytes += f.length;
        }
      }
    } finally {
      // With a count, the socket closes here; lingerMs lets ZeroMQ deliver what is still queued.
      this.close();
    }
  }
}
