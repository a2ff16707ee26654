// String channels: variable-length UTF-8 (N,), "" for a missing value (protocol §8.1). The
// strings of a batch are appended in one call.
import type { BsreadMessage, ChannelDef } from '../../bsread/index.js';
import type { StringDataset } from '../../h5/index.js';
import { STRING_CHUNK_ROWS } from '../layout.js';
import { PendingRows } from './pending-rows.js';
import type { DataWriter, DataWriterContext } from './types.js';
import { stringValue } from './values.js';

const BATCH_ROWS = 1024;

export class StringWriter extends PendingRows<string> implements DataWriter {
  readonly kind = 'string' as const;
  readonly def: ChannelDef;
  declare protected readonly ds: StringDataset;

  constructor(ctx: DataWriterContext) {
    super(ctx.file.createStringDataset(ctx.path, { chunkRows: STRING_CHUNK_ROWS }), ctx.rowsBefore, BATCH_ROWS);
    this.def = ctx.def;
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
}
