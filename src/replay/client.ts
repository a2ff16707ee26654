// The client side of the replay protocol (docs/replay-protocol.md), for the writer.
//
//   const info = await probeReplayService('tcp://host:8082', 500);   // null: plain bsread source
//   if (info) {
//     const s = await openReplay(info, startPulseId);                // or null: live only
//     missing += s.gap;
//     for (;;) { const frames = await s.receiver.receive(); ... }    // null on timeout
//     await s.release();                                             // also closes the receiver
//   }
//
// Every request uses a fresh socket that is closed before the call returns (requestReply), so a
// probe against something that is not our buffer leaves no socket or timer behind.
import type { MessageFrames } from '../bsread/index.js';
import { BsreadError, errorMessage } from '../errors.js';
import { messageFrames, NativeStreamReceiver, parseStreamAddress, requestReply, uint8Views, type NativeReceiverOptions } from '../transport/index.js';
import { decodePackedMessage, parseHelloReply, parseReplayReply, parseStateReply, REPLAY_FRAMINGS, type HelloReply, type ReplayFraming } from './messages.js';

export interface ReplayServiceInfo {
  /** The replay service, tcp://host:OUTPUT_PORT+1 (or as given). */
  readonly address: string;
  /** The host the client reached it at; consumer streams are connected on this host. */
  readonly host: string;
  readonly protocol: number;
  /** The buffer's run (changes when it restarts); null from a buffer that does not say. */
  readonly instance: string | null;
  readonly oldestPulseId: number | null;
  readonly newestPulseId: number | null;
  readonly depth: number;
  /** Framings the buffer offers (['frames'] from a buffer that does not say). */
  readonly framings: readonly ReplayFraming[];
}

/**
 * The PULL end of a consumer stream: receive() gives the original frames whatever the framing on
 * the wire. A 'packed' message that does not decode (which our buffer never sends) is reported to
 * `onBadPacked` and handed on as a message with no frames, so it is counted as malformed like any
 * other bad message instead of stopping the stream.
 */
export class ReplayStreamReceiver {
  private readonly inner: NativeStreamReceiver;

  constructor(
    address: string,
    readonly framing: ReplayFraming,
    highWaterMark: number,
    receiveTimeoutMs: number,
    private readonly onBadPacked: (why: string) => void = () => {},
    receive: Pick<NativeReceiverOptions, 'recycleSlabs' | 'batch' | 'queueMessages' | 'reader'> = {},
  ) {
    this.inner = new NativeStreamReceiver({ address, mode: 'pull', highWaterMark, receiveTimeoutMs, ...receive });
  }

  /**
   * The next message's frames, or null when nothing came within the timeout or after close.
   * With recycleSlabs the frames are lent (`borrowed`): valid until the next receive() or close().
   */
  async receive(): Promise<MessageFrames | null> {
    const m = await this.inner.receiveNext();
    if (m === null) return null;
    if (this.framing === 'frames') return messageFrames(m);
    // packed: the two ZeroMQ frames [offsets, data] back to back in one block
    const decoded = decodePackedMessage(uint8Views(m));
    if (typeof decoded !== 'string') {
      decoded.borrowed = m.slot >= 0;
      return decoded;
    }
    this.onBadPacked(decoded);
    return [];
  }

  close(): void {
    this.inner.close();
  }
}

/** What openReplay returns: a private stream from the buffer. */
export interface ReplaySession {
  /** PULL receiver on the consumer's stream: receive() → frames, or null on timeout / after close. */
  readonly receiver: ReplayStreamReceiver;
  readonly consumerId: string;
  /** Pulses asked for that the buffer no longer held (oldest held − from), else 0. */
  readonly gap: number;
  /** Pulse id of the first message that will arrive from the buffered past, null if none. */
  readonly firstPulseId: number | null;
  readonly oldestPulseId: number | null;
  /** Tells the buffer to close this stream and closes the receiver. Never throws. */
  release(): Promise<void>;
}

export interface OpenReplayOptions {
  /** How long to wait for the reply (ms). Default 2000. */
  timeoutMs?: number;
  /** receive() timeout of the returned receiver (ms). Default 1000. */
  receiveTimeoutMs?: number;
  /** Receive high-water mark of the returned receiver. Default 100. */
  highWaterMark?: number;
  /** Default: 'packed' when the buffer offers it (fewer ZeroMQ frames), else 'frames'. */
  framing?: ReplayFraming;
  /** Told why a 'packed' message did not decode (the message is then handed on without frames). */
  onBadPacked?: (why: string) => void;
  /** How the stream is received (default: no recycling, batches of 64). */
  receive?: Pick<NativeReceiverOptions, 'recycleSlabs' | 'batch' | 'queueMessages' | 'reader'>;
}

function hostOf(address: string): string {
  const a = parseStreamAddress(address, 'replay service address');
  if (!('host' in a)) throw new BsreadError('BSREAD_ERR_INVALID_ARGUMENT', `${address} has no TCP host`);
  return a.host;
}

/** One request/reply; null when no reply came within timeoutMs. Throws BsreadError BSREAD_ERR_REPLAY. */
export async function replayRequest(address: string, request: object, timeoutMs: number): Promise<Buffer | null> {
  try {
    return await requestReply(address, Buffer.from(JSON.stringify(request)), timeoutMs);
  } catch (e) {
    throw new BsreadError('BSREAD_ERR_REPLAY', `replay request to ${address} failed: ${errorMessage(e)}`, { cause: e });
  }
}

/** tcp://host:(port+1) of `streamAddress` (the buffer's OUTPUT_PORT address): where its replay service listens; null when there is no such port. */
export function replayServiceAddress(streamAddress: string): string | null {
  const a = parseStreamAddress(streamAddress, 'stream address');
  if (!('host' in a) || a.port >= 65535) return null;
  return `tcp://${a.host}:${a.port + 1}`;
}

/**
 * Asks tcp://host:(port+1) of `streamAddress` (the buffer's OUTPUT_PORT address) whether it is our
 * buffer's replay service. Resolves null when nothing answers within timeoutMs or the answer is
 * not ours. `replayAddress` overrides the derived address (for --replay_port).
 */
export async function probeReplayService(streamAddress: string, timeoutMs = 500, replayAddress?: string): Promise<ReplayServiceInfo | null> {
  const address = replayAddress ?? replayServiceAddress(streamAddress);
  if (address === null) return null;
  let frame: Buffer | null;
  try {
    frame = await replayRequest(address, { op: 'hello' }, timeoutMs);
  } catch {
    return null;
  }
  const hello: HelloReply | null = parseHelloReply(frame ?? undefined);
  if (hello === null) return null;
  return {
    address,
    host: hostOf(address),
    protocol: hello.protocol,
    instance: typeof hello.instance === 'string' ? hello.instance : null,
    oldestPulseId: hello.oldest_pulse_id,
    newestPulseId: hello.newest_pulse_id,
    depth: hello.depth,
    framings: Array.isArray(hello.framings) ? hello.framings.filter((f) => REPLAY_FRAMINGS.includes(f)) : ['frames'],
  };
}

/**
 * Opens a private stream: every buffered message with pulse_id >= fromPulseId (arrival order),
 * then live messages; fromPulseId null = live messages only. Throws BsreadError('BSREAD_ERR_REPLAY').
 */
export async function openReplay(info: ReplayServiceInfo, fromPulseId: number | null, opts: OpenReplayOptions = {}): Promise<ReplaySession> {
  if (fromPulseId !== null && (!Number.isSafeInteger(fromPulseId) || fromPulseId < 0)) {
    throw new BsreadError('BSREAD_ERR_INVALID_ARGUMENT', `fromPulseId must be a non-negative integer or null, got ${fromPulseId}`);
  }
  const timeoutMs = opts.timeoutMs ?? 2000;
  const framing: ReplayFraming = opts.framing ?? (info.framings.includes('packed') ? 'packed' : 'frames');
  // 'frames' is the default on the wire: a request without the field works with any of our buffers.
  const request = framing === 'frames' ? { op: 'replay', from_pulse_id: fromPulseId } : { op: 'replay', from_pulse_id: fromPulseId, framing };
  const frame = await replayRequest(info.address, request, timeoutMs);
  if (frame === null) throw new BsreadError('BSREAD_ERR_REPLAY', `the replay service ${info.address} did not answer within ${timeoutMs} ms`);
  const reply = parseReplayReply(frame);
  if ('error' in reply) throw new BsreadError('BSREAD_ERR_REPLAY', `the replay service ${info.address} refused: ${reply.error}`);
  if ((reply.framing ?? 'frames') !== framing) {
    // Release the stream it opened anyway (a buffer swapped between hello and replay).
    await replayRequest(info.address, { op: 'release', consumer_id: reply.consumer_id }, timeoutMs).catch(() => null);
    throw new BsreadError('BSREAD_ERR_REPLAY', `the replay service ${info.address} answered with framing ${reply.framing ?? 'frames'}, asked for ${framing}`);
  }
  const streamAddress = `tcp://${info.host}:${reply.port}`;
  const receiver = new ReplayStreamReceiver(streamAddress, framing, opts.highWaterMark ?? 100, opts.receiveTimeoutMs ?? 1000, opts.onBadPacked, opts.receive);
  let released = false;
  return {
    receiver,
    consumerId: reply.consumer_id,
    gap: reply.gap,
    firstPulseId: reply.first_pulse_id,
    oldestPulseId: reply.oldest_pulse_id,
    async release(): Promise<void> {
      if (released) return;
      released = true;
      receiver.close();
      try {
        const r = await replayRequest(info.address, { op: 'release', consumer_id: reply.consumer_id }, timeoutMs);
        if (r !== null) parseStateReply(r);
      } catch {
        // The buffer releases idle consumers by itself.
      }
    },
  };
}
