// bitshuffle_lz4 (§6.2) and lz4 (§6.3) for bsread values and data headers. The byte work is
// done by the native addon (native/compression.cc, native/bitshuffle.c); this file checks the
// arguments, picks defaults and turns native failures into BsreadError.
import { BsreadError } from '../errors.js';
import { nativeAddon, type CompressionAddon as NativeCompression } from '../native/surface.js';

/** Byte order of a 4-byte lz4 size prefix. */
export type ByteOrder = 'little' | 'big';

/** Default bound on a declared uncompressed size: bigger claims are rejected before allocating. */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 1024 * 1024 * 1024;

/** Length of the bitshuffle_lz4 header: 8-byte total size, 4-byte block size. */
export const BITSHUFFLE_LZ4_HEADER_BYTES = 12;

/** The part of the addon this file uses. Native data errors carry code BSREAD_ERR_COMPRESSION. */
function addon(): NativeCompression {
  return nativeAddon();
}

/** Runs a native call; data errors become BSREAD_ERR_COMPRESSION, anything else BSREAD_ERR_ADDON. */
function callNative<T>(what: string, fn: (n: NativeCompression) => T): T {
  const n = addon();
  try {
    return fn(n);
  } catch (e) {
    if (e instanceof BsreadError) throw e;
    const code = (e as { code?: unknown } | null)?.code;
    const message = e instanceof Error ? e.message : String(e);
    if (code === 'BSREAD_ERR_COMPRESSION') throw new BsreadError('BSREAD_ERR_COMPRESSION', message, { cause: e });
    if (e instanceof RangeError || e instanceof TypeError) {
      throw new BsreadError('BSREAD_ERR_INVALID_ARGUMENT', `${what}: ${message}`, { cause: e });
    }
    throw new BsreadError('BSREAD_ERR_ADDON', `${what}: ${message}`, { cause: e });
  }
}

function checkElemSize(what: string, elemSize: number): void {
  if (!Number.isSafeInteger(elemSize) || elemSize < 1 || elemSize > 1 << 20) {
    throw new BsreadError('BSREAD_ERR_INVALID_ARGUMENT', `${what}: element size ${elemSize} is not an integer from 1 to ${1 << 20}`);
  }
}

function checkMaxBytes(what: string, maxBytes: number): void {
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) {
    throw new BsreadError('BSREAD_ERR_INVALID_ARGUMENT', `${what}: maxBytes ${maxBytes} is not a non-negative integer`);
  }
}

function checkWholeElements(what: string, data: Uint8Array, elemSize: number, multiple: number): void {
  if (data.byteLength % (elemSize * multiple) !== 0) {
    const unit = multiple === 1 ? `${elemSize}-byte elements` : `${multiple} elements of ${elemSize} bytes`;
    throw new BsreadError('BSREAD_ERR_INVALID_ARGUMENT', `${what}: ${data.byteLength} bytes is not a whole number of ${unit}`);
  }
}

/**
 * Decode a bitshuffle_lz4 blob (§6.2): 8-byte BE total size, 4-byte BE block size in bytes
 * (0 = default), LZ4 blocks, raw tail. Returns exactly `total` bytes.
 * Throws BsreadError('BSREAD_ERR_COMPRESSION') on any inconsistency; never reads out of bounds.
 * `maxBytes` bounds the declared total size (protects against lying headers).
 * Bytes after the tail are an error too: the blob must be exactly what the header describes.
 */
export function bitshuffleLz4Decompress(blob: Uint8Array, elemSize: number, maxBytes = DEFAULT_MAX_DECOMPRESSED_BYTES): Buffer {
  checkElemSize('bitshuffle_lz4 decode', elemSize);
  checkMaxBytes('bitshuffle_lz4 decode', maxBytes);
  return callNative('bitshuffle_lz4 decode', (n) => n.bitshuffleLz4Decompress(blob, elemSize, maxBytes));
}

/**
 * Like bitshuffleLz4Decompress, but into `target` (which bounds the declared size) and returns
 * the number of bytes written. For hot loops that reuse one buffer: a fresh multi-MB Buffer
 * costs page faults on every call. On error, `target` may have been partly overwritten.
 */
export function bitshuffleLz4DecompressInto(blob: Uint8Array, elemSize: number, target: Uint8Array): number {
  checkElemSize('bitshuffle_lz4 decode', elemSize);
  return callNative('bitshuffle_lz4 decode', (n) => n.bitshuffleLz4DecompressInto(blob, elemSize, target));
}

/**
 * Throws BsreadError('BSREAD_ERR_COMPRESSION') unless `blob` declares exactly `expectedBytes` and
 * every LZ4 block of it decodes to its size: the verdict of a full decode (the same LZ4 calls)
 * without the bit transpose or a full-size output. For storing a frame unchanged as an HDF5 chunk.
 */
export function bitshuffleLz4Check(blob: Uint8Array, elemSize: number, expectedBytes: number): void {
  checkElemSize('bitshuffle_lz4 check', elemSize);
  checkMaxBytes('bitshuffle_lz4 check', expectedBytes);
  callNative('bitshuffle_lz4 check', (n) => n.bitshuffleLz4Check(blob, elemSize, expectedBytes));
}

/**
 * Encode `data` (elements of `elemSize` bytes) into a bitshuffle_lz4 blob with the default block
 * size, or `blockSizeBytes` (a positive multiple of 8 × elemSize; 0 = default).
 */
export function bitshuffleLz4Compress(data: Uint8Array, elemSize: number, blockSizeBytes = 0): Buffer {
  checkElemSize('bitshuffle_lz4 encode', elemSize);
  checkWholeElements('bitshuffle_lz4 encode', data, elemSize, 1);
  return callNative('bitshuffle_lz4 encode', (n) => n.bitshuffleLz4Compress(data, elemSize, blockSizeBytes));
}

/** Read the uncompressed size declared in a bitshuffle_lz4 header without decompressing. */
export function bitshuffleLz4DeclaredSize(blob: Uint8Array): number {
  if (blob.byteLength < BITSHUFFLE_LZ4_HEADER_BYTES) {
    throw new BsreadError('BSREAD_ERR_COMPRESSION', `bitshuffle_lz4 blob is ${blob.byteLength} bytes, shorter than its 12-byte header`);
  }
  const total = new DataView(blob.buffer, blob.byteOffset, 8).getBigUint64(0, false);
  if (total > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new BsreadError('BSREAD_ERR_COMPRESSION', `bitshuffle_lz4 header declares ${total} bytes, beyond any usable size`);
  }
  return Number(total);
}

/** Block size in elements that encoders use for `elemSize` (§6.2 default formula). */
export function defaultBlockElements(elemSize: number): number {
  checkElemSize('default block size', elemSize);
  return Math.max(128, Math.floor(Math.floor(8192 / elemSize) / 8) * 8);
}

/**
 * Decode an lz4 frame (§6.3): 4-byte size prefix then one raw LZ4 block. `preferred` is tried
 * first; the other byte order is the fallback (producers disagree, §11 item 2).
 */
export function lz4Decompress(frame: Uint8Array, preferred: ByteOrder, maxBytes = DEFAULT_MAX_DECOMPRESSED_BYTES): Buffer {
  checkMaxBytes('lz4 decode', maxBytes);
  return callNative('lz4 decode', (n) => n.lz4Decompress(frame, preferred === 'big', maxBytes));
}

/** Encode as an lz4 frame with the size prefix in `prefixOrder`. */
export function lz4Compress(data: Uint8Array, prefixOrder: ByteOrder): Buffer {
  return callNative('lz4 encode', (n) => n.lz4Compress(data, prefixOrder === 'big'));
}

/** Raw bit-shuffle of one block (§6.2 transpose); `data` must hold a multiple of 8 elements. */
export function bitshuffle(data: Uint8Array, elemSize: number): Buffer {
  checkElemSize('bitshuffle', elemSize);
  checkWholeElements('bitshuffle', data, elemSize, 8);
  return callNative('bitshuffle', (n) => n.bitshuffle(data, elemSize));
}

/** Inverse of `bitshuffle`. */
export function bitunshuffle(data: Uint8Array, elemSize: number): Buffer {
  checkElemSize('bitunshuffle', elemSize);
  checkWholeElements('bitunshuffle', data, elemSize, 8);
  return callNative('bitunshuffle', (n) => n.bitunshuffle(data, elemSize));
}
