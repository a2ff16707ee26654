// Receiving bsread messages through the addon's libzmq receiver (native/zmq_transport.cc): a
// background thread per receiver reads whole multipart messages into ONE contiguous Buffer plus a
// frame-offset table (the buffer's StoredMessage layout) and queues them, bounded in messages and
// bytes: when the queue is full the thread stops reading and ZeroMQ's receive HWM applies
// back-pressure. Same face as StreamReceiver (receive() → null on timeout or after close; close()
// idempotent), but a message is { data, offsets } instead of one Buffer per frame. zeromq.js costs
// a few µs per frame, and a 1000-channel message is 2002 frames; see docs/native-receive.md.
import { PackedFrameList, type MessageFrames } from './frame-list.js';
import { BsreadError } from '../errors.js';
import { nativeAddon, type AddonReceiver, type TransportAddon, type ZmqReceiverStats as NativeStats } from '../native/surface.js';
import type { PackedFrames } from './packed-frames.js';
import { parseStreamAddress } from './address.js';
import type { ReceiveMode, StreamReceiverOptions } from './receiver.js';

/**
 * One received message: all frames back to back; offsets[i]..offsets[i+1] is frame i. `slot`
 * >= 0: the block is a recycled slab (receiver option recycleSlabs), lent until release(m).
 */
export interface NativeMessage extends PackedFrames {
  slot: number;
}

// The addon's transport interface is declared in src/native/surface.ts.
export type { AddonSender } from '../native/surface.js';

/** The part of the addon this module (and native-sender.ts) uses. */
export function transportAddon(): TransportAddon {
  return nativeAddon();
}

export interface NativeReceiverOptions extends StreamReceiverOptions {
  /** Messages the receiver thread may hold before it stops reading (default 64). */
  queueMessages?: number;
  /** Bytes the receiver thread may hold before it stops reading (default 256 MiB; one message always fits). */
  queueBytes?: number;
  /** Messages taken from the native queue per call into the addon (default 64). */
  batch?: number;
  /**
   * Default 0. Up to this many message blocks are kept with their ArrayBuffer and refilled
   * once the consumer hands the message back with release(m): no new external memory per
   * message, so far fewer major GCs. Such messages are valid only until released.
   */
  recycleSlabs?: number;
  /**
   * Who reads the wire. 'libzmq' (default): a libzmq PULL or SUB socket. 'zmtp': the addon's
   * own ZMTP 3 reader, for a PULL input from tcp://host:port only; it copies each frame straight
   * into the message block instead of passing it through libzmq as a message of its own, which
   * costs far less for messages of many small frames (docs/native-receive.md).
   */
  reader?: ReceiveReader;
  /**
   * 'zmtp': a connection whose ZMTP handshake is not done within this many ms is closed,
   * counted as a protocol error and made again (default 30000, libzmq's ZMQ_HANDSHAKE_IVL).
   */
  zmtpHandshakeTimeoutMs?: number;
}

export type ReceiveReader = 'libzmq' | 'zmtp';
export const RECEIVE_READERS: readonly ReceiveReader[] = ['zmtp', 'libzmq'];

/**
 * --input_reader of the programs: the one asked for, else the addon's ZMTP reader where it can
 * read the input (PULL) and libzmq otherwise (SUB). Throws RangeError for zmtp with SUB.
 */
export function resolveInputReader(mode: ReceiveMode, requested?: ReceiveReader): ReceiveReader {
  if (requested === 'zmtp' && mode !== 'pull') throw new RangeError('--input_reader zmtp reads a pull input only; use libzmq with --mode sub');
  return requested ?? (mode === 'pull' ? 'zmtp' : 'libzmq');
}

/** Messages handed out without a turn of the event loop (zeromq.js uses 512 operations). */
const MAX_WITHOUT_YIELD = 256;

export class NativeStreamReceiver {
  private readonly native: AddonReceiver;
  private readonly timeoutMs: number;
  private readonly batchSize: number;
  private pending: NativeMessage[] = [];
  private lent: NativeMessage | null = null;
  private next = 0;
  private sinceYield = 0;
  private closed = false;
  readonly address: string;

  constructor(opts: NativeReceiverOptions) {
    parseStreamAddress(opts.address);
    this.address = opts.address;
    this.timeoutMs = opts.receiveTimeoutMs ?? 1000;
    this.batchSize = Math.max(1, opts.batch ?? 64);
    const addon = transportAddon();
    try {
      this.native = new addon.ZmqReceiver(
        opts.address,
        opts.mode ?? 'pull',
        opts.highWaterMark ?? 100,
        Math.max(1, opts.queueMessages ?? 64),
        Math.max(0, opts.queueBytes ?? 256 * 1024 * 1024),
        Math.max(0, Math.floor(opts.recycleSlabs ?? 0)),
        opts.reader ?? 'libzmq',
        opts.zmtpHandshakeTimeoutMs ?? 30_000,
      );
    } catch (e) {
      throw new BsreadError('BSREAD_ERR_TRANSPORT', `cannot connect to ${opts.address}: ${(e as Error).message}`, { cause: e });
    }
  }

  /** Up to max messages; waits up to timeoutMs for the first one; [] on timeout or after close. */
  async receiveBatch(max = this.batchSize, timeoutMs = this.timeoutMs): Promise<NativeMessage[]> {
    if (this.closed) return [];
    // While messages are queued, the addon resolves at once and a receive loop would run on
    // microtasks only: timers, REST requests, signals and other sockets would starve under
    // overload. So give the event loop a turn after every MAX_WITHOUT_YIELD messages.
    if (this.sinceYield >= MAX_WITHOUT_YIELD) {
      this.sinceYield = 0;
      await new Promise<void>((r) => setImmediate(r));
      if (this.closed) return [];
    }
    let out = this.drain(max);
    if (out.length === 0) {
      try {
        out = await this.native.receiveBatch(max, timeoutMs);
      } catch (e) {
        if (this.closed) return [];
        throw new BsreadError('BSREAD_ERR_TRANSPORT', `receive from ${this.address} failed: ${(e as Error).message}`, { cause: e });
      }
      // Taken by a wait that ended as close() ran: nothing is delivered after close.
      if (this.closed) {
        for (const m of out) this.release(m);
        return [];
      }
      for (const m of out) {
        // A slab comes as a Uint8Array over its ArrayBuffer; the codec and the buffer expect a Buffer.
        if (m.slot >= 0) (m as { data: Buffer }).data = Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength);
      }
    }
    this.sinceYield += out.length;
    return out;
  }

  /**
   * For consumers that are done with a message when they ask for the next one: hands back the
   * message this method returned last (release), then returns the next, as receive(). With
   * recycleSlabs, a message is valid until the next call or close().
   */
  async receiveNext(): Promise<NativeMessage | null> {
    if (this.lent !== null) this.release(this.lent);
    this.lent = await this.receive();
    return this.lent;
  }

  /** Hands a message's block back for reuse (recycleSlabs); a no-op for other messages and the second time. */
  release(m: NativeMessage): void {
    if (m.slot < 0) return;
    const slot = m.slot;
    m.slot = -1;
    this.native.recycle(slot);
  }

  /** The next message, or null when nothing came within the timeout or after close. */
  async receive(): Promise<NativeMessage | null> {
    if (this.closed) return null;
    if (this.next < this.pending.length) {
      if (++this.sinceYield >= MAX_WITHOUT_YIELD) {
        this.sinceYield = 0;
        await new Promise<void>((r) => setImmediate(r));
        if (this.closed) return null;
      }
      return this.pending[this.next++]!;
    }
    const batch = await this.receiveBatch(this.batchSize);
    if (batch.length === 0) return null;
    this.pending = batch;
    this.next = 1;
    return batch[0]!;
  }

  stats(): NativeStats {
    return this.closed ? { received: 0, dropped: 0, waitsQueueFull: 0, queued: 0, queuedBytes: 0 } : this.native.stats();
  }

  /** Joins the receiver thread and closes socket and context. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (let i = this.next; i < this.pending.length; i++) this.release(this.pending[i]!);
    if (this.lent !== null) this.release(this.lent);
    this.lent = null;
    this.pending = [];
    this.next = 0;
    this.native.close();
  }

  private drain(max: number): NativeMessage[] {
    if (this.next >= this.pending.length) return [];
    const out = this.pending.slice(this.next, this.next + max);
    this.next += out.length;
    return out;
  }
}

/**
 * The message as the codec reads it without a view per frame. The addon's offsets are
 * consistent; should the check ever fail (an addon bug), the message has no frames, which
 * BsreadReceiver counts as malformed ('frame_count').
 */
export function messageFrames(m: PackedFrames & { readonly slot?: number }): MessageFrames {
  const list = PackedFrameList.from(m.data, m.offsets);
  if (typeof list === 'string') return [];
  list.borrowed = (m.slot ?? -1) >= 0;
  return list;
}

/** Frames as plain Uint8Array views (what the codec needs; cheaper to make than Buffers). */
export function uint8Views(m: PackedFrames): Uint8Array[] {
  const n = m.offsets.length - 1;
  const out = new Array<Uint8Array>(n);
  const ab = m.data.buffer;
  const base = m.data.byteOffset;
  const o = m.offsets;
  for (let i = 0; i < n; i++) out[i] = new Uint8Array(ab, base + o[i]!, o[i + 1]! - o[i]!);
  return out;
}
