// The SwissFEL file format (protocol §8.1, §8.2): decoded bsread messages in, one row per
// message for every channel, in the layout sf_bsread_writer produced, with these deliberate fixes:
// - channels are matched by name, not by index: a channel appearing midway gets rows (earlier
//   pulse ids, not present) before it, one that leaves the header gets missing rows from then
//   on (the original died);
// - every row's pulse_id is the message's pulse id, value or not (a missing or malformed value
//   has is_data_present 0), so channels join by pulse id;
// - definitions are compared on every message whose value is present (§11 item 8);
// - a malformed value of one channel is written as missing and counted, the rest of the
//   message is written (the original's thread died);
// - truncateAfter() really drops rows past the stop pulse (§11 item 9).
// Rows are collected in memory and appended in batches, at least every flushIntervalMs.
import { dirname, resolve } from 'node:path';
import type { BsreadMessage, ChannelEntry, DataHeader } from '../bsread/index.js';
import { BsreadError, H5Error, MalformedMessageError } from '../errors.js';
import { H5File } from '../h5/index.js';
import { Channel, eachThenThrow } from './channel-writers/channel.js';
import { MAX_ROW_BYTES as BATCH_MAX_ROW_BYTES, ScalarBatch, type BatchMember } from './channel-writers/scalar-batch.js';
import { checkOutputFolder, DEV_NULL, refuseExisting } from './output-path.js';
import { SpaceReserve } from './space-reserve.js';
import { checkValue } from './channel-writers/values.js';
import {
  DATA_GROUP,
  GENERAL_GROUP,
  GENERAL_KEYS,
  LARGE_ROW_BYTES,
  channelAncestors,
  channelNameProblem,
  generalPath,
  generalValues,
  definitionProblem,
  isDataPresentPath,
  rowBytesBound,
  CHANNEL_METADATA_BYTES,
  type BitshuffleStorage,
  type KindOptions,
} from './layout.js';

export type { BitshuffleStorage } from './layout.js';

export { DEV_NULL } from './output-path.js';

export interface SwissFelFileOptions {
  /** '/dev/null' → everything is done (in an in-memory HDF5 file) but no file is written. */
  path: string;
  /** Default false: an existing file is refused (BsreadError 'BSREAD_ERR_FILE_EXISTS'). */
  overwrite?: boolean;
  /** general/created, general/user, general/process, general/instrument (missing → "not given"). */
  parameters?: Record<string, string>;
  /**
   * bitshuffle_lz4 arrays: 'direct' (default) stores the received chunks as they are (filter
   * 32008, one row per chunk, no decompression: least CPU, smallest file; h5py needs the
   * bitshuffle plugin); 'decompress' stores plain rows that any HDF5 reader can read.
   */
  bitshuffle?: BitshuffleStorage;
  /**
   * 'direct' only: rows smaller than this (uncompressed) are decompressed and stored plain,
   * in multi-row chunks, because a chunk per row of a short waveform costs more in chunk index
   * than it saves. Default LARGE_ROW_BYTES (32 KiB); 0 stores every bitshuffle channel directly.
   */
  directMinRowBytes?: number;
  /** Default 1000: buffered rows reach the file at least this often (checked on each write and flushIfDue). */
  flushIntervalMs?: number;
  /**
   * Default true: image rows (one chunk each, written once) leave the page cache a flush after
   * they reached the disk (H5File.setDropBehind), instead of filling it with data this process
   * never reads. False keeps them cached, for readers of the file while it is written.
   */
  dropPageCache?: boolean;
  /**
   * Bytes held back beside the file in `.<name>.reserve-<pid>` (default DEFAULT_RESERVE_BYTES,
   * at most a quarter of the free space; 0: none). Writing stops (BSREAD_ERR_DISK_FULL) when
   * what the file may still need would not fit above it (checkSpace); close() deletes the
   * reserve first, so the file is closed with room to spare and stays readable with every row.
   */
  reserveBytes?: number;
}

/** Flushes of a file so far (count, total time) and the last one's time (null before the first). */
export interface FlushTimes {
  readonly count: number;
  readonly totalSeconds: number;
  readonly lastSeconds: number | null;
}

export interface WriteResult {
  /** Malformed channel values in this message (written as missing, counted by kind). */
  channelErrors: number;
}

/** Channel-error kinds of our own, beside the codec's MalformedKind values. */
export type WriterChannelErrorKind =
  | 'duplicate_channel'
  | 'bad_channel_name'
  | 'too_many_changes'
  /** libhdf5 refused to create the channel's datasets (the value is written as missing). */
  | 'h5_error'
  /** Any other unexpected exception while writing one channel's value (a bug; written as missing). */
  | 'internal_error';

/** How the channels of one data header map onto the file's channels (built once per header). */
interface HeaderPlan {
  /**
   * The header's plain scalar channels, written a batch of messages at a time (ScalarBatch);
   * null until made (at the plan's second message, once the first has set up the channels).
   */
  batch: ScalarBatch | null;
  /** With a batch: the header indexes it does not cover (written channel by channel). */
  others: number[];
  /** Messages written with this plan (when to make the batch). */
  messages: number;
  /** A channel outside the batch qualifies now: make the batch again at the next check. */
  batchStale: boolean;
  /**
   * Header indexes kept out of the batch because a frame of theirs made it refuse a message:
   * a channel that keeps sending frames of the wrong size must not send every message of the
   * header down the per-channel path.
   */
  readonly unbatched: Set<number>;
  /** The channel of each header index; null: not writable (duplicate or unusable name). */
  readonly slots: (Channel | null)[];
  /** Why a slot is null. */
  readonly slotErrors: (WriterChannelErrorKind | null)[];
  /** Known channels that this header lacks: they get missing rows. */
  readonly absent: Channel[];
  /** Channel-set version the plan was built for. */
  readonly version: number;
  /** Disk bytes one message of this header can need at most (values uncompressed; strings not counted). */
  readonly rowBytesBound: number;
}

const EMPTY_PARAMETERS: Record<string, string> = {};
/** LZ4 (also inside bitshuffle_lz4) turns one input byte into at most ~255 output bytes. */
const LZ4_MAX_EXPANSION = 256;
/** checkDefinition: the value is missing after all (not an error). */
const MISSING = '';

export class SwissFelFile {
  readonly path: string;
  private readonly file: H5File;
  private readonly parameters: Record<string, string>;
  private readonly kindOptions: KindOptions;
  private readonly flushIntervalMs: number;
  private readonly channels = new Map<string, Channel>();
  /** Every proper prefix (at a "/") of a channel name: groups that contain channels. */
  private readonly ancestors = new Set<string>();
  private channelVersion = 0;
  private readonly plans = new WeakMap<DataHeader, HeaderPlan>();
  private generalWritten = false;
  private rowCount = 0;
  private readonly reserve: SpaceReserve | null;
  /**
   * With a reserve: a bound on the bytes written since the last complete flush, which may still
   * be in memory (ours and libhdf5's) and not yet on disk, unseen by statfs: per message, every
   * value uncompressed plus the message's own size (strings, chunks stored as received).
   */
  private unflushedBytes = 0;

  /** The message pulse id of every row, in arrival order (for truncateAfter). */
  private rowPulseIds = new Float64Array(1024);
  private readonly errorCounts: Record<string, number> = {};
  private lastFlushMs: number;
  /** Messages to write before some batch can be due: the channels are only scanned then. */
  private untilDueCheck = 1;
  private closed = false;
  /** The batch holding staged rows, if any: drained before anything else reads or writes rows. */
  private staged: ScalarBatch | null = null;
  private batchedCount = 0;
  /** The plan of the last message written. */
  private lastPlan: HeaderPlan | null = null;
  private flushStats: FlushTimes = { count: 0, totalSeconds: 0, lastSeconds: null };

  private constructor(file: H5File, opts: SwissFelFileOptions, reserve: SpaceReserve | null) {
    this.file = file;
    this.reserve = reserve;
    this.path = opts.path;
    this.parameters = opts.parameters ?? EMPTY_PARAMETERS;
    this.kindOptions = {
      bitshuffle: opts.bitshuffle ?? 'direct',
      directMinRowBytes: opts.directMinRowBytes ?? LARGE_ROW_BYTES,
    };
    this.flushIntervalMs = opts.flushIntervalMs ?? 1000;
    this.lastFlushMs = Date.now();
  }

  /**
   * Creates the file now, so that "exists" and "unusable path" surface before any pulse is
   * accepted. Throws BsreadError BSREAD_ERR_FILE_EXISTS (existing file, overwrite not set) or
   * BSREAD_ERR_OUTPUT_PATH (missing or unwritable folder, path is a folder...).
   */
  static create(opts: SwissFelFileOptions): SwissFelFile {
    if (opts.bitshuffle !== undefined && opts.bitshuffle !== 'direct' && opts.bitshuffle !== 'decompress') {
      throw new BsreadError('BSREAD_ERR_INVALID_ARGUMENT', `bitshuffle storage must be 'direct' or 'decompress', not ${String(opts.bitshuffle)}`);
    }
    if (opts.flushIntervalMs !== undefined && !(opts.flushIntervalMs >= 0)) {
      throw new BsreadError('BSREAD_ERR_INVALID_ARGUMENT', `flushIntervalMs must be a non-negative number, not ${opts.flushIntervalMs}`);
    }
    const file = openOutput(opts.path, opts.overwrite === true);
    if (opts.dropPageCache !== false && opts.path !== DEV_NULL) {
      try {
        file.setDropBehind(true);
      } catch (e) {
        file.close();
        throw e;
      }
    }
    const reserve = opts.path === DEV_NULL ? null : SpaceReserve.create(opts.path, opts.reserveBytes);
    return new SwissFelFile(file, opts, reserve);
  }

  /** Messages written (rows per channel). */
  get rows(): number {
    return this.rowCount;
  }

  get firstPulseId(): number | null {
    return this.rowCount === 0 ? null : this.rowPulseIds[0]!;
  }

  get lastPulseId(): number | null {
    return this.rowCount === 0 ? null : this.rowPulseIds[this.rowCount - 1]!;
  }

  /** Messages whose plain scalar channels went through a ScalarBatch (the rest channel by channel). */
  get batchedMessages(): number {
    return this.batchedCount;
  }

  /** Malformed channel values so far, by kind (MalformedKind or WriterChannelErrorKind). */
  channelErrorCounts(): Record<string, number> {
    return { ...this.errorCounts };
  }

  /**
   * Writes one row for every channel known so far: the message's channels (matched by name)
   * and, as missing, known channels the message lacks. Malformed values are written as missing
   * and counted. No problem of one channel escapes: a malformed value, an unusable definition or
   * a libhdf5 failure creating that channel's datasets makes its value missing and is counted
   * (channelErrorCounts); the other channels are written and rows stay aligned. Throws H5Error
   * only for file-level failures (/general, appending batches, flushing); the row then stays in
   * memory (a later flush or close retries it) and the object stays closable. Throws
   * BsreadError BSREAD_ERR_DISK_FULL, with nothing recorded, when the disk is almost full
   * (see reserveBytes): close the file then. An image row of a
   * lent message (msg.borrowed) is written at once instead of batched; when that write fails,
   * the channel's value is counted as an h5_error and the row is missing for that channel.
   */
  write(msg: BsreadMessage): WriteResult {
    this.checkOpen();
    const row = this.rowCount;
    const pid = msg.pulseId;
    if (!this.generalWritten) this.writeGeneral();
    const plan = this.planFor(msg.header);
    if (plan !== this.lastPlan) this.switchPlan(plan, msg);
    this.prepareBatch(plan, msg);
    const lowSpace = this.checkSpace(msg, plan);
    const slots = plan.slots;
    let errors = 0;
    const batch = plan.batch;
    const frames = msg.packedFrames;
    let staged = false;
    if (batch !== null) {
      if (frames !== null && batch.stage(frames, pid)) {
        staged = true;
        this.staged = batch;
        this.batchedCount++;
      } else {
        this.drainBatch(); // this message goes channel by channel, after the staged rows
        if (frames !== null && batch.refusedBy >= 0) {
          // Made again without that channel, for the messages after this one.
          plan.unbatched.add(batch.refusedBy);
          this.makeBatch(plan, msg);
        }
      }
    }
    try {
      if (staged) {
        for (const i of plan.others) errors += this.writeSlot(plan, msg, i, row, pid);
      } else {
        for (let i = 0; i < slots.length; i++) errors += this.writeSlot(plan, msg, i, row, pid);
      }
      for (const ch of plan.absent) ch.recordMissing(pid);
    } catch (e) {
      try {
        this.drainBatch();
      } catch {
        // rows a dataset refused stay buffered in their columns: counted by setRows below
      }
      // Leave every channel at `row` rows: what this message recorded is only in memory.
      for (const ch of this.channels.values()) if (ch.rows > row) ch.setRows(row);
      throw e;
    }
    this.pushRowPulseId(pid);
    this.rowCount = row + 1;
    if (staged && batch!.full) this.drainBatch();
    // The row is complete in memory; now the I/O (which may throw and is retried later).
    if (lowSpace) this.flush();
    else {
      if (--this.untilDueCheck <= 0) this.writeDueBatches();
      this.flushIfDue();
    }
    return { channelErrors: errors };
  }

  /** Flushes when flushIntervalMs has passed since the last flush. */
  flushIfDue(nowMs: number = Date.now()): void {
    if (this.closed) return;
    if (nowMs - this.lastFlushMs >= this.flushIntervalMs) this.flush();
  }

  /**
   * Appends every buffered row, then H5Fflush. A failing channel does not keep the others'
   * rows from the file: every channel is flushed, then the first failure is thrown.
   */
  flush(): void {
    this.checkOpen();
    this.lastFlushMs = Date.now(); // also on failure: no retry storm on every message
    const started = performance.now();
    const steps: (() => void)[] = [() => this.drainBatch()];
    for (const ch of this.channels.values()) steps.push(() => ch.flush());
    steps.push(() => this.file.flush());
    try {
      eachThenThrow(steps);
    } finally {
      const seconds = (performance.now() - started) / 1000;
      this.flushStats = { count: this.flushStats.count + 1, totalSeconds: this.flushStats.totalSeconds + seconds, lastSeconds: seconds };
    }
    this.unflushedBytes = 0;
  }

  /** Flushes so far and the time they took (for the writer's /metrics). */
  flushTimes(): FlushTimes {
    return this.flushStats;
  }

  /** The message pulse id of every row, in row order (a view: copy it to keep it). */
  pulseIds(): Float64Array {
    return this.rowPulseIds.subarray(0, this.rowCount);
  }

  /**
   * Rows with a value (is_data_present 1) per channel, as the file holds them: counted while
   * recording; a channel whose rows were cut (late stop, a failed message) is read back from
   * its is_data_present after a flush.
   */
  rowsWithValue(): Record<string, number> {
    this.drainBatch();
    const out: Record<string, number> = {};
    let flushed = false;
    for (const [name, ch] of this.channels) {
      if (ch.valueRowsKnown) {
        out[name] = ch.valueRows;
        continue;
      }
      if (!flushed) this.flush();
      flushed = true;
      const d = this.file.read(isDataPresentPath(name));
      const flags = Buffer.isBuffer(d.data) ? d.data : null;
      let n = 0;
      if (flags !== null) for (let r = 0; r < this.rowCount && r < flags.length; r++) n += flags[r] === 1 ? 1 : 0;
      out[name] = n;
    }
    return out;
  }

  /**
   * With a reserve (SpaceReserve): throws BSREAD_ERR_DISK_FULL, with nothing recorded, when the
   * free space minus what this message and the unflushed rows may need minus the channels'
   * metadata allowance is below the reserve, so that the file is closed while the reserve guarantees the room
   * to do it (libhdf5 does not recover from a write that found the disk full). Returns true when
   * the unflushed rows should go to the file now (they are more than the headroom left), so that
   * statfs sees them.
   */
  private checkSpace(msg: BsreadMessage, plan: HeaderPlan): boolean {
    const r = this.reserve;
    if (r === null) return false;
    const disk = r.freeBytes();
    if (disk === null) return false;
    const metadata = this.channels.size * CHANNEL_METADATA_BYTES;
    // A value cannot decompress to more than LZ4's largest expansion of its bytes, whatever its
    // header declares: a header that claims absurd shapes (a malformed message, dropped by the
    // channel writers) must not stop the file on a disk with room.
    const need = Math.min(plan.rowBytesBound, LZ4_MAX_EXPANSION * msg.byteLength) + msg.byteLength;
    const headroom = disk - r.bytes - metadata - this.unflushedBytes - need;
    if (headroom < 0) {
      throw new BsreadError(
        'BSREAD_ERR_DISK_FULL',
        `almost no space left on the disk of ${this.path}: ${disk} bytes free, up to ${this.unflushedBytes + need + metadata} of them needed by rows ` +
          `not yet flushed and the file's metadata, and ${r.bytes} held back to close the file; writing stops here, the file keeps every row so far`,
      );
    }
    this.unflushedBytes += need;
    return headroom < this.unflushedBytes;
  }

  /**
   * Drops the trailing rows whose message pulse id is above `lastPulseId` (rows are in arrival
   * order), buffered or already written; returns how many rows were dropped.
   */
  truncateAfter(lastPulseId: number): number {
    this.checkOpen();
    this.drainBatch();
    let n = this.rowCount;
    while (n > 0 && this.rowPulseIds[n - 1]! > lastPulseId) n--;
    const dropped = this.rowCount - n;
    if (dropped === 0) return 0;
    for (const ch of this.channels.values()) ch.setRows(n);
    this.rowCount = n;
    return dropped;
  }

  /**
   * Sets attributes on the root group: strings, bigint (int64), integral numbers (int64),
   * other numbers (float64), number arrays (int64 when all integral, else float64).
   */
  setAttributes(attrs: Record<string, string | number | bigint | number[]>): void {
    this.checkOpen();
    for (const [name, v] of Object.entries(attrs)) {
      if (typeof v === 'number') {
        this.file.setAttribute('/', name, Number.isSafeInteger(v) ? BigInt(v) : v);
      } else if (Array.isArray(v)) {
        const ints = v.every((x) => Number.isSafeInteger(x));
        this.file.setAttribute('/', name, ints ? BigInt64Array.from(v, (x) => BigInt(x)) : Float64Array.from(v));
      } else {
        this.file.setAttribute('/', name, v);
      }
    }
  }

  /**
   * Gives back the reserved disk space, flushes, cuts every dataset to exactly `rows` rows,
   * closes. Idempotent. Every channel is flushed and cut even when another fails, and the file
   * handle is always released; then the first failure is thrown.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.reserve?.release();
    const rows = this.rowCount;
    const steps: (() => void)[] = [() => this.drainBatch()];
    for (const ch of this.channels.values()) {
      steps.push(
        () => ch.flush(),
        () => ch.setRows(rows),
      );
    }
    steps.push(
      () => this.file.flush(),
      () => this.file.close(),
    );
    eachThenThrow(steps);
  }

  // -------------------------------------------------------------------------------------------

  private checkOpen(): void {
    if (this.closed) throw new H5Error(`${this.path} is closed`, undefined, { code: 'H5_ERR_CLOSED' });
  }

  private count(kind: string): void {
    this.errorCounts[kind] = (this.errorCounts[kind] ?? 0) + 1;
  }

  private pushRowPulseId(pid: number): void {
    if (this.rowCount === this.rowPulseIds.length) {
      const bigger = new Float64Array(this.rowPulseIds.length * 2);
      bigger.set(this.rowPulseIds);
      this.rowPulseIds = bigger;
    }
    this.rowPulseIds[this.rowCount] = pid;
  }

  /** Appends the batches that are due; notes when the next one can be. */
  private writeDueBatches(): void {
    this.untilDueCheck = 1; // if an append throws: scan again after the next message
    let room = Infinity;
    for (const ch of this.channels.values()) {
      if (ch.due) ch.flush();
      const r = ch.roomLeft;
      if (r < room) room = r;
    }
    this.untilDueCheck = Math.max(1, room === Infinity ? 1 : room);
  }

  /** /general/* as sf_bsread_writer: at the first written message, scalar fixed-length strings. */
  private writeGeneral(): void {
    const values = generalValues(this.parameters);
    this.file.group(GENERAL_GROUP);
    for (const k of GENERAL_KEYS) this.file.writeScalarString(generalPath(k), values[k]);
    this.file.group(DATA_GROUP);
    this.generalWritten = true;
  }

  /** Records header slot i of msg (writeValue, or the slot's error); returns the errors counted (0 or 1). */
  private writeSlot(plan: HeaderPlan, msg: BsreadMessage, i: number, row: number, pid: number): number {
    const ch = plan.slots[i]!;
    if (ch === null) {
      if (!msg.isPresent(i)) return 0;
      this.count(plan.slotErrors[i]!);
      return 1;
    }
    const entry = msg.header.channels[i]!;
    const problem = this.writeValue(ch, msg, i, entry, row, pid);
    if (!plan.batchStale && plan.messages >= 2 && !(plan.batch?.has(i) ?? false) && !plan.unbatched.has(i) && batchable(ch, entry, msg, i)) plan.batchStale = true;
    if (problem === null) return 0;
    this.count(problem);
    return 1;
  }

  /**
   * Another header than the last message's: the staged rows go to the file first, and a batch
   * made for this header earlier is dropped when a channel's definition changed meanwhile
   * (made again at the next message).
   */
  private switchPlan(plan: HeaderPlan, msg: BsreadMessage): void {
    this.drainBatch();
    this.lastPlan = plan;
    if (plan.batch !== null && !plan.batch.stillValid(msg.header.channels)) {
      plan.batch = null;
      plan.others = [];
      plan.messages = 0; // this message goes channel by channel; the next one makes the batch
    }
  }

  /** Appends the staged rows of the batch in use, if any (ScalarBatch.drain). */
  private drainBatch(): void {
    const b = this.staged;
    if (b === null) return;
    this.staged = null;
    b.drain();
  }

  /**
   * Makes the plan's batch at its second message (the first has created the channels' `data`),
   * and again when a channel outside it has come to qualify (checked every BATCH_RECHECK
   * messages, so that channels trickling in do not remake it each time).
   */
  private prepareBatch(plan: HeaderPlan, msg: BsreadMessage): void {
    plan.messages++;
    const due = (plan.batch === null && plan.messages === 2) || (plan.batchStale && plan.messages % BATCH_RECHECK === 0);
    if (due) this.makeBatch(plan, msg);
  }

  /** (Re)makes the plan's batch of the channels that qualify now and are not kept out of it. */
  private makeBatch(plan: HeaderPlan, msg: BsreadMessage): void {
    if (this.staged === plan.batch) this.drainBatch();
    plan.batchStale = false;
    const members: BatchMember[] = [];
    const others: number[] = [];
    const entries = msg.header.channels;
    for (let i = 0; i < plan.slots.length; i++) {
      const ch = plan.slots[i]!;
      if (ch !== null && !plan.unbatched.has(i) && batchable(ch, entries[i]!, msg, i)) members.push({ channel: ch, column: ch.directColumn!, index: i });
      else others.push(i);
    }
    plan.batch = members.length > 0 ? new ScalarBatch(members) : null;
    plan.others = others;
  }

  /**
   * Records channel `i` of `msg` as row `row` of `ch`. Never throws for a problem of this channel
   * (rule: one channel's trouble must not stop the recording): a malformed value, an unusable
   * definition, or a failure to create the channel's new dataset (H5Error) becomes a missing row
   * and the returned error kind; the channel stays at exactly `row` + 1 rows.
   */
  private writeValue(ch: Channel, msg: BsreadMessage, i: number, entry: ChannelEntry, row: number, pid: number): string | null {
    try {
      // Fast path: same definition as last time, value stored as is (most scalar channels).
      if (entry === ch.lastEntry) {
        const col = ch.directColumn;
        if (col !== null && col.pushValueOf(msg, i)) {
          ch.pulseId.pushInt64(pid);
          ch.present.pushU8(1);
          ch.valueRows++;
          return null;
        }
      }
      if (!msg.isPresent(i)) {
        ch.recordMissing(pid);
        return null;
      }
      if (entry !== ch.lastEntry) {
        const problem = this.checkDefinition(ch, entry, msg, i);
        if (problem !== null) {
          ch.recordMissing(pid);
          return problem === MISSING ? null : problem;
        }
      }
      if (ch.data!.append(msg, i)) {
        ch.pulseId.pushInt64(pid);
        ch.present.pushU8(1);
        ch.valueRows++;
      } else {
        ch.pulseId.pushInt64(pid);
        ch.present.pushU8(0);
      }
      return null;
    } catch (e) {
      const kind = e instanceof MalformedMessageError ? e.kind : e instanceof H5Error ? 'h5_error' : 'internal_error';
      // Whatever was recorded for this row is only buffered: drop it, then record a missing row.
      if (ch.rows > row || (ch.data !== null && ch.data.rows > row)) ch.setRows(row);
      ch.recordMissing(pid);
      return kind;
    }
  }

  /**
   * A present value whose entry object differs from the last one seen: same definition (a new
   * header with the same channel) → nothing to do; new definition → a new `data` (§8.2), but
   * only once the value is known to be good for it: it is obtained and checked first (a
   * definition change seen with a missing value is ignored, one with a malformed value throws
   * its MalformedMessageError and is ignored too). Returns a problem kind when the value cannot
   * be written, MISSING when it turned out to be missing (both: written as missing).
   */
  private checkDefinition(ch: Channel, entry: ChannelEntry, msg: BsreadMessage, i: number): string | null {
    if (entry.invalid !== undefined) return entry.invalid.kind; // not remembered: checked each time
    const current = ch.data;
    if (current === null || current.def.key !== entry.key) {
      if (definitionProblem(entry, this.kindOptions) !== null) return 'bad_field';
      if (!checkValue(entry, this.kindOptions, msg, i)) return MISSING;
      if (!ch.canReplace) return 'too_many_changes';
      ch.startData(entry, this.kindOptions);
      this.untilDueCheck = 1;
    }
    ch.lastEntry = entry;
    return null;
  }

  /** The channel mapping of a data header; creates the channels it introduces. */
  private planFor(header: DataHeader): HeaderPlan {
    const cached = this.plans.get(header);
    if (cached !== undefined && cached.version === this.channelVersion) return cached;
    const entries = header.channels;
    const slots: (Channel | null)[] = new Array<Channel | null>(entries.length).fill(null);
    const slotErrors: (WriterChannelErrorKind | null)[] = new Array<WriterChannelErrorKind | null>(entries.length).fill(null);
    const seen = new Set<string>();
    for (let i = 0; i < entries.length; i++) {
      const name = entries[i]!.name;
      if (seen.has(name)) {
        slotErrors[i] = 'duplicate_channel';
        continue;
      }
      seen.add(name);
      if (channelNameProblem(name) !== null) {
        slotErrors[i] = 'bad_channel_name';
        continue;
      }
      let ch = this.channels.get(name);
      if (ch === undefined) {
        // Inside another channel's group, or its group would contain another channel.
        const ancestors = channelAncestors(name);
        if (this.ancestors.has(name) || ancestors.some((a) => this.channels.has(a))) {
          slotErrors[i] = 'bad_channel_name';
          continue;
        }
        try {
          ch = new Channel(this.file, name, this.rowPulseIds.subarray(0, this.rowCount));
        } catch (e) {
          // libhdf5 refused the group or its datasets: this channel only is not written (the
          // plan is rebuilt, and creation retried, when the set of channels changes).
          slotErrors[i] = e instanceof H5Error ? 'h5_error' : 'internal_error';
          continue;
        }
        this.channels.set(name, ch);
        for (const a of ancestors) this.ancestors.add(a);
        this.channelVersion++;
        this.untilDueCheck = 1;
      }
      slots[i] = ch;
    }
    const absent: Channel[] = [];
    for (const [name, ch] of this.channels) if (!seen.has(name)) absent.push(ch);
    let rowBound = 0;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      // Definitions the file cannot take (absurd shapes...) are written as missing: no bytes.
      if (slots[i] !== null && e.invalid === undefined && definitionProblem(e, this.kindOptions) === null) rowBound += rowBytesBound(e);
    }
    rowBound += 9 * absent.length;
    const plan: HeaderPlan = {
      slots,
      slotErrors,
      absent,
      version: this.channelVersion,
      rowBytesBound: rowBound,
      batch: null,
      others: [],
      messages: 0,
      batchStale: false,
      unbatched: new Set(),
    };
    this.plans.set(header, plan);
    return plan;
  }
}

/** How often (messages) a plan checks whether its batch should be made again. */
const BATCH_RECHECK = 100;

/**
 * Whether the channel's value can be batched: its `data` is a numeric column of the header
 * entry's definition whose rows are the value frame's bytes as is, and small.
 */
function batchable(ch: Channel, entry: ChannelEntry, msg: BsreadMessage, i: number): boolean {
  const col = ch.directColumn;
  if (col === null || ch.lastEntry !== entry) return false;
  const n = msg.directValueBytes(i);
  return n === col.rowBytes && n <= BATCH_MAX_ROW_BYTES;
}

/** Opens the output: an in-memory file for /dev/null, else a new file with clear errors. */
function openOutput(path: string, overwrite: boolean): H5File {
  if (typeof path !== 'string' || path.length === 0) {
    throw new BsreadError('BSREAD_ERR_OUTPUT_PATH', 'no output file given');
  }
  if (path === DEV_NULL) return H5File.createInMemory();
  const OVERWRITE_HINT = 'overwrite not allowed';
  refuseExisting(path, overwrite, OVERWRITE_HINT);
  checkOutputFolder(path);
  try {
    return H5File.create(path, { overwrite });
  } catch (e) {
    // Without overwrite the path did not exist a moment ago: if it does now, someone else
    // created it in between, which is the same refusal.
    if (!overwrite) refuseExisting(path, false, OVERWRITE_HINT);
    const why = e instanceof Error ? e.message : String(e);
    throw new BsreadError('BSREAD_ERR_OUTPUT_PATH', `cannot create ${path} (is ${dirname(resolve(path))} writable?): ${why}`, { cause: e });
  }
}
