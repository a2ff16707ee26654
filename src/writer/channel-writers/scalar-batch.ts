// The rows of a data header's plain scalar channels, staged column by column in one block and
// handed to each channel's datasets in one append per dataset. A message's values are copied by
// one loop over typed arrays instead of three method calls per channel: at 10,000 channels the
// per-channel calls cost ~5 ms per message, half a core at 100 Hz (docs/performance.md).
//
// A channel qualifies (SwissFelFile decides) when its current `data` is a NumericColumn whose
// row is the frame's bytes as is (uncompressed little-endian, at most MAX_ROW_BYTES) and its
// definition is the header's entry. Per message a frame of exactly the row size is a value, an
// empty frame a missing value (fill row, is_data_present 0), exactly as the per-channel path
// records them; any other frame makes stage() refuse the whole message, which then takes the
// per-channel path (after drain(), so every channel's rows stay in order).
import { appendToMany, type NumericDataset } from '../../h5/index.js';
import type { PackedFrameList } from '../../transport/frame-list.js';
import type { Channel } from './channel.js';
import type { NumericColumn } from './column.js';
import { eachThenThrow } from './channel.js';

/** Rows above this size stay on the per-channel path (a batch holds capacity × row bytes per channel). */
export const MAX_ROW_BYTES = 64;
/** Rows staged before the batch must be drained (also drained at every flush). */
const MAX_ROWS = 128;
/** Bound on the staging block; fewer rows per batch for very many or wide channels. */
const MAX_BLOCK_BYTES = 64 * 1024 * 1024;

export interface BatchMember {
  readonly channel: Channel;
  /** The channel's `data` column when the batch was made (its rows are the frame bytes). */
  readonly column: NumericColumn;
  /** Index of the channel in the header (its value is frame 2 + 2 × index). */
  readonly index: number;
}

export class ScalarBatch {
  /** Rows staged so far. */
  rows = 0;
  readonly capacity: number;
  private readonly members: readonly BatchMember[];
  private readonly frameIndex: Int32Array;
  private readonly rowBytes: Int32Array;
  /** Byte offset of member j's rows in `values` (capacity × rowBytes[j] bytes each). */
  private readonly valueStart: Float64Array;
  private readonly values: Uint8Array;
  /** is_data_present of member j, row r at j × capacity + r. */
  private readonly present: Uint8Array;
  /** The message pulse id of each row, little-endian int64 (two uint32 words). */
  private readonly pulseIdWords: Uint32Array;
  /** 1 at the header indexes of members. */
  private readonly memberAt: Uint8Array;
  /** Per member: its data, pulse_id and is_data_present datasets, and where their rows start. */
  private readonly dataSets: NumericDataset[];
  private readonly pulseIdSets: NumericDataset[];
  private readonly presentSets: NumericDataset[];
  private readonly presentOffsets: Float64Array;
  private readonly zeroOffsets: Float64Array;
  /** Header index of the member whose frame made the last stage() refuse, else -1. */
  refusedBy = -1;

  constructor(members: readonly BatchMember[]) {
    this.members = members;
    const n = members.length;
    this.frameIndex = new Int32Array(n);
    this.rowBytes = new Int32Array(n);
    this.valueStart = new Float64Array(n);
    let rowTotal = 0;
    this.memberAt = new Uint8Array(members.reduce((a, m) => Math.max(a, m.index + 1), 0));
    for (let j = 0; j < n; j++) {
      const m = members[j]!;
      const rb = m.column.rowBytes;
      if (!(rb >= 1 && rb <= MAX_ROW_BYTES)) throw new RangeError(`ScalarBatch: ${m.channel.name} has ${rb}-byte rows (1..${MAX_ROW_BYTES})`);
      this.frameIndex[j] = 2 + 2 * m.index;
      this.rowBytes[j] = rb;
      this.memberAt[m.index] = 1;
      rowTotal += rb;
    }
    this.capacity = Math.max(1, Math.min(MAX_ROWS, Math.floor(MAX_BLOCK_BYTES / Math.max(1, rowTotal + 1))));
    let at = 0;
    for (let j = 0; j < n; j++) {
      this.valueStart[j] = at;
      at += this.capacity * this.rowBytes[j]!;
    }
    this.values = new Uint8Array(at);
    this.present = new Uint8Array(n * this.capacity);
    this.pulseIdWords = new Uint32Array(2 * this.capacity);
    this.dataSets = members.map((m) => m.column.dataset);
    this.pulseIdSets = members.map((m) => m.channel.pulseId.dataset);
    this.presentSets = members.map((m) => m.channel.present.dataset);
    this.presentOffsets = Float64Array.from(members, (_, j) => j * this.capacity);
    this.zeroOffsets = new Float64Array(n);
  }

  /** Whether header index i is a member. */
  has(i: number): boolean {
    return this.memberAt[i] === 1;
  }

  /**
   * Whether every member still writes the header entry's definition into the same column. A
   * member's definition can only change while another header is in use (its channel then takes
   * the per-channel path): check when a header comes back.
   */
  stillValid(entries: readonly object[]): boolean {
    for (const m of this.members) {
      if (m.channel.lastEntry !== entries[m.index] || m.channel.directColumn !== m.column) return false;
    }
    return true;
  }

  get full(): boolean {
    return this.rows >= this.capacity;
  }

  /**
   * Stages one message's row for every member; returns false, having staged nothing, when a
   * member's frame is neither empty nor exactly its row size (refusedBy says which; the caller
   * drains the batch and writes the message channel by channel). Call only when not full.
   */
  stage(frames: PackedFrameList, pulseId: number): boolean {
    const r = this.rows;
    const cap = this.capacity;
    const src = frames.data;
    const offsets = frames.offsets;
    const frameIndex = this.frameIndex;
    const rowBytes = this.rowBytes;
    const valueStart = this.valueStart;
    const values = this.values;
    const present = this.present;
    const n = frameIndex.length;
    for (let j = 0; j < n; j++) {
      const k = frameIndex[j]!;
      const s = offsets[k]!;
      const len = offsets[k + 1]! - s;
      const rb = rowBytes[j]!;
      const d = valueStart[j]! + r * rb;
      if (len === rb) {
        for (let b = 0; b < rb; b++) values[d + b] = src[s + b]!;
        present[j * cap + r] = 1;
      } else if (len === 0) {
        for (let b = 0; b < rb; b++) values[d + b] = 0;
        present[j * cap + r] = 0;
      } else {
        this.refusedBy = this.members[j]!.index;
        return false;
      }
    }
    const lo = pulseId % 4294967296;
    this.pulseIdWords[2 * r] = lo; // little-endian host (checked in column.ts)
    this.pulseIdWords[2 * r + 1] = (pulseId - lo) / 4294967296;
    this.rows = r + 1;
    return true;
  }

  /**
   * Appends the staged rows to every member's data, pulse_id and is_data_present, each even when
   * another fails (a refused append keeps its rows buffered in the column); empties the batch,
   * then throws the first failure.
   */
  drain(): void {
    const n = this.rows;
    if (n === 0) return;
    this.rows = 0;
    const cap = this.capacity;
    const present = this.present;
    const members = this.members;
    let buffered = false;
    for (let j = 0; j < members.length; j++) {
      const m = members[j]!;
      const ch = m.channel;
      let withValue = 0;
      for (let r = j * cap, end = j * cap + n; r < end; r++) withValue += present[r]!;
      ch.valueRows += withValue;
      if (m.column.buffered > 0 || ch.pulseId.buffered > 0 || ch.present.buffered > 0) buffered = true;
    }
    const pulseIds = new Uint8Array(this.pulseIdWords.buffer, 0, 8 * n);
    if (buffered) {
      // Some column has rows of its own to go first (a message written channel by channel):
      // column by column, each after its buffered rows.
      const steps: (() => void)[] = [];
      for (let j = 0; j < members.length; j++) {
        const m = members[j]!;
        const start = this.valueStart[j]!;
        const flags = present.subarray(j * cap, j * cap + n);
        steps.push(
          () => m.column.appendRows(this.values.subarray(start, start + n * this.rowBytes[j]!), n),
          () => m.channel.pulseId.appendRows(pulseIds, n),
          () => m.channel.present.appendRows(flags, n),
        );
      }
      eachThenThrow(steps);
      return;
    }
    // Three calls into the addon for all members' datasets. A dataset that refuses its rows
    // keeps them in its column instead (the next flush retries them).
    const failure: { first?: Error } = {};
    const settle = (append: () => Map<number, Error>, column: (m: BatchMember) => NumericColumn, bytes: (j: number) => Uint8Array): void => {
      let refused: Map<number, Error> | null;
      try {
        refused = append();
      } catch (e) {
        refused = null; // nothing was appended
        failure.first ??= e instanceof Error ? e : new Error(String(e));
      }
      for (let j = 0; j < members.length; j++) {
        const err = refused === null ? failure.first : refused.get(j);
        if (err === undefined) column(members[j]!).noteAppended(n);
        else {
          column(members[j]!).keepRows(bytes(j), n);
          failure.first ??= err;
        }
      }
    };
    const values = this.values;
    settle(
      () => appendToMany(this.dataSets, values, this.valueStart, n),
      (m) => m.column,
      (j) => values.subarray(this.valueStart[j]!, this.valueStart[j]! + n * this.rowBytes[j]!),
    );
    settle(
      () => appendToMany(this.pulseIdSets, pulseIds, this.zeroOffsets, n),
      (m) => m.channel.pulseId,
      () => pulseIds,
    );
    settle(
      () => appendToMany(this.presentSets, present, this.presentOffsets, n),
      (m) => m.channel.present,
      (j) => present.subarray(j * cap, j * cap + n),
    );
    if (failure.first !== undefined) throw failure.first;
  }
}
