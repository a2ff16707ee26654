// The native libhdf5 surface of the addon (native/h5*.cc), declared once and cast once.
// Only src/h5/index.ts uses it; nothing here leaves src/h5.
import { loadAddon } from '../native/addon.js';

/** An opaque handle of the addon's handle table (a positive integer, never reused). */
export type Handle = number & { readonly __h5Handle: unique symbol };

/** Little-endian bytes: a Buffer or any typed array / DataView over them. */
export type Bytes = ArrayBufferView;

export type NativeTypeName =
  | 'int8'
  | 'uint8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'float32'
  | 'float64'
  | 'bool';

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

export interface NativeH5 {
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

let cached: NativeH5 | undefined;

export function nativeH5(): NativeH5 {
  cached ??= loadAddon() as NativeH5;
  return cached;
}
