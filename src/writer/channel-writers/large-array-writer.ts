// Plain numeric rows of LARGE_ROW_BYTES or more (camera images, long waveforms, decompressed
// bitshuffle/lz4 images): appended straight from the message's little-endian bytes, one row per
// call (libhdf5 writes such rows without copying them), at the end of each write().
import { TYPES, type BsreadMessage, type ChannelDef } from '../../bsread/index.js';
import type { NumericDataset } from '../../h5/index.js';
import { dataRowShape, hdf5Type, numericChunkShape } from '../layout.js';
import { RowRefs } from './row-refs.js';
import { numericRow } from './values.js';
import type { DataWriter, DataWriterContext } from './types.js';

export class LargeArrayWriter extends RowRefs implements DataWriter {
  readonly kind = 'large-array' as const;
  readonly def: ChannelDef;
  private readonly rowBytes: number;

  constructor(ctx: DataWriterContext) {
    const rowShape = dataRowShape(ctx.def);
    const ds = ctx.file.createNumericDataset(ctx.path, {
      type: hdf5Type(ctx.def),
      rowShape,
      chunkShape: numericChunkShape(rowShape, TYPES[ctx.def.type].size),
    });
    super(ds, ctx.rowsBefore, 1);
    this.def = ctx.def;
    this.rowBytes = ds.rowBytes;
  }

  append(msg: BsreadMessage, i: number): boolean {
    const b = numericRow(this.def, msg, i, this.rowBytes);
    this.pushRowOf(msg, b);
    return b !== null;
  }

  appendMissing(): void {
    this.push(null);
  }

  protected writeRun(rows: Uint8Array[]): number {
    const ds = this.ds as NumericDataset;
    let n = ds.rows;
    for (const r of rows) n = ds.append(r, 1);
    return n;
  }
}
