// Keeps a dispatcher stream (sf_bsread_buffer -c) alive: notices when the stream has ended (the
// dispatcher restarted, or the stream was deleted), requests it again with backoff and has the
// buffer connect to the new address. Driven by the buffer's 1 s housekeeping tick and told of
// every received batch; all requests run in the background, so intake never waits for them.
//
// When is a stream lost? Either
//  - its TCP port refuses connections twice in a row (probed once a second, but only after the
//    stream has been quiet for max(2 s, 2 × the longest interval seen between its messages)), or
//  - nothing arrived for max(30 s, 10 × the longest interval seen), at most 10 minutes.
// A stream lost without having delivered a single message (the source itself is quiet, e.g. the
// machine is off, or the dispatcher hands out an address nobody serves) is requested again only
// after the backoff, and the next stream's quiet limit is doubled (up to 10 minutes), so the
// dispatcher is not asked every few seconds for hours.
// A stream of slow channels (only 1 Hz or 0.1 Hz values) has long intervals between messages:
// the limits grow with them, and a port that still accepts connections is never taken as lost
// before the quiet limit.
import type { ChannelRequest } from '../dispatcher/channels-file.js';
import type { StreamRequestOptions, StreamType } from '../dispatcher/dispatcher-client.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { probeTcp, type ProbeResult } from '../transport/tcp-probe.js';

export type DispatcherStreamState = 'connected' | 'requesting' | 'waiting';

export interface DispatcherStreamStatus {
  /** The dispatcher's base URL. */
  url: string;
  /** The stream the input is connected to (the last one obtained, while requesting or waiting). */
  stream: string;
  state: DispatcherStreamState;
  /** When the state began (ISO 8601). */
  since: string;
  /** POST /stream requests sent, the one at start included. */
  requests: number;
  /** Of those, the ones that failed (refused, unreachable, a bad reply). */
  failed_requests: number;
  /** Times the stream was found lost and requested again. */
  re_requests: number;
  /** Why the stream was last taken as lost. */
  last_loss: string | null;
  last_error: string | null;
  /** Seconds until the next request while waiting, else null. */
  next_request_s: number | null;
  /** Seconds since the last message of the current stream (or since it was connected). */
  quiet_s: number;
  /** Seconds of quiet after which the stream is taken as lost. */
  quiet_limit_s: number;
}

/** What the watcher needs of the dispatcher (DispatcherClient, or a fake in tests). */
export interface StreamRequester {
  readonly baseUrl: string;
  requestStream(channels: readonly ChannelRequest[], opts?: StreamRequestOptions): Promise<string>;
  deleteStream(stream: string): Promise<void>;
}

export interface WatchTiming {
  minQuietMs: number;
  maxQuietMs: number;
  /** Quiet limit: this many times the longest interval between messages. */
  quietFactor: number;
  minProbeAfterMs: number;
  probeFactor: number;
  /** Refused probes in a row that make the stream lost. */
  refusalsToLose: number;
  backoffFirstMs: number;
  backoffMaxMs: number;
}

export const DEFAULT_WATCH_TIMING: WatchTiming = {
  minQuietMs: 30_000,
  maxQuietMs: 600_000,
  quietFactor: 10,
  minProbeAfterMs: 2000,
  probeFactor: 2,
  refusalsToLose: 2,
  backoffFirstMs: 1000,
  backoffMaxMs: 30_000,
};

/** Delay before request number `failures` + 1 after `failures` failed ones: 1, 2, 4 … 30 s. */
export function backoffMs(failures: number, t: Pick<WatchTiming, 'backoffFirstMs' | 'backoffMaxMs'> = DEFAULT_WATCH_TIMING): number {
  return Math.min(t.backoffMaxMs, t.backoffFirstMs * 2 ** Math.max(0, Math.min(30, failures - 1)));
}

/** How long a stream whose longest interval between messages was `longestMs` may be quiet. */
export function quietLimitMs(longestMs: number, t: WatchTiming = DEFAULT_WATCH_TIMING): number {
  return Math.min(t.maxQuietMs, Math.max(t.minQuietMs, t.quietFactor * longestMs));
}

export interface DispatcherStreamOptions {
  client: StreamRequester;
  channels: readonly ChannelRequest[];
  streamType: StreamType;
  /** The stream obtained at start, already connected. */
  stream: string;
  log: Logger;
  /** Connects the buffer's input to a new stream address; throws when it cannot. */
  connect: (address: string) => void;
  /** Once per lost stream (the analyzer counts re-requests). */
  onLost?: (reason: string) => void;
  probe?: (address: string) => Promise<ProbeResult>;
  now?: () => number;
  timing?: Partial<WatchTiming>;
}

export class DispatcherStream {
  private readonly t: WatchTiming;
  private readonly now: () => number;
  private readonly probe: (address: string) => Promise<ProbeResult>;
  private stream: string;
  /** The stream as the dispatcher knows it, to delete; null once deleted. */
  private held: string | null;
  private state: DispatcherStreamState = 'connected';
  private sinceMs: number;
  private lastMessageMs: number;
  private longestIntervalMs = 0;
  private sawMessage = false;
  /** Streams in a row lost without a single message. */
  private emptyStreams = 0;
  private refusals = 0;
  private failuresInRow = 0;
  private nextRequestMs = 0;
  private busy: Promise<void> | null = null;
  private stopped = false;
  private counts = { requests: 1, failed_requests: 0, re_requests: 0 };
  private lastLoss: string | null = null;
  private lastError: string | null = null;

  constructor(private readonly opts: DispatcherStreamOptions) {
    this.t = { ...DEFAULT_WATCH_TIMING, ...opts.timing };
    this.now = opts.now ?? Date.now;
    this.probe = opts.probe ?? ((a) => probeTcp(a));
    this.stream = opts.stream;
    this.held = opts.stream;
    this.sinceMs = this.now();
    this.lastMessageMs = this.sinceMs;
  }

  /** A batch of messages arrived from the input (any kind of message). */
  messageArrived(nowMs: number): void {
    if (this.sawMessage) this.longestIntervalMs = Math.max(this.longestIntervalMs, nowMs - this.lastMessageMs);
    this.sawMessage = true;
    this.lastMessageMs = nowMs;
    this.refusals = 0;
    this.emptyStreams = 0;
    if (this.state === 'waiting') {
      // The input is still connected to the old stream, and it sends again (it was only quiet,
      // and the dispatcher could not be reached to delete it): keep it.
      this.held = this.stream;
      this.failuresInRow = 0;
      this.setState('connected');
      this.opts.log.info({ stream: this.stream }, 'dispatcher stream sends again: kept');
    }
  }

  /**
   * Called once a second: decides whether to probe, take the stream as lost, or request again.
   * Returns at once; the promise (for tests) resolves when the step it started is done.
   */
  check(): Promise<void> {
    if (this.stopped || this.busy !== null) return Promise.resolve();
    const now = this.now();
    if (this.state === 'waiting') {
      // Half a tick early rather than a whole tick late: the backoff is kept to about a second.
      return now + 500 >= this.nextRequestMs ? this.run(() => this.request()) : Promise.resolve();
    }
    if (this.state !== 'connected') return Promise.resolve();
    const quiet = now - this.lastMessageMs;
    if (quiet >= this.quietLimit()) {
      return this.run(() => this.lose(`no message for ${Math.round(quiet / 1000)} s`));
    } else if (quiet >= Math.max(this.t.minProbeAfterMs, this.t.probeFactor * this.longestIntervalMs)) {
      return this.run(async () => {
        const r = await this.probe(this.stream);
        if (this.stopped || this.now() - this.lastMessageMs < quiet) return; // a message came meanwhile
        if (r !== 'refused') {
          this.refusals = 0;
          return;
        }
        if (++this.refusals >= this.t.refusalsToLose) await this.lose(`nothing listens on ${this.stream} any more (connection refused)`);
      });
    }
    return Promise.resolve();
  }

  private quietLimit(): number {
    return Math.min(this.t.maxQuietMs, quietLimitMs(this.longestIntervalMs, this.t) * 2 ** Math.min(10, this.emptyStreams));
  }

  private run(step: () => Promise<void>): Promise<void> {
    const p = step()
      .catch((e: unknown) => this.opts.log.error({ err: errorMessage(e) }, 'dispatcher stream watch failed'))
      .finally(() => (this.busy = null));
    this.busy = p;
    return p;
  }

  private setState(state: DispatcherStreamState): void {
    this.state = state;
    this.sinceMs = this.now();
  }

  private async lose(reason: string): Promise<void> {
    this.counts.re_requests++;
    this.lastLoss = reason;
    this.setState('requesting');
    this.opts.log.warn({ stream: this.stream, reason }, `dispatcher stream lost (${reason}): requesting it again`);
    this.opts.onLost?.(reason);
    this.emptyStreams = this.sawMessage ? 0 : this.emptyStreams + 1;
    await this.deleteHeld();
    if (this.emptyStreams > 0) {
      this.waitBeforeRequest(`the stream ${this.stream} delivered no message`, this.emptyStreams);
      return;
    }
    await this.request();
  }

  /** Best effort: a stream that only went quiet must not stay open at the dispatcher. */
  private async deleteHeld(): Promise<void> {
    const s = this.held;
    if (s === null) return;
    this.held = null;
    try {
      await this.opts.client.deleteStream(s);
    } catch (e) {
      this.opts.log.debug({ stream: s, err: errorMessage(e) }, 'could not delete the old dispatcher stream');
    }
  }

  private async request(): Promise<void> {
    if (this.stopped) return;
    this.setState('requesting');
    this.counts.requests++;
    let address: string;
    try {
      address = await this.opts.client.requestStream(this.opts.channels, { streamType: this.opts.streamType });
    } catch (e) {
      this.requestFailed(e);
      return;
    }
    try {
      if (this.stopped) throw new Error('stopping');
      this.opts.connect(address);
    } catch (e) {
      // Not connected: the dispatcher must not keep sending it.
      await this.opts.client.deleteStream(address).catch(() => {});
      if (!this.stopped) this.requestFailed(e);
      return;
    }
    this.stream = address;
    this.held = address;
    this.failuresInRow = 0;
    this.refusals = 0;
    this.sawMessage = false;
    this.longestIntervalMs = 0;
    this.setState('connected');
    this.lastMessageMs = this.sinceMs;
    this.opts.log.info({ stream: address }, 'dispatcher stream ready again');
  }

  private requestFailed(e: unknown): void {
    this.counts.failed_requests++;
    this.failuresInRow++;
    this.waitBeforeRequest(`request failed: ${errorMessage(e)}`, this.failuresInRow + this.emptyStreams);
  }

  private waitBeforeRequest(why: string, attempts: number): void {
    this.lastError = why;
    const delay = backoffMs(attempts, this.t);
    this.nextRequestMs = this.now() + delay;
    this.setState('waiting');
    this.opts.log.warn({ err: why, retry_in_s: delay / 1000 }, `dispatcher stream: ${why}; requesting again in ${delay / 1000} s`);
  }

  status(): DispatcherStreamStatus {
    const now = this.now();
    return {
      url: this.opts.client.baseUrl,
      stream: this.stream,
      state: this.state,
      since: new Date(this.sinceMs).toISOString(),
      ...this.counts,
      last_loss: this.lastLoss,
      last_error: this.lastError,
      next_request_s: this.state === 'waiting' ? Math.max(0, Math.round((this.nextRequestMs - now) / 100) / 10) : null,
      quiet_s: Math.round((now - this.lastMessageMs) / 100) / 10,
      quiet_limit_s: this.quietLimit() / 1000,
    };
  }

  /** No more probes or requests (the buffer is stopping). */
  stop(): void {
    this.stopped = true;
  }

  /** After stop(): waits a little for a request in flight, then deletes the stream at the dispatcher. */
  async remove(waitMs = 3000): Promise<void> {
    this.stopped = true;
    if (this.busy !== null) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.busy, new Promise<void>((r) => (timer = setTimeout(r, waitMs)))]);
      clearTimeout(timer);
    }
    const s = this.held;
    if (s === null) return;
    this.held = null;
    try {
      await this.opts.client.deleteStream(s);
      this.opts.log.info({ stream: s }, 'dispatcher stream deleted');
    } catch (e) {
      this.opts.log.warn({ err: errorMessage(e) }, 'could not delete the dispatcher stream (the dispatcher removes idle streams itself)');
    }
  }
}
