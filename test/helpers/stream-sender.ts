// A bsread sender on zeromq.js for the tests: a PUSH or PUB socket that binds, as bsread sources
// do. The programs send with NativeStreamSender (src/transport/native-sender.ts), which takes
// the same options.
import * as zmq from 'zeromq';
import { BsreadError } from '../../src/errors.js';
import { parseStreamAddress, type StreamSenderOptions } from '../../src/transport/index.js';

export class StreamSender {
  private readonly socket: zmq.Push | zmq.Publisher;
  private readonly dropWhenFull: boolean;
  private closed = false;
  /** Messages dropped because the queue was full (dropWhenFull only). */
  dropped = 0;

  private constructor(socket: zmq.Push | zmq.Publisher, dropWhenFull: boolean) {
    this.socket = socket;
    this.dropWhenFull = dropWhenFull;
  }

  static async bind(opts: StreamSenderOptions): Promise<StreamSender> {
    if (!/^tcp:\/\/[^:]+:0$/.test(opts.address)) parseStreamAddress(opts.address, 'bind address');
    const common = {
      sendHighWaterMark: opts.highWaterMark ?? 10,
      linger: opts.linger ?? 0,
      ...(opts.dropWhenFull ? { sendTimeout: 0 } : {}),
    };
    const socket = (opts.mode ?? 'push') === 'pub' ? new zmq.Publisher(common) : new zmq.Push(common);
    try {
      await socket.bind(opts.address);
    } catch (e) {
      socket.close();
      throw new BsreadError('BSREAD_ERR_TRANSPORT', `cannot bind ${opts.address}: ${(e as Error).message}`, { cause: e });
    }
    return new StreamSender(socket, opts.dropWhenFull ?? false);
  }

  /** The address actually bound (with the real port when 0 was asked for). */
  get endpoint(): string {
    return this.socket.lastEndpoint ?? '';
  }

  /** Sends one message; false if it was dropped (dropWhenFull) or the sender is closed. */
  async send(frames: Buffer[]): Promise<boolean> {
    if (this.closed) return false;
    try {
      await this.socket.send(frames);
      return true;
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (this.closed) return false;
      if (this.dropWhenFull && code === 'EAGAIN') {
        this.dropped++;
        return false;
      }
      throw new BsreadError('BSREAD_ERR_TRANSPORT', `send on ${this.endpoint} failed: ${(e as Error).message}`, { cause: e });
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close();
  }
}
