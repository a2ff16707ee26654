// Sending bsread messages through the addon's libzmq socket (native/zmq_transport.cc): the same
// face as StreamSender, for senders of many small frames (the simulator; a 1000-channel message is
// 2002 frames, and zeromq.js costs a few µs per frame). The addon never blocks the event loop:
// when the first frame cannot be queued (no peer yet, or the HWM is reached) it sends nothing and
// returns false; this class then drops (dropWhenFull) or waits a millisecond and tries again.
import { BsreadError } from '../errors.js';
import { parseStreamAddress } from './address.js';
import { transportAddon, type AddonSender } from './native-receiver.js';
import type { StreamSenderOptions } from './sender.js';

/** Longest pause between two attempts while the peer is not taking messages (ms). */
const MAX_RETRY_PAUSE_MS = 8;

function pause(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export class NativeStreamSender {
  private readonly native: AddonSender;
  private readonly dropWhenFull: boolean;
  private closed = false;
  /** Messages dropped because the queue was full (dropWhenFull only). */
  dropped = 0;
  /** The address actually bound (with the real port when 0 was asked for). */
  readonly endpoint: string;

  private constructor(native: AddonSender, dropWhenFull: boolean) {
    this.native = native;
    this.dropWhenFull = dropWhenFull;
    this.endpoint = native.endpoint();
  }

  /** Binds a PUSH or PUB socket. Throws BsreadError('BSREAD_ERR_TRANSPORT') when the address cannot be bound. */
  static async bind(opts: StreamSenderOptions): Promise<NativeStreamSender> {
    if (!/^tcp:\/\/[^:]+:0$/.test(opts.address)) parseStreamAddress(opts.address, 'bind address');
    const addon = transportAddon();
    let native: AddonSender;
    try {
      native = new addon.ZmqSender(opts.address, opts.mode ?? 'push', 'bind', opts.highWaterMark ?? 10, opts.linger ?? 0);
    } catch (e) {
      throw new BsreadError('BSREAD_ERR_TRANSPORT', `cannot bind ${opts.address}: ${(e as Error).message}`, { cause: e });
    }
    return new NativeStreamSender(native, opts.dropWhenFull ?? false);
  }

  /** Sends one message given as frames; false if it was dropped (dropWhenFull) or the sender is closed. */
  send(frames: readonly Uint8Array[]): Promise<boolean> {
    return this.attempt(() => this.native.sendFrames(frames));
  }

  /** Sends one message packed as data + frame offsets (offsets.length = frames + 1). */
  sendPacked(data: Uint8Array, offsets: Uint32Array): Promise<boolean> {
    return this.attempt(() => this.native.send(data, offsets));
  }

  private async attempt(trySend: () => boolean): Promise<boolean> {
    let waitMs = 1;
    for (;;) {
      if (this.closed) return false;
      let sent: boolean;
      try {
        sent = trySend();
      } catch (e) {
        if (this.closed) return false;
        throw new BsreadError('BSREAD_ERR_TRANSPORT', `send on ${this.endpoint} failed: ${(e as Error).message}`, { cause: e });
      }
      if (sent) return true;
      if (this.dropWhenFull) {
        this.dropped++;
        return false;
      }
      await pause(waitMs);
      waitMs = Math.min(MAX_RETRY_PAUSE_MS, waitMs * 2);
    }
  }

  /** Closes the socket; with a linger, ZeroMQ keeps delivering queued messages in the background. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.native.close();
  }
}
