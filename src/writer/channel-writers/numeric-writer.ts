// Numeric scalars and small arrays (rows under LARGE_ROW_BYTES): every row is copied into a
// batch buffer (8 bytes for a float64 scalar) and the batch is appended in one call.
import type { BsreadMessage, ChannelDef } from '../../bsread/index.js';
import { batchRowsFor, dataRowShape, hdf5Type, numericChunkShape } from '../layout.js';
import { TYPES } from '../../bsread/index.js';
import { NumericColumn } from './column.js';
import { numericRow } from './values.js';
import type { DataWriter, DataWriterContext } from './types.js';

export class NumericWriter implements DataWriter {
  readonly kind = 'numeric' as const;
  readonly def: ChannelDef;
  private readonly col: NumericColumn;

  constructor(ctx: DataWriterContext) {
    this.def = ctx.def;
    const rowShape = dataRowShape(ctx.def);
    const chunkShape = numericChunkShape(rowShape, TYPES[ctx.def.type].size);
    const rowBytes = TYPES[ctx.def.type].size * rowShape.reduce((a, b) => a * b, 1);
    this.col = new NumericColumn(ctx.file, ctx.path, { type: hdf5Type(ctx.def), rowShape, chunkShape }, batchRowsFor(rowBytes, chunkShape[0]!));
    if (ctx.rowsBefore > 0) this.col.setRows(ctx.rowsBefore);
  }

  get rows(): number {
    return this.col.rows;
  }

  get column(): NumericColumn {
    return this.col;
  }

  get due(): boolean {
    return this.col.due;
  }

  get roomLeft(): number {
    return this.col.roomLeft;
  }

  append(msg: BsreadMessage, i: number): boolean {
    if (this.col.pushValueOf(msg, i)) return true;
    const b = numericRow(this.def, msg, i, this.col.rowBytes);
    if (b === null) {
      this.col.pushZero();
      return false;
    }
    this.col.pushBytes(b);
    return true;
  }

  appendMissing(): void {
    this.col.pushZero();
  }

  flush(): void {
    this.col.flush();
  }

  setRows(rows: number): void {
    this.col.setRows(rows);
  }

  close(): void {
    this.col.close();
  }
}
