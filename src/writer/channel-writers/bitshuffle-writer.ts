// bitshuffle_lz4 arrays stored as received: the value frame is already an HDF5 chunk of the
// bitshuffle filter (id 32008, LZ4 inside; protocol §6.2), so each row is one chunk written
// with H5Dwrite_chunk, never decompressed. Missing rows are chunks never written: they read as
// the fill value 0 and take no space. Only for little-endian (or 1-byte) elements: the chunk's
// elements must be in the dataset's byte order.
import type { BsreadMessage, ChannelDef } from '../../bsread/index.js';
import type { BitshuffleDataset } from '../../h5/index.js';
import { dataRowShape, hdf5Type } from '../layout.js';
import { RowRefs } from './row-refs.js';
import type { DataWriter, DataWriterContext } from './types.js';
import { directChunk } from './values.js';

/** Compressed rows collected before one direct-chunk-write call. */
export const DIRECT_BATCH_ROWS = 8;

export class BitshuffleWriter extends RowRefs implements DataWriter {
  readonly kind = 'bitshuffle-direct' as const;
  readonly def: ChannelDef;

  constructor(ctx: DataWriterContext) {
    const ds = ctx.file.createBitshuffleDataset(ctx.path, { type: hdf5Type(ctx.def), rowShape: dataRowShape(ctx.def) });
    super(ds, ctx.rowsBefore, DIRECT_BATCH_ROWS);
    this.def = ctx.def;
  }

  append(msg: BsreadMessage, i: number): boolean {
    // Checks the declared size and decodes the LZ4 blocks (throws MalformedMessageError).
    const chunk = directChunk(msg, i);
    this.pushRowOf(msg, chunk);
    return chunk !== null;
  }

  appendMissing(): void {
    this.push(null);
  }

  protected writeRun(rows: Uint8Array[]): number {
    return (this.ds as BitshuffleDataset).appendChunks(rows);
  }
}
