// The SwissFEL file layout (protocol §8.1, §8.2) as pure functions: where each dataset lives, how
// its chunks are shaped, how a bsread definition maps onto an HDF5 dataset. No I/O here; the
// channel writers and swissfel-file.ts do the writing.
import type { ChannelDef, NumericType } from '../bsread/index.js';
import { TYPES } from '../bsread/index.js';

/** The four /general datasets, in the order sf_bsread_writer writes them. */
export const GENERAL_KEYS = ['created', 'user', 'process', 'instrument'] as const;
export type GeneralKey = (typeof GENERAL_KEYS)[number];
/** Value of a /general entry whose parameter was not given (as the original). */
export const NOT_GIVEN = 'not given';

export const GENERAL_GROUP = '/general';
export const DATA_GROUP = '/data';

/** More than this many replacements of one channel's `data` is an error (as the original). */
export const MAX_REPLACEMENTS = 99;

export function generalPath(key: GeneralKey): string {
  return `${GENERAL_GROUP}/${key}`;
}

/** /general/* values: the given parameter, or "not given". */
export function generalValues(parameters: Readonly<Record<string, string>> = {}): Record<GeneralKey, string> {
  const out = {} as Record<GeneralKey, string>;
  for (const k of GENERAL_KEYS) {
    const v = parameters[k];
    out[k] = typeof v === 'string' ? v : NOT_GIVEN;
  }
  return out;
}

/** The group of a channel: the raw name under /data (a "/" in the name nests groups, as the original). */
export function channelGroup(name: string): string {
  return `${DATA_GROUP}/${name}`;
}

export function dataPath(name: string): string {
  return `${channelGroup(name)}/data`;
}

export function pulseIdPath(name: string): string {
  return `${channelGroup(name)}/pulse_id`;
}

export function isDataPresentPath(name: string): string {
  return `${channelGroup(name)}/is_data_present`;
}

/** Where the k-th earlier incarnation of a channel's data goes: data(1) is the oldest. */
export function replacedDataPath(name: string, k: number): string {
  return `${channelGroup(name)}/data(${k})`;
}

/**
 * The smallest k in 1..MAX_REPLACEMENTS not in `used`, or null when all are taken (the caller
 * turns that into an error, as the original did).
 */
export function nextReplacementIndex(used: ReadonlySet<number>): number | null {
  for (let k = 1; k <= MAX_REPLACEMENTS; k++) if (!used.has(k)) return k;
  return null;
}

/** The members of a channel's group: a nested channel name may not end in one of them. */
export function isReservedMember(part: string): boolean {
  return part === 'data' || part === 'pulse_id' || part === 'is_data_present' || /^data\([0-9]+\)$/.test(part);
}

/**
 * Why a channel name cannot become an HDF5 group path, or null when it can. Empty names, and
 * names with empty, "." or ".." path components, would address another object; a nested name
 * ending in a member of a channel group (data, pulse_id, is_data_present, data(k)) would be
 * that member of the channel named by its parent. Conflicts between channels (one inside
 * another's group) are checked against the channels already written: see channelAncestors.
 */
export function channelNameProblem(name: string): string | null {
  if (name.length === 0) return 'empty channel name';
  if (name.includes('\0')) return 'channel name contains a NUL character';
  const parts = name.split('/');
  for (const part of parts) {
    if (part === '' || part === '.' || part === '..') return `channel name ${JSON.stringify(name)} has an empty, "." or ".." path component`;
  }
  const last = parts[parts.length - 1]!;
  if (parts.length > 1 && isReservedMember(last)) {
    return `channel name ${JSON.stringify(name)} ends in ${JSON.stringify(last)}, a member of a channel group`;
  }
  return null;
}

/**
 * The names whose groups would contain this channel's group: "A/B/C" → ["A", "A/B"]. A name is
 * unusable when one of them is a channel (it would be inside that channel's group), or when it
 * is itself an ancestor of a channel (its group would contain that channel).
 */
export function channelAncestors(name: string): string[] {
  const out: string[] = [];
  for (let k = name.indexOf('/'); k >= 0; k = name.indexOf('/', k + 1)) out.push(name.slice(0, k));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Chunk shapes

/** Chunks of rows smaller than SMALL_ROW_BYTES aim at this size (see chunkRowsFor). */
export const SMALL_CHUNK_TARGET_BYTES = 64 * 1024;
/** Chunks of larger rows aim at this size. */
export const LARGE_CHUNK_TARGET_BYTES = 1024 * 1024;
/** Rows below this size count as small. */
export const SMALL_ROW_BYTES = 4 * 1024;
/** A row bigger than this is split across several chunks (plain numeric datasets only). */
export const MAX_CHUNK_BYTES = 4 * 1024 * 1024;
export const MAX_CHUNK_ROWS = 1 << 20;

/**
 * Rows per chunk for rows of `rowBytes` bytes: clamp(round(target / rowBytes), 1, 2^20), with a
 * target of 64 KiB for small rows (scalars, short waveforms) and 1 MiB for larger ones: images
 * get one row per chunk, float64 scalars 8192 rows (82 s at 100 Hz).
 *
 * Why not 1 MiB for everything: a multi-row chunk of at most 64 KiB is kept out of libhdf5's
 * chunk cache (native MakeDapl; rounding can make a chunk of small rows slightly bigger, which
 * then keeps its cache), so that each flush writes only the rows appended since the last one.
 * With the cache a partly filled chunk was written out whole at every flush: 5000 scalar
 * channels (15,000 datasets of 64 KiB chunks) cost 880 ms of CPU per 1-second flush, without
 * it 205 ms (measured 2026-11-25).
 * Why not smaller: libhdf5 spends ~30 us per chunk allocated whatever its size (measured: 8 KiB
 * chunks cost ~38 ns per float64 row, 64 KiB chunks ~8 ns).
 */
export function chunkRowsFor(rowBytes: number): number {
  const b = Math.max(1, rowBytes);
  const target = b < SMALL_ROW_BYTES ? SMALL_CHUNK_TARGET_BYTES : LARGE_CHUNK_TARGET_BYTES;
  return Math.min(MAX_CHUNK_ROWS, Math.max(1, Math.round(target / b)));
}

/**
 * Full chunk shape [rows, ...] for a plain numeric dataset with row shape `rowShape` and
 * `elemSize`-byte elements. Rows above MAX_CHUNK_BYTES get one row per chunk, split along the
 * slowest row dimensions until a chunk is at most MAX_CHUNK_BYTES (a 4096×4096 uint16 image:
 * chunks of [1, 512, 4096], 4 MiB).
 */
export function numericChunkShape(rowShape: readonly number[], elemSize: number): number[] {
  const rowBytes = elemSize * rowShape.reduce((a, b) => a * b, 1);
  if (rowBytes <= MAX_CHUNK_BYTES) return [chunkRowsFor(rowBytes), ...rowShape];
  const chunk = [1, ...rowShape];
  // Bytes of one index step along dimension d of the row: product of the faster dimensions.
  for (let d = 0; d < rowShape.length; d++) {
    let inner = elemSize;
    for (let e = d + 1; e < rowShape.length; e++) inner *= rowShape[e]!;
    if (inner <= MAX_CHUNK_BYTES) {
      // One step of this dimension fits: take as many steps as fit (fewer than the whole row).
      chunk[d + 1] = Math.max(1, Math.min(rowShape[d]!, Math.floor(MAX_CHUNK_BYTES / inner)));
      return chunk;
    }
    chunk[d + 1] = 1; // even one step of this dimension is too big: go one dimension deeper
  }
  return chunk;
}

/**
 * Rows collected in memory before one append: at most a chunk, 1024 rows (~10 s at 100 Hz) and
 * 16 KiB. Small appends are cheap (the h5 layer gathers them natively and writes whole chunks;
 * measured 8 ns per float64 row in 1024-row appends, 14 ns in 8192-row ones), and small
 * buffers keep 1000 channels' batches in the CPU caches. The buffers start small and grow only
 * when rows come faster than the flush interval.
 */
export const MAX_BATCH_ROWS = 1024;
export const MAX_BATCH_BYTES = 16 * 1024;
export function batchRowsFor(rowBytes: number, chunkRows: number): number {
  return Math.max(1, Math.min(chunkRows, MAX_BATCH_ROWS, Math.floor(MAX_BATCH_BYTES / Math.max(1, rowBytes))));
}

/**
 * Rows at least this big are not copied into a batch: they are appended from the message's own
 * bytes, one row per call (libhdf5 writes them without a copy).
 */
export const LARGE_ROW_BYTES = 32 * 1024;

/** Chunk rows of string datasets (vlen: a chunk holds 16-byte references, the text lives in the heap). */
export const STRING_CHUNK_ROWS = 4096;

/** Bytes one row of a channel can take on disk at most: its value uncompressed, pulse_id, is_data_present. */
export function rowBytesBound(def: ChannelDef): number {
  return (def.type === 'string' ? 0 : TYPES[def.type].size * Math.max(1, def.elements)) + 9;
}

/**
 * Disk space a channel's file metadata (object headers, chunk indexes) can take: measured about
 * 7 KiB per dataset at the first flush, with room for index growth. Chunks cost disk only as
 * their bytes are written (libhdf5 extends the file sparsely), so they are counted as rows.
 */
export const CHANNEL_METADATA_BYTES = 24 * 1024;

// ---------------------------------------------------------------------------------------------
// Definitions → datasets

/** HDF5 element type of a numeric bsread type (§5.1; bool as h5py's boolean enum, as the original). */
export function hdf5Type(def: ChannelDef): NumericType | 'bool' {
  if (def.type === 'string') throw new TypeError(`channel ${def.name}: string has no numeric HDF5 type`);
  return def.type;
}

/** Row shape of the `data` dataset: the C-order shape; a scalar (bsread [1] or []) is (N, 1). */
export function dataRowShape(def: ChannelDef): number[] {
  return def.cShape.length === 0 ? [1] : [...def.cShape];
}

/** Bytes in one row of a numeric channel. */
export function rowBytesOf(def: ChannelDef): number {
  return TYPES[def.type].size * dataRowShape(def).reduce((a, b) => a * b, 1);
}

/**
 * What the h5 layer accepts (native/h5.cc, h5_dataset.cc): at most 31 sizes per shape argument,
 * and a plain dataset's chunk shape is [rows, ...rowShape], so its rows have at most 30
 * dimensions (a direct bitshuffle dataset's at most 31); rows of at most 1 TiB; a direct
 * bitshuffle row is one chunk, and HDF5 chunks are below 4 GiB.
 */
export const MAX_ROW_RANK = 30;
export const MAX_DIRECT_ROW_RANK = 31;
export const MAX_ROW_BYTES = 2 ** 40;
export const MAX_DIRECT_ROW_BYTES = 2 ** 32 - 1;

/**
 * Why a numeric definition cannot get a `data` dataset (the h5 layer would refuse it), or null.
 * Strings always can (their shape is ignored). The writer counts such a value as `bad_field`.
 */
export function definitionProblem(def: ChannelDef, opts: KindOptions): string | null {
  if (def.type === 'string') return null;
  const rowShape = dataRowShape(def);
  const rowBytes = rowBytesOf(def);
  if (rowBytes === 0) return `channel ${def.name}: shape ${JSON.stringify(def.shape)} has no elements`;
  const direct = dataKind(def, opts) === 'bitshuffle-direct';
  const maxRank = direct ? MAX_DIRECT_ROW_RANK : MAX_ROW_RANK;
  if (rowShape.length > maxRank) return `channel ${def.name}: shape has ${rowShape.length} dimensions (at most ${maxRank})`;
  const maxBytes = direct ? MAX_DIRECT_ROW_BYTES : MAX_ROW_BYTES;
  if (!(rowBytes <= maxBytes)) return `channel ${def.name}: a row of ${rowBytes} bytes (at most ${maxBytes})`;
  return null;
}

/** How a channel's values are stored: the kind of channel writer (style point 5). */
export type DataKind = 'numeric' | 'large-array' | 'string' | 'bitshuffle-direct';

export type BitshuffleStorage = 'direct' | 'decompress';

export interface KindOptions {
  bitshuffle: BitshuffleStorage;
  /** bitshuffle_lz4 rows smaller than this (uncompressed) are decompressed even in 'direct' mode. */
  directMinRowBytes: number;
}

/**
 * The writer kind for a definition:
 * - strings → variable-length UTF-8;
 * - bitshuffle_lz4, little-endian (or 1-byte elements), 'direct', row ≥ directMinRowBytes →
 *   compressed chunks written as received (filter 32008, one row per chunk);
 * - other numerics → plain rows, batched ('numeric') or, for rows ≥ LARGE_ROW_BYTES, appended
 *   straight from the message ('large-array').
 */
export function dataKind(def: ChannelDef, opts: KindOptions): DataKind {
  if (def.type === 'string') return 'string';
  const rowBytes = rowBytesOf(def);
  if (
    def.compression === 'bitshuffle_lz4' &&
    opts.bitshuffle === 'direct' &&
    (def.encoding === 'little' || TYPES[def.type].size === 1) &&
    rowBytes >= opts.directMinRowBytes &&
    rowBytes > 0
  ) {
    return 'bitshuffle-direct';
  }
  return rowBytes >= LARGE_ROW_BYTES ? 'large-array' : 'numeric';
}
