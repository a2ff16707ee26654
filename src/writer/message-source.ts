// Where the writer's messages come from (docs/replay-protocol.md):
// - our buffer (its replay service answers `hello` next to stream_address): a private replay
//   stream from the start pulse id on. The buffer's plain PUSH output is never connected then,
//   because PUSH deals messages round-robin between its peers;
// - anything else: PULL (or SUB) connected to stream_address when the acquisition starts, as the
//   original writer did.
import { openReplay, probeReplayService, type ReplaySession } from '../buffer/replay-client.js';
import type { Logger } from '../log.js';
import { StreamReceiver, type ReceiveMode } from '../transport/index.js';

export type SourceKind = 'replay' | ReceiveMode;

export interface MessageSource {
  readonly kind: SourceKind;
  /** Pulses asked for that the buffer no longer held (replay only, else 0). */
  readonly gap: number;
  /** The next message's frames, or null after a quiet receive timeout or after close(). */
  receive(): Promise<Buffer[] | null>;
  /** The newest pulse id the buffer holds (replay only); null when unknown. */
  newestPulseId(): Promise<number | null>;
  /** Stops receiving; a receive() waiting returns null. Never throws. Idempotent. */
  close(): Promise<void>;
}

/** Opens a source for one acquisition; fromPulseId null = from now on. */
export type OpenSource = (fromPulseId: number | null) => Promise<MessageSource>;

export interface SourceOptions {
  streamAddress: string;
  mode: ReceiveMode;
  /** How long to wait for the buffer's hello reply (ms). */
  probeTimeoutMs: number;
  /** receive() timeout (ms); the writer re-checks "is the range complete" after each. */
  receiveTimeoutMs?: number;
  highWaterMark?: number;
  log: Logger;
}

class PlainSource implements MessageSource {
  readonly gap = 0;
  constructor(
    readonly kind: ReceiveMode,
    private readonly receiver: StreamReceiver,
  ) {}
  receive(): Promise<Buffer[] | null> {
    return this.receiver.receive();
  }
  async newestPulseId(): Promise<number | null> {
    return null;
  }
  async close(): Promise<void> {
    this.receiver.close();
  }
}

class ReplaySource implements MessageSource {
  readonly kind = 'replay' as const;
  constructor(
    private readonly session: ReplaySession,
    private readonly replayAddress: string,
    private readonly streamAddress: string,
    private readonly probeTimeoutMs: number,
  ) {}
  get gap(): number {
    return this.session.gap;
  }
  receive(): Promise<Buffer[] | null> {
    return this.session.receiver.receive();
  }
  async newestPulseId(): Promise<number | null> {
    const info = await probeReplayService(this.streamAddress, this.probeTimeoutMs, this.replayAddress);
    return info?.newestPulseId ?? null;
  }
  close(): Promise<void> {
    return this.session.release();
  }
}

/** The source opener used by the writer program: probe once per acquisition, then replay or plain. */
export function messageSourceOpener(opts: SourceOptions): OpenSource {
  const receiveTimeoutMs = opts.receiveTimeoutMs ?? 1000;
  const highWaterMark = opts.highWaterMark ?? 100;
  return async (fromPulseId) => {
    const info = await probeReplayService(opts.streamAddress, opts.probeTimeoutMs);
    if (info !== null) {
      const session = await openReplay(info, fromPulseId, { receiveTimeoutMs, highWaterMark });
      opts.log.info(
        { replay: info.address, from_pulse_id: fromPulseId, first_pulse_id: session.firstPulseId, oldest_pulse_id: session.oldestPulseId, gap: session.gap },
        'receiving from the buffer replay service',
      );
      return new ReplaySource(session, info.address, opts.streamAddress, opts.probeTimeoutMs);
    }
    const receiver = new StreamReceiver({ address: opts.streamAddress, mode: opts.mode, highWaterMark, receiveTimeoutMs });
    opts.log.info({ stream: opts.streamAddress, mode: opts.mode }, 'no replay service answered; receiving from the stream directly');
    return new PlainSource(opts.mode, receiver);
  };
}
