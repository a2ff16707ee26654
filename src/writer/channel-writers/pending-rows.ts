// Rows buffered in memory in front of one dataset: how many there are, when a batch is due, and
// how to cut them back (truncation). Subclasses decide how pending rows are written (flush).
import type { Dataset } from '../../h5/index.js';

export abstract class PendingRows<Row> {
  /** Rows not yet in the dataset, oldest first. */
  protected pending: Row[] = [];
  /** Rows already in the dataset. */
  protected written = 0;

  protected constructor(
    protected readonly ds: Dataset,
    rowsBefore: number,
    /** Buffered rows that make an append worthwhile. */
    private readonly batchRows: number,
  ) {
    if (rowsBefore > 0) {
      ds.resize(rowsBefore);
      this.written = rowsBefore;
    }
  }

  get rows(): number {
    return this.written + this.pending.length;
  }

  get due(): boolean {
    return this.pending.length >= this.batchRows;
  }

  get roomLeft(): number {
    return Math.max(0, this.batchRows - this.pending.length);
  }

  /** Appends every pending row to the dataset. */
  abstract flush(): void;

  /** Grows (by flushing) or cuts the rows to `rows`; cutting pending rows costs no I/O. */
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
