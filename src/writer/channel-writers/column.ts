// A numeric dataset with its rows collected in memory first: the batch buffer behind pulse_id,
// is_data_present and small numeric `data` rows. Recording a row only copies bytes into a
// preallocated buffer; the dataset sees one append per batch (or per flush).
import type { BsreadMessage } from '../../bsread/index.js';
import type { H5File, NumericDataset, NumericDatasetOptions } from '../../h5/index.js';

const INITIAL_ROWS = 128;

export class NumericColumn {
  readonly rowBytes: number;
  /** Rows per append once rows come faster than the flush interval. */
  readonly batchRows: number;
  private readonly ds: NumericDataset;
  private buf: Uint8Array;
  private words: Uint32Array;
  /** Rows in the buffer. */
  private pending = 0;
  /** Rows handed to the dataset (the h5 layer may still hold some of them natively). */
  private written = 0;

  constructor(file: H5File, path: string, options: NumericDatasetOptions, batchRows: number) {
    this.ds = file.createNumericDataset(path, options);
    this.rowBytes = this.ds.rowBytes;
    this.batchRows = Math.max(1, batchRows);
    const cap = Math.min(this.batchRows, INITIAL_ROWS) * this.rowBytes;
    this.buf = new Uint8Array(roundUp8(cap));
    this.words = new Uint32Array(this.buf.buffer, 0, this.buf.byteLength >>> 2);
  }

  get path(): string {
    return this.ds.path;
  }

  /** The dataset (for appends of many columns at once: ScalarBatch). */
  get dataset(): NumericDataset {
    return this.ds;
  }

  /** Rows buffered here, not yet handed to the dataset. */
  get buffered(): number {
    return this.pending;
  }

  /** `n` rows were handed to the dataset directly (appendToMany), after the buffered ones. */
  noteAppended(n: number): void {
    this.written += n;
  }

  /** Rows so far: written plus buffered. */
  get rows(): number {
    return this.written + this.pending;
  }

  /** The batch is full: time to append it. */
  get due(): boolean {
    return this.pending >= this.batchRows;
  }

  get roomLeft(): number {
    return Math.max(0, this.batchRows - this.pending);
  }

  /** Byte offset of a new row in the buffer (its content is whatever was there before). */
  private next(): number {
    const off = this.pending * this.rowBytes;
    if (off + this.rowBytes > this.buf.byteLength) this.grow();
    this.pending++;
    return off;
  }

  private grow(): void {
    const bigger = new Uint8Array(roundUp8(Math.max(this.buf.byteLength * 2, (this.pending + 1) * this.rowBytes)));
    bigger.set(this.buf.subarray(0, this.pending * this.rowBytes));
    this.buf = bigger;
    this.words = new Uint32Array(bigger.buffer, 0, bigger.byteLength >>> 2);
  }

  /** Appends a row from exactly rowBytes little-endian bytes. */
  pushBytes(src: Uint8Array): void {
    const n = this.rowBytes;
    const off = this.next();
    const buf = this.buf;
    if (n <= 32) {
      for (let k = 0; k < n; k++) buf[off + k] = src[k]!;
    } else {
      buf.set(src, off);
    }
  }

  /**
   * Appends channel i of msg when the message can copy it straight into the batch
   * (BsreadMessage.copyValueBytes); returns false and appends nothing when it cannot.
   */
  pushValueOf(msg: BsreadMessage, i: number): boolean {
    const off = this.pending * this.rowBytes;
    if (off + this.rowBytes > this.buf.byteLength) this.grow();
    if (!msg.copyValueBytes(i, this.buf, off, this.rowBytes)) return false;
    this.pending++;
    return true;
  }

  /**
   * Appends `n` rows (n × rowBytes bytes) after the buffered ones, straight to the dataset. When
   * the dataset refuses them they are buffered instead (retried by the next flush) and the
   * failure is thrown: no row is lost or reordered either way.
   */
  appendRows(bytes: Uint8Array, n: number): void {
    if (n === 0) return;
    try {
      this.flush();
      this.written = this.ds.append(bytes, n);
    } catch (e) {
      this.keepRows(bytes, n);
      throw e;
    }
  }

  /** Buffers `n` rows (n × rowBytes bytes) after the buffered ones; the next flush appends them. */
  keepRows(bytes: Uint8Array, n: number): void {
    const off = this.pending * this.rowBytes;
    const end = off + n * this.rowBytes;
    if (end > this.buf.byteLength) {
      const bigger = new Uint8Array(roundUp8(Math.max(this.buf.byteLength * 2, end)));
      bigger.set(this.buf.subarray(0, off));
      this.buf = bigger;
      this.words = new Uint32Array(bigger.buffer, 0, bigger.byteLength >>> 2);
    }
    this.buf.set(bytes.subarray(0, n * this.rowBytes), off);
    this.pending += n;
  }

  /** Appends a row of zeros (the fill value). */
  pushZero(): void {
    const off = this.next();
    this.buf.fill(0, off, off + this.rowBytes);
  }

  /** Appends one byte (uint8 columns: is_data_present). */
  pushU8(v: number): void {
    const off = this.next();
    this.buf[off] = v;
  }

  /** Appends one int64 (pulse_id) from a non-negative safe integer. */
  pushInt64(v: number): void {
    const w = this.next() >>> 2;
    const lo = v % 4294967296;
    this.words[w] = lo; // little-endian host (checked at load)
    this.words[w + 1] = (v - lo) / 4294967296;
  }

  /** Appends the buffered rows to the dataset. On failure they stay buffered (retried on the next call). */
  flush(): void {
    const n = this.pending;
    if (n === 0) return;
    this.written = this.ds.append(this.buf.subarray(0, n * this.rowBytes), n);
    this.pending = 0;
  }

  /** Sets the row count: drops buffered rows, or shrinks the dataset, or grows it with fill rows. */
  setRows(rows: number): void {
    if (rows === this.rows) return;
    if (rows > this.rows) {
      this.flush();
    } else if (rows >= this.written) {
      this.pending = rows - this.written; // buffered rows only: memory
      return;
    }
    this.pending = 0;
    this.ds.resize(rows);
    this.written = rows;
  }

  close(): void {
    this.ds.close();
  }
}

function roundUp8(n: number): number {
  return Math.max(8, Math.ceil(n / 8) * 8);
}

if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) {
  throw new Error('sf_bsread_writer needs a little-endian host');
}
