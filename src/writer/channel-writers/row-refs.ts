// Shared by the writers of big rows (plain large arrays, compressed chunks): rows are kept as
// references to the message's bytes, not copied, and written as runs — a run of values in one
// call, a run of missing rows as a resize (fill value 0: the chunks are never allocated).
import type { BsreadMessage } from '../../bsread/index.js';
import { PendingRows } from './pending-rows.js';

/** Buffered rows: the bytes of a value, or null for a missing row. */
export abstract class RowRefs extends PendingRows<Uint8Array | null> {
  protected push(row: Uint8Array | null): void {
    this.pending.push(row);
  }

  /**
   * Buffers a row of msg. A row of a lent message (msg.borrowed: valid only until the next
   * message is received) is written at once, with the rows buffered before it; when that write
   * fails, the rows left buffered are copied, so that none refers to the lent memory.
   */
  protected pushRowOf(msg: BsreadMessage, row: Uint8Array | null): void {
    this.pending.push(row);
    if (row === null || !msg.borrowed) return;
    try {
      this.flush();
    } catch (e) {
      this.pending = this.pending.map((r) => (r === null ? null : new Uint8Array(r)));
      throw e;
    }
  }

  /**
   * Writes `rows` consecutive values at the end of the dataset; returns the new row count. When
   * it throws, it may have written a first part of them: the dataset's row count tells.
   */
  protected abstract writeRun(rows: Uint8Array[]): number;

  flush(): void {
    const p = this.pending;
    let k = 0;
    try {
      while (k < p.length) {
        let e = k;
        if (p[k] === null) {
          while (e < p.length && p[e] === null) e++;
          this.ds.resize(this.written + (e - k));
          this.written += e - k;
        } else {
          while (e < p.length && p[e] !== null) e++;
          const before = this.written;
          try {
            this.written = this.writeRun(p.slice(k, e) as Uint8Array[]);
          } catch (err) {
            // Rows written before the failure are in the dataset: never write them again (a
            // retry would duplicate them and shift every later row against pulse_id).
            const done = this.writtenSince(before, e - k);
            this.written = before + done;
            k += done;
            throw err;
          }
        }
        k = e;
      }
    } finally {
      // Keep what was not written (on failure), drop what was.
      this.pending = k === p.length ? [] : p.slice(k);
    }
  }

  /** After a failed writeRun of `n` rows: how many of them the dataset gained (0..n). */
  private writtenSince(before: number, n: number): number {
    let now: number;
    try {
      now = this.ds.rows;
    } catch {
      return 0;
    }
    return Math.max(0, Math.min(n, now - before));
  }
}
