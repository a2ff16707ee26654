// The one channel-writer interface (style point 5): a channel's `data` dataset, one
// implementation per kind of data, chosen by layout.dataKind() from the registry in index.ts.
// pulse_id and is_data_present are not here: every channel has them, whatever its data
// (see channel.ts).
import type { BsreadMessage, ChannelDef } from '../../bsread/index.js';
import type { H5File } from '../../h5/index.js';
import type { DataKind } from '../layout.js';
import type { NumericColumn } from './column.js';

export interface DataWriterContext {
  readonly file: H5File;
  /** Where the dataset is created: /data/<channel>/data. */
  readonly path: string;
  readonly def: ChannelDef;
  /** Rows before the first value (messages written before this dataset existed): fill rows. */
  readonly rowsBefore: number;
}

/**
 * Writes one incarnation of a channel's `data`. Rows are recorded in memory by append() /
 * appendMissing() (no HDF5 call, no allocation for small rows) and reach the dataset in
 * batches: when `due` turns true the owner calls flush().
 */
export interface DataWriter {
  readonly kind: DataKind;
  /** The definition the dataset was created for (its `key` is compared on every present value). */
  readonly def: ChannelDef;
  /** Rows so far: written plus buffered. */
  readonly rows: number;
  /** Enough rows are buffered to be worth an append. */
  readonly due: boolean;
  /** Rows that can still be recorded before `due` turns true (0 when due). */
  readonly roomLeft: number;
  /**
   * Numeric rows only: the batch that a stored-as-is value can be copied straight into
   * (NumericColumn.pushValueOf), the writer's fast path; append() does the same and more.
   */
  readonly column?: NumericColumn;
  /**
   * Records the value of channel `i` of `msg` as the next row; returns false (and records a
   * missing row) when the message turns out to carry no value. Throws MalformedMessageError
   * with nothing recorded when the value is malformed.
   */
  append(msg: BsreadMessage, i: number): boolean;
  /** Records a missing row (zeros, or "" for strings). */
  appendMissing(): void;
  /** Appends every buffered row to the dataset. On failure the rows stay buffered. */
  flush(): void;
  /** Sets the row count: drops trailing rows (buffered or written) or adds fill rows. */
  setRows(rows: number): void;
  /** Closes the dataset handle (call flush() first); idempotent. */
  close(): void;
}

export type DataWriterFactory = (ctx: DataWriterContext) => DataWriter;
