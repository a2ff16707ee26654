// Obtaining one channel value in the form a data writer stores it, with every check that can
// reject it. The writers record what these return; SwissFelFile also calls them before it
// replaces a channel's `data` for a new definition, so that a malformed value never creates a
// dataset (a definition change seen with a missing or malformed value is ignored).
import { MalformedMessageError } from '../../errors.js';
import type { BsreadMessage, ChannelDef } from '../../bsread/index.js';
import { dataKind, rowBytesOf, type DataKind, type KindOptions } from '../layout.js';

/** A numeric row as little-endian bytes of exactly `rowBytes`, or null when missing. */
export function numericRow(def: ChannelDef, msg: BsreadMessage, i: number, rowBytes: number): Uint8Array | null {
  const b = msg.bytes(i);
  if (b !== null && b.length !== rowBytes) {
    throw new MalformedMessageError('size_mismatch', `${b.length} bytes for a ${rowBytes}-byte row`, def.name);
  }
  return b;
}

/** A string value, or null when missing. */
export function stringValue(def: ChannelDef, msg: BsreadMessage, i: number): string | null {
  const v = msg.value(i);
  if (v !== null && typeof v !== 'string') throw new MalformedMessageError('bad_field', 'a string channel decoded to a non-string', def.name);
  return v;
}

/**
 * A bitshuffle_lz4 frame to be written as a chunk unchanged, or null when missing. Every LZ4
 * block of the frame is decoded first (into a small block buffer, then dropped) to validate it:
 * a corrupt chunk stored as present would make the whole dataset unreadable through the HDF5
 * filter, so it is a 'decompress' error instead (written as missing).
 */
export function directChunk(msg: BsreadMessage, i: number): Uint8Array | null {
  return msg.compressedChunk(i, true);
}

const CHECKS: Readonly<Record<DataKind, (def: ChannelDef, msg: BsreadMessage, i: number) => boolean>> = {
  numeric: (def, msg, i) => numericRow(def, msg, i, rowBytesOf(def)) !== null,
  'large-array': (def, msg, i) => numericRow(def, msg, i, rowBytesOf(def)) !== null,
  string: (def, msg, i) => stringValue(def, msg, i) !== null,
  'bitshuffle-direct': (_def, msg, i) => directChunk(msg, i) !== null,
};

/**
 * Whether channel `i` of `msg` has a value that a writer for `def` would store: true when it
 * has, false when it is missing; throws MalformedMessageError when it is malformed. `def` must
 * be msg's definition of channel i.
 */
export function checkValue(def: ChannelDef, opts: KindOptions, msg: BsreadMessage, i: number): boolean {
  return CHECKS[dataKind(def, opts)](def, msg, i);
}
