// Where the writer's messages come from (docs/replay-protocol.md):
// - our buffer (its replay service answers `hello` next to stream_address): a private replay
//   stream from the start pulse id on. The buffer's plain PUSH output is never connected then,
//   because PUSH deals messages round-robin between its peers;
// - anything else: PULL (or SUB) connected to stream_address when the acquisition starts, as the
//   original writer did.
import { openReplay, probeReplayService, replayServiceAddress, type OpenReplayOptions, type ReplayServiceInfo, type ReplaySession } from '../replay/index.js';
import { readMainHeader, type MessageFrames } from '../bsread/index.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { messageFrames, NativeStreamReceiver, type ReceiveMode, type ReceiveReader } from '../transport/index.js';
import { probeTcp } from '../transport/tcp-probe.js';

export type SourceKind = 'replay' | 'jetstream' | ReceiveMode;

export interface MessageSource {
  readonly kind: SourceKind;
  /** Pulses asked for that the buffer no longer held (replay only, else 0). */
  readonly gap: number;
  /** Messages the source dropped before the writer saw them (JetStream: parts missing), else 0. */
  readonly dropped: number;
  /**
   * The next message's frames, or null after a quiet receive timeout or after close(). The
   * frames may be lent (MessageFrames' `borrowed`): valid until the next receive() or close().
   */
  receive(): Promise<MessageFrames | null>;
  /**
   * Replay: the newest pulse id the buffer holds. JetStream: the stream's newest pulse id once
   * everything stored was read. null when unknown (and always for a plain stream).
   */
  newestPulseId(): Promise<number | null>;
  /** Stops receiving; a receive() waiting returns null. Never throws. Idempotent. */
  close(): Promise<void>;
}

/** Opens a source for one acquisition; fromPulseId null = from now on. */
export type OpenSource = (fromPulseId: number | null) => Promise<MessageSource>;

export interface SourceOptions {
  streamAddress: string;
  mode: ReceiveMode;
  /** Who reads a plain source (NativeReceiverOptions.reader); default libzmq. */
  reader?: ReceiveReader;
  /** How long to wait for the buffer's hello reply (ms). */
  probeTimeoutMs: number;
  /** receive() timeout (ms); the writer re-checks "is the range complete" after each. */
  receiveTimeoutMs?: number;
  highWaterMark?: number;
  log: Logger;
}

class PlainSource implements MessageSource {
  readonly gap = 0;
  readonly dropped = 0;
  constructor(
    readonly kind: ReceiveMode,
    private readonly receiver: NativeStreamReceiver,
  ) {}
  async receive(): Promise<MessageFrames | null> {
    const m = await this.receiver.receiveNext();
    return m === null ? null : messageFrames(m);
  }
  async newestPulseId(): Promise<number | null> {
    return null;
  }
  async close(): Promise<void> {
    this.receiver.close();
  }
}

/**
 * A private replay stream from our buffer. When the buffer restarts, the stream's port is gone
 * and nothing more arrives on it; the restarted buffer may still hold pulses of the range. So on
 * a quiet receive timeout the source asks the buffer who it is, and when the answer comes from
 * another run of the buffer, it opens a new replay from the pulse after the last one delivered
 * (the acquisition discards anything repeated). Pulses the new buffer no longer holds are added
 * to the gap.
 */
class ReplaySource implements MessageSource {
  readonly kind = 'replay' as const;
  readonly dropped = 0;
  private earlierGaps = 0;
  private lastPulseId: number | null = null;

  constructor(
    private session: ReplaySession,
    private info: ReplayServiceInfo,
    private readonly fromPulseId: number | null,
    private readonly opts: SourceOptions & { receiveTimeoutMs: number; highWaterMark: number },
  ) {}

  get gap(): number {
    return this.earlierGaps + this.session.gap;
  }

  async receive(): Promise<MessageFrames | null> {
    const frames = await this.session.receiver.receive();
    if (frames !== null) {
      this.track(frames);
      return frames;
    }
    if (!(await this.reopenIfBufferRestarted())) return null;
    const next = await this.session.receiver.receive();
    if (next !== null) this.track(next);
    return next;
  }

  private track(frames: MessageFrames): void {
    try {
      const main = readMainHeader(frames);
      if (main.kind === 'data' && (this.lastPulseId === null || main.pulseId > this.lastPulseId)) this.lastPulseId = main.pulseId;
    } catch {
      // malformed: the acquisition counts it
    }
  }

  private async reopenIfBufferRestarted(): Promise<boolean> {
    const now = await probeReplayService(this.opts.streamAddress, this.opts.probeTimeoutMs, this.info.address);
    if (now === null || now.instance === null || now.instance === this.info.instance) return false;
    const from = this.lastPulseId === null ? this.fromPulseId : this.lastPulseId + 1;
    let session: ReplaySession;
    try {
      session = await openReplay(now, from, replayOptions(this.opts));
    } catch (e) {
      this.opts.log.warn({ err: errorMessage(e) }, 'the buffer restarted, and a new replay could not be opened yet');
      return false;
    }
    // Only close our end: the old stream belonged to the previous run of the buffer.
    this.session.receiver.close();
    this.earlierGaps += this.session.gap;
    this.session = session;
    this.info = now;
    this.opts.log.warn(
      { replay: now.address, from_pulse_id: from, first_pulse_id: session.firstPulseId, gap: session.gap },
      'the buffer restarted: replaying again from the pulse after the last one received',
    );
    return true;
  }

  async newestPulseId(): Promise<number | null> {
    const info = await probeReplayService(this.opts.streamAddress, this.opts.probeTimeoutMs, this.info.address);
    return info?.newestPulseId ?? null;
  }

  close(): Promise<void> {
    return this.session.release();
  }
}

/** Receive options of a replay stream; a packed message that does not decode is logged (and counted as malformed by the acquisition). */
function replayOptions(opts: SourceOptions & { receiveTimeoutMs: number; highWaterMark: number }): OpenReplayOptions {
  return {
    receiveTimeoutMs: opts.receiveTimeoutMs,
    highWaterMark: opts.highWaterMark,
    onBadPacked: (why) => opts.log.warn({ err: why }, 'a packed replay message did not decode; counted as malformed'),
    // The buffer's replay stream is a ZeroMQ PUSH socket: the addon's ZMTP reader receives each
    // 2-frame message straight into a recycled block (no libzmq I/O thread, no second copy).
    receive: { ...WRITER_RECEIVE, reader: 'zmtp' },
  };
}

/**
 * How the writer receives: blocks are recycled (the acquisition copies or writes each message
 * before it takes the next). Every message the receiver may hold fits in a slab: 16 queued, 8
 * in the batch taken, 1 being written, 1 being received (a backlog waits in ZeroMQ's queue and
 * in the sender's).
 */
export const WRITER_RECEIVE = { recycleSlabs: 32, batch: 8, queueMessages: 16 } as const;

/**
 * Further hello attempts (ms each) when the replay service did not answer within the probe
 * timeout but something accepts TCP connections on its port: a buffer too busy to answer at once
 * (seen at 1000 channels and 1600 Hz on 2 shared cores). Falling back to the buffer's compatible
 * output then would lose every message the ring evicts before that output sends it.
 */
export const BUSY_REPLAY_RETRIES_MS: readonly number[] = [2000, 4000];

/**
 * Our buffer's replay service for `streamAddress` (port + 1), or null for a plain source. A port
 * nobody listens on is a plain source at once; an open port that does not answer is asked again
 * (BUSY_REPLAY_RETRIES_MS) before the writer settles for the stream itself, with a warning.
 */
export async function findReplayService(
  opts: Pick<SourceOptions, 'streamAddress' | 'probeTimeoutMs' | 'log'>,
  retriesMs = BUSY_REPLAY_RETRIES_MS,
): Promise<ReplayServiceInfo | null> {
  const first = await probeReplayService(opts.streamAddress, opts.probeTimeoutMs);
  if (first !== null) return first;
  const replay = replayServiceAddress(opts.streamAddress);
  if (replay === null || (await probeTcp(replay, 1000)) !== 'open') return null;
  for (const timeoutMs of retriesMs) {
    opts.log.warn({ replay, timeout_ms: timeoutMs }, 'the replay port accepts connections but no hello reply came yet (a busy buffer?); asking again');
    const info = await probeReplayService(opts.streamAddress, timeoutMs);
    if (info !== null) return info;
  }
  opts.log.warn(
    { replay, stream: opts.streamAddress },
    "the replay port is open but no replay service answered: receiving from the stream directly (from our buffer's compatible output, messages it evicts before sending them are lost)",
  );
  return null;
}

/** The source opener used by the writer program: probe once per acquisition, then replay or plain. */
export function messageSourceOpener(opts: SourceOptions): OpenSource {
  const receiveTimeoutMs = opts.receiveTimeoutMs ?? 1000;
  const highWaterMark = opts.highWaterMark ?? 100;
  return async (fromPulseId) => {
    const info = await findReplayService(opts);
    if (info !== null) {
      const session = await openReplay(info, fromPulseId, replayOptions({ ...opts, receiveTimeoutMs, highWaterMark }));
      opts.log.info(
        {
          replay: info.address,
          framing: session.receiver.framing,
          from_pulse_id: fromPulseId,
          first_pulse_id: session.firstPulseId,
          oldest_pulse_id: session.oldestPulseId,
          gap: session.gap,
        },
        'receiving from the buffer replay service',
      );
      return new ReplaySource(session, info, fromPulseId, { ...opts, receiveTimeoutMs, highWaterMark });
    }
    const receiver = new NativeStreamReceiver({
      address: opts.streamAddress,
      mode: opts.mode,
      highWaterMark,
      receiveTimeoutMs,
      reader: opts.reader ?? 'libzmq',
      ...WRITER_RECEIVE,
    });
    opts.log.info({ stream: opts.streamAddress, mode: opts.mode, reader: opts.reader ?? 'libzmq' }, 'no replay service answered; receiving from the stream directly');
    return new PlainSource(opts.mode, receiver);
  };
}
