// STUB: the compression helper replaces the bodies; the signatures are the contract that
// src/bsread/codec code relies on.
import { BsreadError } from '../errors.js';

/** Byte order of a 4-byte lz4 size prefix. */
export type ByteOrder = 'little' | 'big';

/**
 * Decode a bitshuffle_lz4 blob (§6.2): 8-byte BE total size, 4-byte BE block size in bytes
 * (0 = default), LZ4 blocks, raw tail. Returns exactly `total` bytes.
 * Throws BsreadError('BSREAD_ERR_COMPRESSION') on any inconsistency; never reads out of bounds.
 * `maxBytes` bounds the declared total size (protects against lying headers).
 */
export function bitshuffleLz4Decompress(_blob: Uint8Array, _elemSize: number, _maxBytes?: number): Buffer {
  throw new BsreadError('BSREAD_ERR_ADDON', 'bitshuffle not implemented yet');
}

/** Encode `data` (elements of `elemSize` bytes) into a bitshuffle_lz4 blob with the default block size. */
export function bitshuffleLz4Compress(_data: Uint8Array, _elemSize: number, _blockSizeBytes?: number): Buffer {
  throw new BsreadError('BSREAD_ERR_ADDON', 'bitshuffle not implemented yet');
}

/** Read the uncompressed size declared in a bitshuffle_lz4 header without decompressing. */
export function bitshuffleLz4DeclaredSize(_blob: Uint8Array): number {
  throw new BsreadError('BSREAD_ERR_ADDON', 'bitshuffle not implemented yet');
}

/**
 * Decode an lz4 frame (§6.3): 4-byte size prefix then one raw LZ4 block. `preferred` is tried
 * first; the other byte order is the fallback (producers disagree, §11 item 2).
 */
export function lz4Decompress(_frame: Uint8Array, _preferred: ByteOrder, _maxBytes?: number): Buffer {
  throw new BsreadError('BSREAD_ERR_ADDON', 'lz4 not implemented yet');
}

/** Encode as an lz4 frame with the size prefix in `prefixOrder`. */
export function lz4Compress(_data: Uint8Array, _prefixOrder: ByteOrder): Buffer {
  throw new BsreadError('BSREAD_ERR_ADDON', 'lz4 not implemented yet');
}
