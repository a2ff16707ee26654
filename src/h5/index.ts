// The typed face of the HDF5 layer. Everything that touches HDF5 goes through these classes;
// the addon's handles and shapes stay inside src/h5.
//
// Contract: close() is idempotent; a file closes its open datasets first; any use after close
// throws H5Error with code H5_ERR_CLOSED; every libhdf5 failure is an H5Error (code H5_ERR)
// carrying the failing HDF5 function; wrong argument types are TypeError / RangeError.
// All calls are synchronous and must run on the main thread (libhdf5 is not thread-safe).
import { lstatSync } from 'node:fs';
import { BsreadError, H5Error } from '../errors.js';
import { nativeH5, type Handle, type NativeErrorFields, type NativeH5, type NativeTypeName } from './native.js';

/** bsread numeric type names; HDF5 stores them little-endian (H5T_STD_*LE, H5T_IEEE_F*LE). */
export type NumericType = 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'float32' | 'float64';
/**
 * What a dataset can be created with: a numeric type, or 'bool', stored as h5py stores numpy
 * bool (an enum over int8, FALSE = 0 and TRUE = 1), so that h5py reads it back as bool.
 */
export type ElementType = NumericType | 'bool';
/** The element type of a stored dataset as read back ('bool': that enum; read as 0/1 bytes). */
export type StoredType = ElementType | 'vlen_string' | 'fixed_string' | 'other';

export const NUMERIC_TYPES: readonly NumericType[] = ['int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'float32', 'float64'];

const TYPE_SIZES: Record<ElementType, number> = {
  bool: 1,
  int8: 1,
  uint8: 1,
  int16: 2,
  uint16: 2,
  int32: 4,
  uint32: 4,
  int64: 8,
  uint64: 8,
  float32: 4,
  float64: 8,
};

/** Bytes per element of a type. */
export function elementSize(type: ElementType): number {
  const s = TYPE_SIZES[type];
  if (s === undefined) throw new TypeError(`unknown element type ${String(type)}`);
  return s;
}

/** Chunk rows used when none are given: up to 100 rows (as sf_bsread_writer), at most ~1 MiB per chunk. */
export function defaultChunkRows(rowBytes: number): number {
  return Math.max(1, Math.min(100, Math.floor((1 << 20) / Math.max(1, rowBytes))));
}

export type NumericArray = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array | Float32Array | Float64Array;

/**
 * An attribute value. Writing: string (variable-length UTF-8), number (float64), bigint (int64),
 * typed array (1-D array of its type; a Buffer / Uint8Array is uint8). Reading gives the same
 * kinds back (see ReadAttributeValue): integer scalars of up to 32 bits and float scalars as
 * number, 64-bit integer scalars as bigint, arrays as typed arrays.
 */
export type AttributeValue = string | number | bigint | NumericArray;
/** What attributes() gives back: an AttributeValue, or string[] for a string array attribute. */
export type ReadAttributeValue = AttributeValue | string[];

export interface DatasetData {
  type: StoredType;
  /** Row-major (HDF5) shape; [] for a scalar dataset. */
  shape: number[];
  /** Numeric: little-endian element bytes. Strings: one string per element. */
  data: Buffer | string[];
}

export interface DatasetInfo {
  type: StoredType;
  shape: number[];
  /** Infinity for an unlimited dimension. */
  maxShape: number[];
  chunkShape: number[] | null;
  /** Bytes per element (fixed strings: their length; vlen strings: the pointer size). */
  elementSize: number;
}

export interface FilterInfo {
  id: number;
  name: string;
  /** 0 = mandatory, 1 = optional (H5Z_FLAG_OPTIONAL). */
  flags: number;
  cdValues: number[];
}

export interface NumericDatasetOptions {
  type: ElementType;
  /** Shape of one row in row-major order: [] for (N,), [1] for (N,1), [h, w] for images. */
  rowShape: readonly number[];
  /** Rows per chunk; default defaultChunkRows(row bytes). The chunk is [chunkRows, ...rowShape]. */
  chunkRows?: number;
  /** Full chunk shape (1 + rowShape.length entries); overrides chunkRows. */
  chunkShape?: readonly number[];
}

export interface BitshuffleDatasetOptions {
  type: ElementType;
  /** Shape of one row (one chunk), row-major. */
  rowShape: readonly number[];
}

export interface StringDatasetOptions {
  /** Rows per chunk; default 100. */
  chunkRows?: number;
}

const native: () => NativeH5 = nativeH5;

/** Turns the addon's coded errors into H5Error; TypeError / RangeError pass through. */
function rethrow(e: unknown): never {
  if (e instanceof Error && !(e instanceof TypeError) && !(e instanceof RangeError) && !(e instanceof H5Error)) {
    const f = e as Error & NativeErrorFields;
    if (f.code === 'H5_ERR' || f.code === 'H5_ERR_CLOSED') {
      const err = new H5Error(f.message, f.h5Function, { code: f.code, cause: e });
      if (f.h5Stack !== undefined) Object.defineProperty(err, 'h5Stack', { value: f.h5Stack, enumerable: false });
      throw err;
    }
  }
  throw e;
}

function call<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    rethrow(e);
  }
}

function closedError(what: string): H5Error {
  return new H5Error(`${what} is closed`, undefined, { code: 'H5_ERR_CLOSED' });
}

function toStoredType(t: string): StoredType {
  return Object.hasOwn(TYPE_SIZES, t) || t === 'vlen_string' || t === 'fixed_string' ? (t as StoredType) : 'other';
}

function checkType(type: unknown, fn: string): ElementType {
  if (typeof type !== 'string' || !Object.hasOwn(TYPE_SIZES, type)) throw new TypeError(`${fn}: unknown element type ${String(type)}`);
  return type as ElementType;
}

function checkShape(shape: unknown, fn: string, what: string): readonly number[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 1)) {
    throw new TypeError(`${fn}: ${what} must be an array of positive integers`);
  }
  return shape as readonly number[];
}

function typedArrayOf(type: ElementType, buf: Buffer): NumericArray {
  // Copy into a fresh, aligned ArrayBuffer.
  const ab = new ArrayBuffer(buf.length);
  new Uint8Array(ab).set(buf);
  switch (type) {
    case 'int8':
      return new Int8Array(ab);
    case 'uint8':
    case 'bool':
      return new Uint8Array(ab);
    case 'int16':
      return new Int16Array(ab);
    case 'uint16':
      return new Uint16Array(ab);
    case 'int32':
      return new Int32Array(ab);
    case 'uint32':
      return new Uint32Array(ab);
    case 'int64':
      return new BigInt64Array(ab);
    case 'uint64':
      return new BigUint64Array(ab);
    case 'float32':
      return new Float32Array(ab);
    case 'float64':
      return new Float64Array(ab);
  }
}

function arrayTypeOf(v: ArrayBufferView): NativeTypeName | undefined {
  if (v instanceof Int8Array) return 'int8';
  if (v instanceof Uint8Array) return 'uint8'; // includes Buffer
  if (v instanceof Int16Array) return 'int16';
  if (v instanceof Uint16Array) return 'uint16';
  if (v instanceof Int32Array) return 'int32';
  if (v instanceof Uint32Array) return 'uint32';
  if (v instanceof BigInt64Array) return 'int64';
  if (v instanceof BigUint64Array) return 'uint64';
  if (v instanceof Float32Array) return 'float32';
  if (v instanceof Float64Array) return 'float64';
  return undefined;
}

/** What datasets have in common: a row count, resize, close. */
export abstract class Dataset {
  /** The path the dataset was created at (a later move() does not change it here). */
  readonly path: string;
  protected handle: Handle | undefined;
  protected rowCount = 0;
  private readonly owner: H5File;

  /** @internal */
  constructor(owner: H5File, handle: Handle, path: string) {
    this.owner = owner;
    this.handle = handle;
    this.path = path;
  }

  get closed(): boolean {
    return this.handle === undefined;
  }

  /** Number of rows (first dimension). */
  get rows(): number {
    this.open();
    return this.rowCount;
  }

  /** Sets the number of rows: truncates, or grows with fill values (0, or "" for strings). */
  resize(rows: number): void {
    const h = this.open();
    call(() => native().h5DatasetResize(h, rows));
    this.rowCount = rows;
  }

  /** Closes the dataset handle; idempotent. The file stays open. */
  close(): void {
    const h = this.handle;
    if (h === undefined) return;
    this.handle = undefined;
    this.owner.forget(this);
    call(() => native().h5DatasetClose(h));
  }

  /** @internal Called by the file when it closes. */
  markClosed(): void {
    this.handle = undefined;
  }

  protected open(): Handle {
    if (this.handle === undefined) throw closedError(`dataset ${this.path}`);
    return this.handle;
  }
}

/** A dataset of shape (rows, ...rowShape) of one element type. */
export abstract class TypedRowsDataset extends Dataset {
  readonly type: ElementType;
  readonly rowShape: readonly number[];
  /** Bytes in one row. */
  readonly rowBytes: number;

  /** @internal */
  constructor(owner: H5File, handle: Handle, path: string, type: ElementType, rowShape: readonly number[]) {
    super(owner, handle, path);
    this.type = type;
    this.rowShape = [...rowShape];
    this.rowBytes = elementSize(type) * rowShape.reduce((a, b) => a * b, 1);
  }
}

/** A chunked numeric dataset of shape (rows, ...rowShape) that grows by appending rows. */
export class NumericDataset extends TypedRowsDataset {
  /**
   * Appends `rows` rows (default: all of `data`) from little-endian bytes. Returns the new row
   * count; when it throws, the row count is unchanged. Large appends (> 32 KiB) are written
   * straight from the caller's memory with one extend + write; small ones are copied into a
   * native buffer and written a chunk (or 64 KiB) at a time, because libhdf5 costs ~10 us per
   * extend + write whatever the size. Buffered rows are written by flush(), close(), resize(),
   * the file's read()/info(), and at process exit; `data` may be reused as soon as this returns.
   */
  append(data: ArrayBufferView, rows?: number): number {
    const h = this.open();
    if (!ArrayBuffer.isView(data)) throw new TypeError(`append to ${this.path}: data must be a Buffer or typed array`);
    if (rows !== undefined && (!Number.isSafeInteger(rows) || rows < 0)) {
      throw new TypeError(`append to ${this.path}: rows must be a non-negative integer`);
    }
    const n = rows ?? data.byteLength / this.rowBytes;
    if (!Number.isSafeInteger(n)) {
      throw new H5Error(`append to ${this.path}: ${data.byteLength} bytes is not a whole number of ${this.rowBytes}-byte rows`, 'H5Dwrite');
    }
    this.rowCount = call(() => native().h5DatasetAppend(h, data, n));
    return this.rowCount;
  }

  /** @internal The addon's handle (appendToMany). Throws when closed. */
  nativeHandle(): Handle {
    return this.open();
  }

  /** @internal Rows appended by appendToMany. */
  noteAppended(rows: number): void {
    this.rowCount += rows;
  }
}

/**
 * Small appends of `rows` rows to many numeric datasets in one call: datasets[k] gets its rows
 * from data[byteOffsets[k] ..] (rows × its row size bytes, at most 32 KiB), gathered like
 * append()'s. Returns the datasets that refused them, with the error (they took none of them;
 * the others did). Bad arguments (a closed dataset, rows past the data) throw and append nothing.
 */
export function appendToMany(datasets: readonly NumericDataset[], data: ArrayBufferView, byteOffsets: Float64Array, rows: number): Map<number, H5Error> {
  if (!Number.isSafeInteger(rows) || rows < 0) throw new TypeError('appendToMany: rows must be a non-negative integer');
  const handles = new Float64Array(datasets.length);
  for (let k = 0; k < datasets.length; k++) handles[k] = datasets[k]!.nativeHandle();
  const refused = call(() => native().h5DatasetAppendMany(handles, data, byteOffsets, rows));
  const out = new Map<number, H5Error>();
  for (const [k, message] of refused) out.set(k, new H5Error(message, 'H5Dwrite'));
  for (let k = 0; k < datasets.length; k++) if (!out.has(k)) datasets[k]!.noteAppended(rows);
  return out;
}

/** A 1-D dataset of variable-length UTF-8 strings. */
export class StringDataset extends Dataset {
  /**
   * Appends one row per string; returns the new row count. A string is stored up to its first
   * U+0000 (HDF5 variable-length strings are C strings).
   */
  append(strings: readonly string[]): number {
    const h = this.open();
    this.rowCount = call(() => native().h5DatasetAppendStrings(h, strings));
    return this.rowCount;
  }
}

/**
 * A dataset declared with the bitshuffle filter (32008, LZ4), one row per chunk, filled by
 * writing bitshuffle_lz4 blobs (protocol §6.2, 12-byte header included) as chunks unchanged.
 */
export class BitshuffleDataset extends TypedRowsDataset {
  /** Appends one row from its compressed blob; returns the new row count. */
  appendChunk(blob: ArrayBufferView): number {
    return this.appendChunks([blob]);
  }

  /**
   * Appends one row per blob in one call (extend once, then one direct chunk write per blob).
   * Every blob's header is checked first (uncompressed size = row bytes); on any failure the
   * row count is unchanged.
   */
  appendChunks(blobs: readonly ArrayBufferView[]): number {
    const h = this.open();
    this.rowCount = call(() => native().h5DatasetWriteChunks(h, blobs));
    return this.rowCount;
  }
}

// Safety net only: a file that is garbage-collected without close() is closed here (its
// datasets keep it reachable, so they are never cut off) and a warning is emitted.
const unclosedFiles = new FinalizationRegistry<{ handle: Handle; path: string }>((held) => {
  try {
    native().h5FileClose(held.handle);
  } catch {
    // nothing more we can do
  }
  process.emitWarning(`HDF5 file ${held.path} was garbage-collected without close(); closed it`, { code: 'H5_UNCLOSED' });
});

export interface CreateOptions {
  /** Replace an existing file (H5F_ACC_TRUNC); default false refuses (H5F_ACC_EXCL). */
  overwrite?: boolean;
}

/** An HDF5 file: create or open it, build groups and datasets, read it back. */
/**
 * libhdf5 follows a symbolic link at the path it creates (with overwrite, it truncates the link's
 * target). An output path that is a link could thus destroy another file: refuse it.
 */
function refuseSymlink(path: string): void {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return; // nothing there: the normal case
  }
  if (st.isSymbolicLink()) {
    throw new BsreadError('BSREAD_ERR_OUTPUT_PATH', `${path} is a symbolic link; refusing to write through it (it could overwrite another file)`);
  }
}

export class H5File {
  readonly path: string;
  readonly readOnly: boolean;
  private handle: Handle | undefined;
  private readonly datasets = new Set<Dataset>();

  private constructor(handle: Handle, path: string, readOnly: boolean) {
    this.handle = handle;
    this.path = path;
    this.readOnly = readOnly;
    unclosedFiles.register(this, { handle, path }, this);
  }

  /** Creates a file; an existing file is refused with H5Error unless `overwrite` is set. */
  static create(path: string, options: CreateOptions = {}): H5File {
    if (typeof path !== 'string') throw new TypeError('H5File.create: path must be a string');
    refuseSymlink(path);
    const h = call(() => native().h5FileCreate(path, options.overwrite === true));
    return new H5File(h, path, false);
  }

  static openReadOnly(path: string): H5File {
    if (typeof path !== 'string') throw new TypeError('H5File.openReadOnly: path must be a string');
    const h = call(() => native().h5FileOpenReadOnly(path));
    return new H5File(h, path, true);
  }

  /** A file that lives in memory only (core driver, no backing store), for tests. */
  static createInMemory(): H5File {
    const h = call(() => native().h5FileCreateInMemory());
    return new H5File(h, '(in memory)', false);
  }

  get closed(): boolean {
    return this.handle === undefined;
  }

  /** Creates a group and any missing parents; an existing group is fine. */
  group(path: string): void {
    const h = this.open();
    call(() => native().h5GroupCreate(h, path));
  }

  exists(path: string): boolean {
    const h = this.open();
    return call(() => native().h5Exists(h, path));
  }

  kind(path: string): 'group' | 'dataset' | 'datatype' | 'none' {
    const h = this.open();
    return call(() => native().h5Kind(h, path));
  }

  /** Member names of a group, in name order. */
  listGroup(path = '/'): string[] {
    const h = this.open();
    return call(() => native().h5List(h, path));
  }

  /** Creates an empty chunked dataset (0, ...rowShape), unlimited rows, fill value 0. */
  createNumericDataset(path: string, options: NumericDatasetOptions): NumericDataset {
    const h = this.open();
    const type = checkType(options.type, 'createNumericDataset');
    const rowShape = checkShape(options.rowShape, 'createNumericDataset', 'rowShape');
    const rowBytes = elementSize(type) * rowShape.reduce((a, b) => a * b, 1);
    const chunkShape = options.chunkShape ?? [options.chunkRows ?? defaultChunkRows(rowBytes), ...rowShape];
    const d = call(() => native().h5DatasetCreateNumeric(h, path, type, rowShape, chunkShape));
    return this.track(new NumericDataset(this, d, path, type, rowShape));
  }

  /** Creates an empty 1-D variable-length UTF-8 string dataset, unlimited, chunked. */
  createStringDataset(path: string, options: StringDatasetOptions = {}): StringDataset {
    const h = this.open();
    const d = call(() => native().h5DatasetCreateString(h, path, options.chunkRows ?? 100));
    return this.track(new StringDataset(this, d, path));
  }

  /** Creates an empty dataset with the bitshuffle/LZ4 filter and chunks of one row. */
  createBitshuffleDataset(path: string, options: BitshuffleDatasetOptions): BitshuffleDataset {
    const h = this.open();
    const type = checkType(options.type, 'createBitshuffleDataset');
    const rowShape = checkShape(options.rowShape, 'createBitshuffleDataset', 'rowShape');
    const d = call(() => native().h5DatasetCreateBitshuffle(h, path, type, rowShape));
    return this.track(new BitshuffleDataset(this, d, path, type, rowShape));
  }

  /**
   * Writes a scalar fixed-length string dataset (as sf_bsread_writer's /general/*): length =
   * UTF-8 byte length (at least 1), NULLPAD, charset ASCII (UTF-8 when the value is not ASCII).
   */
  writeScalarString(path: string, value: string): void {
    const h = this.open();
    call(() => native().h5WriteScalarString(h, path, value));
  }

  /** Sets (or replaces) an attribute on the root ('/'), a group or a dataset. */
  setAttribute(objectPath: string, name: string, value: AttributeValue): void {
    const h = this.open();
    const n = native();
    if (typeof value === 'string') call(() => n.h5SetAttribute(h, objectPath, name, 'string', value));
    else if (typeof value === 'number') call(() => n.h5SetAttribute(h, objectPath, name, 'float64', value));
    else if (typeof value === 'bigint') call(() => n.h5SetAttribute(h, objectPath, name, 'int64', value));
    else if (ArrayBuffer.isView(value)) {
      const type = arrayTypeOf(value);
      if (type === undefined) throw new TypeError('setAttribute: unsupported typed array');
      call(() => n.h5SetAttribute(h, objectPath, name, 'array', value, type));
    } else {
      throw new TypeError('setAttribute: value must be a string, number, bigint or typed array');
    }
  }

  /** All attributes of an object, by name (see AttributeValue for the kinds). */
  attributes(objectPath: string): Record<string, ReadAttributeValue> {
    const h = this.open();
    const list = call(() => native().h5ReadAttributes(h, objectPath));
    const out: Record<string, ReadAttributeValue> = {};
    for (const a of list) {
      if (a.data === null) continue;
      if (Array.isArray(a.data)) {
        out[a.name] = a.shape.length === 0 ? (a.data[0] ?? '') : a.data;
        continue;
      }
      const type = toStoredType(a.type);
      if (type === 'vlen_string' || type === 'fixed_string' || type === 'other') continue;
      const arr = typedArrayOf(type, a.data);
      out[a.name] = a.shape.length === 0 ? (arr[0] as number | bigint) : arr;
    }
    return out;
  }

  /** Renames a link, e.g. /data/ch/data -> /data/ch/data(1). Open datasets stay usable. */
  move(source: string, destination: string): void {
    const h = this.open();
    call(() => native().h5Move(h, source, destination));
  }

  /** Reads a whole dataset. */
  read(path: string): DatasetData {
    const h = this.open();
    const r = call(() => native().h5Read(h, path));
    return { type: toStoredType(r.type), shape: r.shape, data: r.data };
  }

  info(path: string): DatasetInfo {
    const h = this.open();
    const r = call(() => native().h5Info(h, path));
    return { ...r, type: toStoredType(r.type) };
  }

  /** The filter pipeline of a dataset. */
  filters(path: string): FilterInfo[] {
    const h = this.open();
    return call(() => native().h5Filters(h, path));
  }

  /** Writes everything buffered so far to disk (H5Fflush, global scope). */
  flush(): void {
    const h = this.open();
    call(() => native().h5FileFlush(h));
  }

  /**
   * Drop-behind (default off): chunks written whole (rows of one chunk each, direct chunk
   * writes) leave the page cache once on disk: each flush starts the writeback of those written
   * since the previous flush and drops those written before it. For writers of big images that
   * are not read back; small datasets and metadata stay cached. No effect on in-memory files.
   */
  setDropBehind(on: boolean): void {
    const h = this.open();
    call(() => native().h5FileSetDropBehind(h, on));
  }

  /** Closes the open datasets, then the file; idempotent. */
  close(): void {
    const h = this.handle;
    if (h === undefined) return;
    this.handle = undefined;
    unclosedFiles.unregister(this);
    for (const d of this.datasets) d.markClosed();
    this.datasets.clear();
    call(() => native().h5FileClose(h));
  }

  /** @internal */
  forget(d: Dataset): void {
    this.datasets.delete(d);
  }

  private track<T extends Dataset>(d: T): T {
    this.datasets.add(d);
    return d;
  }

  private open(): Handle {
    if (this.handle === undefined) throw closedError(`file ${this.path}`);
    return this.handle;
  }
}
