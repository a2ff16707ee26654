// Receiving bsread messages: a PULL or SUB socket that connects to a source.
import * as zmq from 'zeromq';
import { BsreadError } from '../errors.js';
import { parseStreamAddress } from './address.js';

export type ReceiveMode = 'pull' | 'sub';
export const RECEIVE_MODES: readonly ReceiveMode[] = ['pull', 'sub'];

export interface StreamReceiverOptions {
  address: string;
  mode?: ReceiveMode;
  /** Receive high-water mark in messages (bsread default 100). */
  highWaterMark?: number;
  /** How long receive() waits before returning null (ms). */
  receiveTimeoutMs?: number;
}

function isTimeout(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === 'EAGAIN';
}

export class StreamReceiver {
  private readonly socket: zmq.Pull | zmq.Subscriber;
  private closed = false;
  readonly address: string;

  constructor(opts: StreamReceiverOptions) {
    parseStreamAddress(opts.address);
    this.address = opts.address;
    const common = {
      receiveHighWaterMark: opts.highWaterMark ?? 100,
      receiveTimeout: opts.receiveTimeoutMs ?? 1000,
      linger: 0,
    };
    if ((opts.mode ?? 'pull') === 'sub') {
      const sub = new zmq.Subscriber(common);
      sub.subscribe();
      this.socket = sub;
    } else {
      this.socket = new zmq.Pull(common);
    }
    try {
      this.socket.connect(opts.address);
    } catch (e) {
      this.socket.close();
      throw new BsreadError('BSREAD_ERR_TRANSPORT', `cannot connect to ${opts.address}: ${(e as Error).message}`, { cause: e });
    }
  }

  /** The next message's frames, or null when nothing came within the timeout or after close. */
  async receive(): Promise<Buffer[] | null> {
    if (this.closed) return null;
    try {
      return await this.socket.receive();
    } catch (e) {
      if (isTimeout(e) || this.closed) return null;
      throw new BsreadError('BSREAD_ERR_TRANSPORT', `receive from ${this.address} failed: ${(e as Error).message}`, { cause: e });
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close();
  }
}
