// The native addon's whole interface (native/*.cc), declared once. nativeAddon() is the one typed
// accessor: the only cast of what ./addon.ts loads. The areas that use the addon
// (src/bsread/compression.ts, src/h5/native.ts, src/transport/native-*.ts, ./malloc-tuning.ts)
// import their part from here.
//
// Errors (native/errors.h): bad arguments are TypeError / RangeError (codes ERR_INVALID_ARG_TYPE,
// ERR_OUT_OF_RANGE); everything else is an Error with a `code` from NativeErrorCode and, when a
// library call failed, that call's name in h5Function / zmqFunction / lz4Function.
import { loadAddon } from './addon.js';

/** The `code` of the addon's non-argument errors. */
export type NativeErrorCode = 'BSREAD_ERR_COMPRESSION' | 'LZ4_ERR' | 'H5_ERR' | 'H5_ERR_CLOSED' | 'ZMQ_ERR' | 'ZMQ_ERR_CLOSED';

// ---- compression: native/compression.cc, native/bitshuffle.c ------------------------------------

/** bitshuffle_lz4 and lz4 codecs. Data errors carry code BSREAD_ERR_COMPRESSION. */
export interface CompressionAddon {
  bitshuffleLz4Decompress(blob: Uint8Array, elemSize: number, maxBytes: number): Buffer;
  bitshuffleLz4DecompressInto(blob: Uint8Array, elemSize: number, target: Uint8Array): number;
  bitshuffleLz4Check(blob: Uint8Array, elemSize: number, expectedBytes: number): void;
  bitshuffleLz4Compress(data: Uint8Array, elemSize: number, blockBytes: number): Buffer;
  lz4Decompress(frame: Uint8Array, preferBigEndian: boolean, maxBytes: number): Buffer;
  lz4Compress(data: Uint8Array, bigEndianPrefix: boolean): Buffer;
  bitshuffle(data: Uint8Array, elemSize: number): Buffer;
  bitunshuffle(data: Uint8Array, elemSize: number): Buffer;
}

// ---- HDF5: native/h5*.cc ------------------------------------------------------------------------

/** An opaque handle of the addon's handle table (a positive integer, never reused). */
export type Handle = number & { readonly __h5Handle: unique symbol };

/** Little-endian bytes: a Buffer or any typed array / DataView over them. */
export type Bytes = ArrayBufferView;

export type NativeTypeName = 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'float32' | 'float64' | 'bool';

export interface NativeDatasetData {
  type: string;
  shape: number[];
  data: Buffer | string[];
}

export interface NativeDatasetInfo {
  type: string;
  shape: number[];
  maxShape: number[];
  chunkShape: number[] | null;
  elementSize: number;
}

export interface NativeFilter {
  id: number;
  name: string;
  flags: number;
  cdValues: number[];
}

export interface NativeAttribute {
  name: string;
  type: string;
  shape: number[];
  data: Buffer | string[] | null;
}

/** Errors thrown by the addon carry these (TypeError / RangeError for bad arguments). */
export interface NativeErrorFields {
  code?: string;
  h5Function?: string;
  h5Stack?: string[];
}

/** libhdf5 calls; only on the thread that first loaded the addon. Failures carry code H5_ERR or H5_ERR_CLOSED. */
export interface H5Addon {
  h5FileCreate(path: string, overwrite: boolean): Handle;
  h5FileCreateInMemory(): Handle;
  h5FileOpenReadOnly(path: string): Handle;
  h5FileFlush(file: Handle): void;
  h5FileSetDropBehind(file: Handle, on: boolean): void;
  h5FileClose(file: Handle): void;
  h5GroupCreate(file: Handle, path: string): void;
  h5Exists(file: Handle, path: string): boolean;
  h5Kind(file: Handle, path: string): 'group' | 'dataset' | 'datatype' | 'none';
  h5List(file: Handle, path: string): string[];
  h5Move(file: Handle, source: string, destination: string): void;
  h5WriteScalarString(file: Handle, path: string, value: string): void;

  h5DatasetCreateNumeric(file: Handle, path: string, type: NativeTypeName, rowShape: readonly number[], chunkShape: readonly number[]): Handle;
  h5DatasetCreateString(file: Handle, path: string, chunkRows: number): Handle;
  h5DatasetCreateBitshuffle(file: Handle, path: string, type: NativeTypeName, rowShape: readonly number[]): Handle;
  /** Returns the new row count. */
  h5DatasetAppend(dataset: Handle, bytes: Bytes, rows: number): number;
  /**
   * Dataset k gets `rows` rows from bytes[byteOffsets[k] ..] (small appends only); returns
   * [index, message] for each dataset that refused them (it took none of them).
   */
  h5DatasetAppendMany(datasets: Float64Array, bytes: Bytes, byteOffsets: Float64Array, rows: number): [number, string][];
  h5DatasetAppendStrings(dataset: Handle, strings: readonly string[]): number;
  h5DatasetWriteChunks(dataset: Handle, blobs: readonly Bytes[]): number;
  h5DatasetResize(dataset: Handle, rows: number): void;
  h5DatasetRows(dataset: Handle): number;
  h5DatasetClose(dataset: Handle): void;

  h5Read(file: Handle, path: string): NativeDatasetData;
  h5Info(file: Handle, path: string): NativeDatasetInfo;
  h5Filters(file: Handle, path: string): NativeFilter[];
  h5SetAttribute(file: Handle, objectPath: string, name: string, kind: 'string', value: string): void;
  h5SetAttribute(file: Handle, objectPath: string, name: string, kind: 'int64', value: bigint | number): void;
  h5SetAttribute(file: Handle, objectPath: string, name: string, kind: 'float64', value: number): void;
  h5SetAttribute(file: Handle, objectPath: string, name: string, kind: 'array', value: Bytes, type: NativeTypeName): void;
  h5ReadAttributes(file: Handle, objectPath: string): NativeAttribute[];
}

// ---- transport: native/zmq_*.cc ---------------------------------------------------------------

/**
 * One received message: all frames back to back; offsets[i]..offsets[i+1] is frame i. `slot` >= 0:
 * the block is a recycled slab, lent until recycle(slot); `data` is then a plain Uint8Array over the
 * slab's ArrayBuffer, which src/transport/native-receiver.ts turns into a Buffer.
 */
export interface ZmqMessage {
  data: Buffer;
  offsets: Uint32Array;
  slot: number;
}

export interface ZmqReceiverStats {
  received: number;
  /** Messages read and dropped because they could not be kept (≥ 4 GiB, or no memory). */
  dropped: number;
  waitsQueueFull: number;
  queued: number;
  queuedBytes: number;
  /** recycleSlabs: slabs kept, free among them, dropped so far, messages that outgrew theirs. */
  slabs?: number;
  slabsFree?: number;
  slabsDropped?: number;
  slabOverflows?: number;
  /** The zmtp reader: handshakes completed, connections ended by a protocol error, the last such error. */
  connections?: number;
  protocolErrors?: number;
  lastProtocolError?: string;
}

export interface AddonReceiver {
  tryReceiveBatch(max: number): ZmqMessage[];
  receiveBatch(max: number, timeoutMs: number): Promise<ZmqMessage[]>;
  recycle(slot: number): boolean;
  stats(): ZmqReceiverStats;
  close(): void;
}

/** send / sendFrames return false, having sent nothing, when the first frame would block. */
export interface AddonSender {
  send(data: Uint8Array, offsets: Uint32Array): boolean;
  sendFrames(frames: readonly Uint8Array[]): boolean;
  endpoint(): string;
  close(): void;
}

/** libzmq failures carry code ZMQ_ERR (ZMQ_ERR_CLOSED: a closed sender was used). */
export interface TransportAddon {
  ZmqReceiver: new (
    address: string,
    mode: string,
    highWaterMark: number,
    queueMessages: number,
    queueBytes: number,
    slabs: number,
    reader?: 'libzmq' | 'zmtp',
    zmtpHandshakeMs?: number,
  ) => AddonReceiver;
  ZmqSender: new (address: string, mode: string, how: 'bind' | 'connect', highWaterMark: number, lingerMs: number) => AddonSender;
  zmqVersion: string;
}

// ---- malloc: native/malloc_tuning.cc -----------------------------------------------------------

export interface MallocAddon {
  /** Bytes set; 0 where mallopt refused the value. */
  keepFreedMemory(): { mmapThreshold: number; trimThreshold: number };
}

// ---- files: native/fs_reserve.cc ----------------------------------------------------------------

export interface FsAddon {
  /** Creates `path` (must not exist, mode 0600) with `bytes` allocated; throws code 'FS_ERR'. */
  allocateFile(path: string, bytes: number): void;
}

// ---- the whole addon ----------------------------------------------------------------------------

export interface NativeAddon extends CompressionAddon, H5Addon, TransportAddon, MallocAddon, FsAddon {}

let cached: NativeAddon | undefined;

/** The addon, loaded on first use (throws BsreadError BSREAD_ERR_ADDON when it is not built). */
export function nativeAddon(): NativeAddon {
  cached ??= loadAddon() as NativeAddon;
  return cached;
}
