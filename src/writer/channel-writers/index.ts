// The channel-writer registry: one DataWriter implementation per kind of data (layout.dataKind).
import type { DataKind } from '../layout.js';
import { BitshuffleWriter } from './bitshuffle-writer.js';
import { LargeArrayWriter } from './large-array-writer.js';
import { NumericWriter } from './numeric-writer.js';
import { StringWriter } from './string-writer.js';
import type { DataWriterFactory } from './types.js';

export const DATA_WRITERS: Readonly<Record<DataKind, DataWriterFactory>> = Object.freeze({
  numeric: (ctx) => new NumericWriter(ctx),
  'large-array': (ctx) => new LargeArrayWriter(ctx),
  string: (ctx) => new StringWriter(ctx),
  'bitshuffle-direct': (ctx) => new BitshuffleWriter(ctx),
});

export { NumericColumn } from './column.js';
export { checkValue } from './values.js';
export type { DataWriter, DataWriterContext, DataWriterFactory } from './types.js';
