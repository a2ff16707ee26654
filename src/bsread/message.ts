// The receiving side: a BsreadReceiver turns the frames of one ZeroMQ message into a lazy
// BsreadMessage. Opening checks the message as a whole (main header, frame count, data header
// through a bounded hash-keyed cache); channel values are decoded only when asked, one channel
// at a time, and a bad channel throws only when its own value is requested.
import { createHash } from 'node:crypto';
import { BsreadError, MalformedMessageError } from '../errors.js';
import { declaredSize, decodeTimestamp, DEFAULT_MAX_VALUE_BYTES, expectedBytes, framePresent, valueBytesLE, valueDecoder, type ChannelValue, type ValueDecoder } from './codec.js';
import { bitshuffleLz4Check } from './compression.js';
import { frameAt, PackedFrameList, type MessageFrames } from '../transport/frame-list.js';
import { compressionError, parseDataHeader, readMainHeader, type DataHeader, type MainHeader, type NotDataMessage } from './header.js';
import { TYPES, type ChannelDef, type ChannelEntry, type Compression, type Timestamp } from './types.js';

export interface ReceiverOptions {
  /** Parsed data headers kept, keyed by hash (least recently used goes first). Default 16. */
  headerCacheSize?: number;
  /**
   * Recompute md5(frame 1) and compare it with the main-header hash. Off by default (speed).
   * On a mismatch the header is parsed and used but not cached.
   */
  verifyHash?: boolean;
  /** Upper bound on a decompressed string value (other types are bounded by type × shape). */
  maxValueBytes?: number;
}

/** Counters, mainly for tests and the stream analyzer. */
export interface ReceiverStats {
  /** Times frame 1 was parsed (cache misses plus uncacheable headers). */
  headerParses: number;
  /** Times a cached header was reused. */
  cacheHits: number;
  /** verifyHash only: messages whose hash was not md5(frame 1). */
  hashMismatches: number;
}

/** A problem with one channel of an otherwise usable message. */
export interface ChannelError {
  readonly index: number;
  readonly name: string;
  readonly error: MalformedMessageError;
}

export type OpenResult =
  | { readonly status: 'ok'; readonly message: BsreadMessage }
  | { readonly status: 'not_data'; readonly htype: string }
  | { readonly status: 'malformed'; readonly error: MalformedMessageError };

interface CacheEntry {
  readonly header: DataHeader;
  /** A copy of the frame the header was parsed from: a hit must have exactly these bytes. */
  readonly frame: Buffer;
}

export class BsreadReceiver {
  readonly stats: ReceiverStats = { headerParses: 0, cacheHits: 0, hashMismatches: 0 };
  private readonly cache = new Map<string, CacheEntry>();
  private readonly cacheSize: number;
  private readonly verifyHash: boolean;
  private readonly maxValueBytes: number;

  constructor(options: ReceiverOptions = {}) {
    this.cacheSize = Math.max(0, Math.floor(options.headerCacheSize ?? 16));
    this.verifyHash = options.verifyHash ?? false;
    this.maxValueBytes = options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
  }

  /**
   * Opens one message. Returns a BsreadMessage, or a NotDataMessage for control messages
   * (main htype not starting with bsr_m). Throws MalformedMessageError when the message as a
   * whole is unusable (drop it); channel-level problems surface later, per channel.
   */
  open(frames: MessageFrames): BsreadMessage | NotDataMessage {
    const main = readMainHeader(frames);
    if (main.kind === 'not_data') return main;
    const header = this.dataHeader(main, frameAt(frames, 1)!);
    const expected = 2 + 2 * header.channels.length;
    if (frames.length !== expected) {
      throw new MalformedMessageError('frame_count', `${frames.length} frames for ${header.channels.length} channels (${expected} expected)`);
    }
    return new BsreadMessage(main, header, frames, this.maxValueBytes);
  }

  /** Like open(), but every outcome is a value. Errors other than BsreadError still propagate (bugs). */
  tryOpen(frames: MessageFrames): OpenResult {
    try {
      const m = this.open(frames);
      return m.kind === 'not_data' ? { status: 'not_data', htype: m.htype } : { status: 'ok', message: m };
    } catch (e) {
      if (e instanceof MalformedMessageError) return { status: 'malformed', error: e };
      throw e;
    }
  }

  /** The parsed data header of a message: from the cache when its hash is known, else parsed. */
  dataHeader(main: MainHeader, frame1: Uint8Array): DataHeader {
    const hash = main.hash;
    let cacheable = hash !== '' && this.cacheSize > 0;
    if (cacheable) {
      const hit = this.cache.get(hash);
      // Comparing the bytes (a memcmp of a few KB, cheaper than MD5) catches a producer that
      // reuses a hash for another header, even one of the same length.
      if (hit !== undefined && hit.frame.equals(frame1) && (!this.verifyHash || md5hex(frame1) === hash)) {
        this.cache.delete(hash);
        this.cache.set(hash, hit);
        this.stats.cacheHits++;
        return hit.header;
      }
      if (this.verifyHash && md5hex(frame1) !== hash) {
        this.stats.hashMismatches++;
        cacheable = false;
      }
    }
    this.stats.headerParses++;
    const header = parseDataHeader(frame1, main.dhCompression);
    if (cacheable) {
      this.cache.delete(hash);
      this.cache.set(hash, { header, frame: Buffer.from(frame1) });
      while (this.cache.size > this.cacheSize) {
        const oldest = this.cache.keys().next().value as string;
        this.cache.delete(oldest);
      }
    }
    return header;
  }

  /** Forget every cached header. */
  clearCache(): void {
    this.cache.clear();
  }
}

/** Lowercase hex MD5 of the bytes (§3.3). */
export function md5hex(bytes: Uint8Array): string {
  return createHash('md5').update(bytes).digest('hex');
}

/** One-shot decode without a shared cache (tests, tools). Prefer a long-lived BsreadReceiver. */
export function decodeMessage(frames: MessageFrames, options: ReceiverOptions = {}): OpenResult {
  return new BsreadReceiver({ ...options, headerCacheSize: 0 }).tryOpen(frames);
}

/** What a header needs for fast per-channel access; built on first use, shared by its messages. */
interface HeaderPlan {
  readonly decoders: readonly ValueDecoder[];
  /** Bytes of a value that bytes() may hand out as the frame itself (uncompressed, LE, fixed size), else 0. */
  readonly directBytes: Int32Array;
}

const plans = new WeakMap<DataHeader, HeaderPlan>();

function planFor(header: DataHeader): HeaderPlan {
  let p = plans.get(header);
  if (p === undefined) {
    const directBytes = new Int32Array(header.channels.length);
    const decoders = header.channels.map((e, i): ValueDecoder => {
      if (e.invalid !== undefined) {
        const err = e.invalid;
        return () => {
          throw err;
        };
      }
      if (e.compression === 'none' && e.type !== 'string' && (e.encoding === 'little' || TYPES[e.type].size === 1)) {
        const n = expectedBytes(e);
        directBytes[i] = n <= 0x7fffffff ? n : 0;
      }
      return valueDecoder(e);
    });
    p = { decoders, directBytes };
    plans.set(header, p);
  }
  return p;
}

/**
 * One received data message. Holds the frames and the (shared, immutable) data header; decodes
 * nothing until asked and caches no value. Channel accessors take the channel index (frame order).
 * Made by BsreadReceiver.open(), which has checked the frame count against the header.
 */
export class BsreadMessage {
  readonly kind = 'data' as const;
  private readonly decoders: readonly ValueDecoder[];
  private readonly directBytes: Int32Array;
  /** Exactly one of list / packed holds the frames. */
  private list: readonly Uint8Array[] | null;
  private readonly packed: PackedFrameList | null;

  constructor(
    readonly main: MainHeader,
    readonly header: DataHeader,
    /** The frames exactly as received. */
    frames: MessageFrames,
    private readonly maxValueBytes: number = DEFAULT_MAX_VALUE_BYTES,
  ) {
    const plan = planFor(header);
    this.decoders = plan.decoders;
    this.directBytes = plan.directBytes;
    if (frames instanceof PackedFrameList) {
      this.packed = frames;
      this.list = null;
    } else {
      this.packed = null;
      this.list = frames;
    }
  }

  /**
   * The frames are lent by a recycling receiver and valid only until the next message is taken:
   * a consumer must copy or write what it keeps (PackedFrameList.borrowed).
   */
  get borrowed(): boolean {
    return this.packed !== null && this.packed.borrowed;
  }

  /** Bytes of all frames together: the message's size on the wire. */
  get byteLength(): number {
    if (this.packed !== null) return this.packed.data.byteLength;
    let n = 0;
    for (const f of this.list!) n += f.byteLength;
    return n;
  }

  /** The frames exactly as received (for packed frames, views made on first use). */
  get frames(): readonly Uint8Array[] {
    if (this.list === null) this.list = this.packed!.toArray();
    return this.list;
  }

  /** The frames as one block (PackedFrameList), or null when they came as separate buffers. */
  get packedFrames(): PackedFrameList | null {
    return this.packed;
  }

  /**
   * Bytes of channel i's value when its frame is the stored value as is (uncompressed,
   * little-endian, fixed size: what copyValueBytes copies), else 0.
   */
  directValueBytes(i: number): number {
    return this.directBytes[i] ?? 0;
  }

  /** Frame k (a view when packed). */
  private frame(k: number): Uint8Array {
    return this.list !== null ? this.list[k]! : this.packed!.frame(k);
  }

  get pulseId(): number {
    return this.main.pulseId;
  }
  get globalTimestamp(): Timestamp | null {
    return this.main.globalTimestamp;
  }
  get hash(): string {
    return this.main.hash;
  }
  get dhCompression(): Compression {
    return this.main.dhCompression;
  }
  get channels(): readonly ChannelEntry[] {
    return this.header.channels;
  }
  get channelCount(): number {
    return this.header.channels.length;
  }

  /** Index of the channel with this name, or -1. */
  indexOf(name: string): number {
    return this.header.indexByName.get(name) ?? -1;
  }

  /** The channel's definition (possibly an InvalidChannelDef: check `.invalid`). */
  entry(i: number): ChannelEntry {
    const d = this.header.channels[i];
    if (d === undefined) throw new RangeError(`channel index ${i} out of range (0..${this.header.channels.length - 1})`);
    return d;
  }

  /** The channel's usable definition; throws its MalformedMessageError when the entry is invalid. */
  def(i: number): ChannelDef {
    const d = this.entry(i);
    if (d.invalid !== undefined) throw d.invalid;
    return d;
  }

  /** The value frame as received (compressed if the channel is). */
  valueFrame(i: number): Uint8Array {
    this.entry(i);
    return this.frame(2 + 2 * i);
  }

  /** The timestamp frame as received. */
  timestampFrame(i: number): Uint8Array {
    this.entry(i);
    return this.frame(3 + 2 * i);
  }

  /**
   * Whether the channel has a value in this message: the value frame is not empty and, when
   * compressed, does not declare 0 bytes (§4.3). Never throws (except for a bad index).
   */
  isPresent(i: number): boolean {
    const d = this.entry(i);
    const compression = d.invalid === undefined ? d.compression : undefined;
    // Uncompressed (or unusable): present when not empty, known without a view.
    if (this.packed !== null && compression !== 'bitshuffle_lz4' && compression !== 'lz4') return this.packed.frameLength(2 + 2 * i) > 0;
    return framePresent(compression, this.frame(2 + 2 * i), d.invalid === undefined ? d.type : undefined);
  }

  /** The decoded value (see ChannelValue), or null when missing. Throws MalformedMessageError. */
  value(i: number): ChannelValue | null {
    const decode = this.decoders[i];
    if (decode === undefined) this.entry(i); // throws the RangeError
    return decode!(this.frame(2 + 2 * i), this.maxValueBytes);
  }

  /**
   * The value as little-endian element bytes in C order (strings: UTF-8), decompressed and
   * size-checked, or null when missing. A view of the frame when it is already LE and uncompressed.
   */
  bytes(i: number): Uint8Array | null {
    const direct = this.directBytes[i]!;
    if (direct > 0) {
      if (this.packed !== null) {
        if (this.packed.frameLength(2 + 2 * i) === direct) return this.packed.frame(2 + 2 * i);
      } else {
        const f = this.list![2 + 2 * i]!;
        if (f.length === direct) return f;
      }
    }
    return valueBytesLE(this.def(i), this.frame(2 + 2 * i), this.maxValueBytes);
  }

  /**
   * The fast path of bytes() for a writer: when the value is stored as is (uncompressed,
   * little-endian, exactly `rowBytes` bytes), copies it to dest[destOffset..] and returns true,
   * without a view of the frame. Otherwise (compressed, big-endian, missing, wrong size...) copies
   * nothing and returns false: use bytes(), which also says what is wrong.
   */
  copyValueBytes(i: number, dest: Uint8Array, destOffset: number, rowBytes: number): boolean {
    const n = this.directBytes[i];
    if (n === undefined || n === 0 || n !== rowBytes) return false;
    const k = 2 + 2 * i;
    let src: Uint8Array;
    let start: number;
    if (this.packed !== null) {
      if (this.packed.frameLength(k) !== n) return false;
      src = this.packed.data;
      start = this.packed.offsets[k]!;
    } else {
      src = this.list![k]!;
      if (src.length !== n) return false;
      start = 0;
    }
    if (n <= 32) {
      for (let b = 0; b < n; b++) dest[destOffset + b] = src[start + b]!;
    } else {
      dest.set(src.subarray(start, start + n), destOffset);
    }
    return true;
  }

  /** The channel timestamp, or null when the frame is empty (use the global timestamp). */
  timestamp(i: number): Timestamp | null {
    return decodeTimestamp(this.def(i), this.frame(3 + 2 * i));
  }

  /** Uncompressed size the value frame declares, read from its header without decompressing. */
  declaredSize(i: number): number {
    return declaredSize(this.def(i), this.frame(2 + 2 * i));
  }

  /**
   * For a bitshuffle_lz4 channel: the raw frame (the same bytes as an HDF5 bitshuffle/LZ4 chunk,
   * filter 32008) for a direct chunk write, after the cheap check that it declares exactly
   * type size × elements bytes. null when missing. Elements are in the channel's byte order:
   * for `encoding: big` use bytes() instead (or a big-endian dataset).
   * With `check`, every LZ4 block is also decoded (into a small scratch block, discarded), so
   * that corrupt blocks are detected (MalformedMessageError 'decompress') before the frame is
   * stored as a chunk; without it they are not.
   */
  compressedChunk(i: number, check = false): Uint8Array | null {
    const def = this.def(i);
    if (def.compression !== 'bitshuffle_lz4') {
      throw new BsreadError('BSREAD_ERR_INVALID_ARGUMENT', `channel ${def.name} is not bitshuffle_lz4 (${def.compression})`);
    }
    const frame = this.frame(2 + 2 * i);
    if (!framePresent(def.compression, frame)) return null;
    if (def.type === 'string') {
      throw new BsreadError('BSREAD_ERR_INVALID_ARGUMENT', `channel ${def.name} is a string channel; use value()`);
    }
    const got = declaredSize(def, frame);
    const want = expectedBytes(def);
    if (got !== want) {
      throw new MalformedMessageError('size_mismatch', `declares ${got} bytes, ${def.type} ${JSON.stringify(def.shape)} needs ${want}`, def.name);
    }
    if (check) {
      try {
        bitshuffleLz4Check(frame, TYPES[def.type].size, want);
      } catch (e) {
        throw compressionError(e, 'bitshuffle_lz4', def.name);
      }
    }
    return frame;
  }

  /**
   * Decodes every channel (value and timestamp) and returns the problems, one per bad channel.
   * Costly (decompresses everything); for diagnostics and tests.
   */
  errors(): ChannelError[] {
    const out: ChannelError[] = [];
    for (let i = 0; i < this.header.channels.length; i++) {
      try {
        this.value(i);
        this.timestamp(i);
      } catch (e) {
        if (!(e instanceof MalformedMessageError)) throw e;
        out.push({ index: i, name: this.header.channels[i]!.name, error: e });
      }
    }
    return out;
  }
}
