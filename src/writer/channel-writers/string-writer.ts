// String channels: variable-length UTF-8 (N,), "" for a missing value (protocol §8.1). The
// strings of a batch are appended in one call.
import type { BsreadMessage, ChannelDef } from '../../bsread/index.js';
import type { StringDataset } from '../../h5/index.js';
import { STRING_CHUNK_ROWS } from '../layout.js';
import type { DataWriter, DataWriterContext } from './types.js';
import { stringValue } from './values.js';

const BATCH_ROWS = 1024;

export class StringWriter implements DataWriter {
  readonly kind = 'string' as const;
  readonly def: ChannelDef;
  private readonly ds: StringDataset;
  private pending: string[] = [];
  private written = 0;

  constructor(ctx: DataWriterContext) {
    this.def = ctx.def;
    this.ds = ctx.file.createStringDataset(ctx.path, { chunkRows: STRING_CHUNK_ROWS });
    if (ctx.rowsBefore > 0) {
      this.ds.resize(ctx.rowsBefore);
      this.written = ctx.rowsBefore;
    }
  }

  get rows(): number {
    return this.written + this.pending.length;
  }

  get due(): boolean {
    return this.pending.length >= BATCH_ROWS;
  }

  get roomLeft(): number {
    return Math.max(0, BATCH_ROWS - this.pending.length);
  }

  append(msg: BsreadMessage, i: number): boolean {
    const v = stringValue(this.def, msg, i);
    this.pending.push(v ?? '');
    return v !== null;
  }

  appendMissing(): void {
    this.pending.push('');
  }

  flush(): void {
    if (this.pending.length === 0) return;
    this.written = this.ds.append(this.pending);
    this.pending = [];
  }

  setRows(rows: number): void {
    if (rows === this.rows) return;
    if (rows > this.rows) {
      this.flush();
    } else if (rows >= this.written) {
      this.pending.length = rows - this.written;
      return;
    }
    this.pending = [];
    this.ds.resize(rows);
    this.written = rows;
  }

  close(): void {
    this.ds.close();
  }
}
