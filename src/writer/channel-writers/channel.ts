// One channel of the file: its group, pulse_id and is_data_present (always there, one row per
// written message), its current `data` writer (null until its first value: the original's
// "stub"), and the earlier incarnations moved to data(k) after definition changes (§8.2).
import type { ChannelDef } from '../../bsread/index.js';
import type { H5File } from '../../h5/index.js';
import { DATA_WRITERS, NumericColumn, type DataWriter } from './index.js';
import {
  batchRowsFor,
  channelGroup,
  chunkRowsFor,
  dataKind,
  dataPath,
  isDataPresentPath,
  nextReplacementIndex,
  pulseIdPath,
  replacedDataPath,
  type KindOptions,
} from '../layout.js';

const PULSE_ID_CHUNK_ROWS = chunkRowsFor(8);
const PRESENT_CHUNK_ROWS = chunkRowsFor(1);

export class Channel {
  readonly name: string;
  readonly pulseId: NumericColumn;
  readonly present: NumericColumn;
  private current: DataWriter | null = null;
  /** current.column, kept at hand for the writer's per-value fast path (null: none). */
  directColumn: NumericColumn | null = null;
  /** The entry object last seen with a value: the same object ⇒ the same definition (fast path). */
  lastEntry: object | null = null;
  /** Earlier incarnations (data(k)), kept open so that truncateAfter can shorten them. */
  readonly retired: DataWriter[] = [];
  private readonly usedK = new Set<number>();
  /** Rows recorded with a value (is_data_present 1), counted as they are recorded ... */
  valueRows = 0;
  /** ... and exact until rows are cut (setRows below the current count): then read them back. */
  valueRowsKnown = true;

  /**
   * Creates the group, pulse_id and is_data_present. `earlierPulseIds` are the pulse ids of the
   * rows written before this channel appeared: its pulse_id carries them (a reader that joins
   * channels by pulse_id finds every row), is_data_present is 0 there.
   */
  constructor(
    private readonly file: H5File,
    name: string,
    earlierPulseIds: Float64Array,
  ) {
    this.name = name;
    file.group(channelGroup(name));
    this.pulseId = new NumericColumn(file, pulseIdPath(name), { type: 'int64', rowShape: [], chunkRows: PULSE_ID_CHUNK_ROWS }, batchRowsFor(8, PULSE_ID_CHUNK_ROWS));
    this.present = new NumericColumn(file, isDataPresentPath(name), { type: 'uint8', rowShape: [], chunkRows: PRESENT_CHUNK_ROWS }, batchRowsFor(1, PRESENT_CHUNK_ROWS));
    const rowsBefore = earlierPulseIds.length;
    if (rowsBefore > 0) {
      for (let r = 0; r < rowsBefore; r++) this.pulseId.pushInt64(earlierPulseIds[r]!);
      this.present.setRows(rowsBefore);
    }
  }

  /** The current `data` writer (null until the first value). */
  get data(): DataWriter | null {
    return this.current;
  }

  private set data(d: DataWriter | null) {
    this.current = d;
    this.directColumn = d?.column ?? null;
  }

  /** Rows so far (the same for all of the channel's current datasets). */
  get rows(): number {
    return this.pulseId.rows;
  }

  /** Whether data(k) can still be added (the original stopped at 99). */
  get canReplace(): boolean {
    return this.data === null || nextReplacementIndex(this.usedK) !== null;
  }

  /**
   * Starts `data` for a new definition (§8.2): a previous `data` is cut to the current row count
   * and moved to data(k), k the smallest free index; the new one starts with fill rows for all
   * earlier rows. Call only when canReplace. All or nothing: when it throws (the new dataset
   * cannot be created...), the channel is as before (the old `data` moved back; should even
   * that fail, it stays at data(k) as an earlier incarnation and `data` is null, which is
   * consistent too: the next value starts a new `data`).
   */
  startData(def: ChannelDef, kindOptions: KindOptions): void {
    const rows = this.rows;
    const create = (): DataWriter => DATA_WRITERS[dataKind(def, kindOptions)]({ file: this.file, path: dataPath(this.name), def, rowsBefore: rows });
    const old = this.data;
    if (old === null) {
      this.data = create();
      return;
    }
    const k = nextReplacementIndex(this.usedK);
    if (k === null) throw new Error(`channel ${this.name}: no free data(k) left`);
    old.flush();
    old.setRows(rows);
    this.file.move(dataPath(this.name), replacedDataPath(this.name, k));
    let fresh: DataWriter;
    try {
      fresh = create();
    } catch (e) {
      this.lastEntry = null; // the next value is checked again
      try {
        this.file.move(replacedDataPath(this.name, k), dataPath(this.name));
      } catch {
        this.usedK.add(k);
        this.retired.push(old);
        this.data = null;
      }
      throw e;
    }
    this.usedK.add(k);
    this.retired.push(old);
    this.data = fresh;
  }

  /**
   * Records a row without a value (missing, malformed or not writable): fill value in `data`,
   * is_data_present 0, and the message's pulse id like every other row.
   */
  recordMissing(pulseId: number): void {
    this.data?.appendMissing();
    this.pulseId.pushInt64(pulseId);
    this.present.pushU8(0);
  }

  get due(): boolean {
    return this.pulseId.due || this.present.due || (this.data !== null && this.data.due);
  }

  /** Rows that can be recorded before any of the channel's batches is due. */
  get roomLeft(): number {
    const r = Math.min(this.pulseId.roomLeft, this.present.roomLeft);
    return this.data === null ? r : Math.min(r, this.data.roomLeft);
  }

  /** Appends the buffered rows of every dataset, each even when another fails; throws the first failure. */
  flush(): void {
    const data = this.data;
    eachThenThrow([() => data?.flush(), () => this.pulseId.flush(), () => this.present.flush()]);
  }

  /**
   * Sets every dataset to `rows` rows (data(k) only ever shrinks), each even when another fails;
   * throws the first failure. Dropping rows that are still buffered costs no HDF5 call.
   */
  setRows(rows: number): void {
    if (rows < this.rows) this.valueRowsKnown = false;
    const data = this.data;
    const steps = [() => data?.setRows(rows), () => this.pulseId.setRows(rows), () => this.present.setRows(rows)];
    for (const r of this.retired) steps.push(() => (r.rows > rows ? r.setRows(rows) : undefined));
    eachThenThrow(steps);
  }
}

/** Runs every step, whatever the others do; then throws the first failure, if any. */
export function eachThenThrow(steps: readonly (() => void)[]): void {
  let failed = false;
  let first: unknown;
  for (const step of steps) {
    try {
      step();
    } catch (e) {
      if (!failed) first = e;
      failed = true;
    }
  }
  if (failed) throw first;
}
