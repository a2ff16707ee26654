// The zeromq.js sockets that are not on the hot receive path: the buffer's PUSH outputs (its
// compatible output and each replay consumer's stream), the replay service's ROUTER, and a
// one-shot DEALER request. Every ZeroMQ socket of the project is made in src/transport/.
import * as zmq from 'zeromq';
import { BsreadError, errorMessage } from '../errors.js';
import { PeerTracker } from './peers.js';

export interface PushEndpointOptions {
  /** Send high-water mark (messages queued in ZeroMQ per peer). */
  highWaterMark: number;
  /** Named in the error when the bind fails, e.g. "the output". */
  what: string;
  /** Called when a reader connects or disconnects. */
  onPeersChange?: () => void;
}

/** A bound PUSH socket that knows how many readers it has, so a send loop can wait for one. */
export class PushEndpoint {
  private readonly tracker: PeerTracker;

  private constructor(
    private readonly socket: zmq.Push,
    onPeersChange: () => void,
  ) {
    this.tracker = new PeerTracker(socket, onPeersChange);
  }

  /** Binds on `address` (tcp://host:port, port 0 for an ephemeral one). Throws BsreadError BSREAD_ERR_TRANSPORT. */
  static async bind(address: string, opts: PushEndpointOptions): Promise<PushEndpoint> {
    const socket = new zmq.Push({ sendHighWaterMark: opts.highWaterMark, linger: 0 });
    try {
      await socket.bind(address);
    } catch (e) {
      socket.close();
      throw new BsreadError('BSREAD_ERR_TRANSPORT', `cannot bind ${opts.what} ${address}: ${errorMessage(e)}`, { cause: e });
    }
    return new PushEndpoint(socket, opts.onPeersChange ?? (() => {}));
  }

  /** The bound address, e.g. tcp://127.0.0.1:43211. */
  get endpoint(): string {
    return this.socket.lastEndpoint ?? '';
  }

  /** Readers connected now. */
  get peers(): number {
    return this.tracker.peers;
  }

  /** Clock (ms) when the reader count last dropped to zero, or when the socket was bound. */
  get noPeerSinceMs(): number {
    return this.tracker.noPeerSinceMs;
  }

  /** Sends one message; waits while ZeroMQ's queue is full. */
  send(frames: readonly Uint8Array[]): Promise<void> {
    return this.socket.send(frames as Uint8Array[]);
  }

  close(): void {
    this.socket.close();
  }
}

/** A bound ROUTER socket: requests in with their envelope, replies out through it. */
export class RouterEndpoint {
  private constructor(private readonly socket: zmq.Router) {}

  /** Throws BsreadError BSREAD_ERR_TRANSPORT naming `what`. */
  static async bind(address: string, what: string): Promise<RouterEndpoint> {
    const socket = new zmq.Router({ linger: 0 });
    try {
      await socket.bind(address);
    } catch (e) {
      socket.close();
      throw new BsreadError('BSREAD_ERR_TRANSPORT', `cannot bind ${what} ${address}: ${errorMessage(e)}`, { cause: e });
    }
    return new RouterEndpoint(socket);
  }

  get endpoint(): string {
    return this.socket.lastEndpoint ?? '';
  }

  /** The next request: [peer identity, (empty delimiter,) payload...]. */
  receive(): Promise<Buffer[]> {
    return this.socket.receive();
  }

  send(frames: readonly Uint8Array[]): Promise<void> {
    return this.socket.send(frames as Uint8Array[]);
  }

  close(): void {
    this.socket.close();
  }
}

/**
 * One request and its reply on a fresh DEALER socket, closed (linger 0) before this returns, so
 * a request to something that does not answer leaves no socket or timer behind. The request
 * goes out behind an empty delimiter frame, as REQ sends it, which REP and ROUTER peers expect.
 * Resolves the reply's last frame, or null when no reply came within timeoutMs; rejects with
 * the socket's error otherwise.
 */
export async function requestReply(address: string, payload: Uint8Array, timeoutMs: number): Promise<Buffer | null> {
  const sock = new zmq.Dealer({ linger: 0, receiveTimeout: timeoutMs, sendTimeout: timeoutMs, immediate: false });
  try {
    sock.connect(address);
    await sock.send([Buffer.alloc(0), payload]);
    const reply = await sock.receive();
    return reply[reply.length - 1] ?? null;
  } catch (e) {
    if ((e as { code?: unknown }).code === 'EAGAIN') return null;
    throw e;
  } finally {
    sock.close();
  }
}
