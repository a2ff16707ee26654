// The writer's acquisition state machine: commands in, one file per acquisition out.
//
//   waiting ──start──▶ writing ──range complete / stop──▶ finished ──start (persistent)──▶ writing
//                         └──────── file or source error ──▶ error ──start──▶ writing
//
// Everything that touches ZeroMQ or HDF5 comes in through the constructor (OpenSource,
// CreateFile), so the REST layer and the tests drive it without sockets or files. Range
// decisions are the pure functions of range.ts. Nothing here ends the process: when the
// program should exit, `exitRequested` resolves and cli/ decides.
import { existsSync, unlinkSync } from 'node:fs';
import { BsreadReceiver, type BsreadMessage, type MessageFrames } from '../bsread/index.js';
import { DropCounter } from '../drop-counter.js';
import { BsreadError, errorMessage, type MalformedKind } from '../errors.js';
import type { Logger } from '../log.js';
import type { MessageSource, OpenSource, SourceKind } from './message-source.js';
import { DEV_NULL, makeOutputFolder, refuseExisting, resolveOutputPath } from './output-path.js';
import { advance, checkBounds, decide, isComplete, NO_PROGRESS, OPEN_RANGE, summarize, type PulseRange, type RangeProgress, type RangeSummary } from './range.js';
import { consistencyAttributes, consistencySummary, type ConsistencySummary } from './consistency.js';
import { computeProgress, describeProgress, NO_PROGRESS_REPORT, RateWindow, type Progress } from './progress.js';
import type { FlushTimes } from './swissfel-file.js';

export type WriterStatus = 'waiting' | 'writing' | 'finished' | 'error';

export const MANDATORY_PARAMETERS = ['general/created', 'general/user', 'general/process', 'general/instrument'] as const;

/** What the acquisition needs of an output file (SwissFelFile satisfies it). */
export interface OutputFile {
  write(msg: BsreadMessage): { channelErrors: number };
  flushIfDue(nowMs?: number): void;
  flush(): void;
  truncateAfter(lastPulseId: number): number;
  setAttributes(attrs: Record<string, string | number | bigint | number[]>): void;
  close(): void;
  readonly rows: number;
  readonly firstPulseId: number | null;
  readonly lastPulseId: number | null;
  readonly path: string;
  channelErrorCounts(): Record<string, number>;
  /** Flushes so far and their time (absent: not measured). */
  flushTimes?(): FlushTimes;
  /** The pulse id of every row, in row order (absent: only first, last and rows are known). */
  pulseIds?(): ArrayLike<number>;
  /** Rows with a value per channel, as the file holds them (absent: not known). */
  rowsWithValue?(): Record<string, number>;
}

export interface CreateFileOptions {
  path: string;
  overwrite: boolean;
  parameters: Record<string, string>;
}
export type CreateFile = (opts: CreateFileOptions) => OutputFile;

/** The commands the REST layer (or a test) sends; plain data. */
export type WriterCommand =
  | { readonly kind: 'set_parameters'; readonly parameters: Readonly<Record<string, unknown>> }
  | { readonly kind: 'start_pulse_id'; readonly pulseId: number }
  | { readonly kind: 'stop_pulse_id'; readonly pulseId: number }
  | { readonly kind: 'start_now'; readonly outputFile: string | null }
  | { readonly kind: 'stop_now' };

export interface CommandResult {
  readonly status: string;
}

export interface WriterStatistics {
  // The original's six fields (null where unset; last_pulse_id -1 before the first message).
  start_pulse_id: number | null;
  stop_pulse_id: number | null;
  start_timestamp: number | null;
  stop_timestamp: number | null;
  last_pulse_id: number;
  last_timestamp: number | null;
  // Ours.
  output_file: string | null;
  persistent: boolean;
  source: SourceKind | null;
  messages_received: number;
  messages_written: number;
  discarded_before_start: number;
  discarded_after_stop: number;
  discarded_repeated: number;
  control_messages: number;
  malformed: Record<string, number>;
  malformed_total: number;
  channel_errors: Record<string, number>;
  missing_pulse_ids: number;
  replay_gap: number;
  /** Messages the source dropped before the writer saw them (JetStream: a split message missing parts). */
  source_dropped: number;
  last_error: string | null;
  summary: ConsistencySummary | null;
  /** How far the acquisition is (while writing and after; null fields: not known). */
  progress: Progress;
  /** Flushes of the file: count, total and last duration in seconds (last null before the first). */
  flushes: { count: number; total_seconds: number; last_seconds: number | null };
}

/** The narrow interface the REST layer talks to. */
export interface AcquisitionControl {
  status(): WriterStatus;
  parameters(): Readonly<Record<string, string>>;
  statistics(): WriterStatistics;
  execute(command: WriterCommand): Promise<CommandResult>;
  /** GET /stop, SIGTERM, SIGINT: stop receiving, write what was accepted, close the file. */
  shutdown(reason: string): Promise<CommandResult>;
  /** GET /kill: flush what can be flushed and ask for an immediate exit. */
  kill(): void;
}

export interface ExitRequest {
  readonly code: number;
  readonly reason: string;
  /** true for /kill: exit without waiting for anything. */
  readonly immediate: boolean;
}

export interface AcquisitionOptions {
  openSource: OpenSource;
  createFile: CreateFile;
  /** The CLI's output_file (absolute, or /dev/null). */
  defaultOutputFile: string;
  overwrite: boolean;
  log: Logger;
  /** Wall clock in ms (tests replace it). */
  now?: () => number;
  /** How often the flush timer calls flushIfDue (ms). */
  flushTickMs?: number;
  /** Silence after stop_now after which a time-bounded range counts as complete (ms). */
  quietAfterStopMs?: number;
  /** How often the progress is logged while writing (ms; default 10 s). */
  progressLogMs?: number;
}

interface Counters {
  received: number;
  written: number;
  beforeStart: number;
  afterStop: number;
  repeated: number;
  control: number;
  channelErrors: number;
}

const zeroCounters = (): Counters => ({ received: 0, written: 0, beforeStart: 0, afterStop: 0, repeated: 0, control: 0, channelErrors: 0 });

/** One acquisition: a file, a source and the range. */
/** A finished run, as /statistics reports it until the next run starts. */
interface RunResult {
  readonly range: PulseRange;
  readonly progress: RangeProgress;
  readonly outputFile: string;
  readonly persistent: boolean;
  readonly source: SourceKind;
  readonly gap: number;
  readonly sourceDropped: number;
  readonly channelErrors: Record<string, number>;
  /** null when it could not be computed (the run failed). */
  readonly summary: ConsistencySummary | null;
  readonly error: string | null;
  /** The progress at the end, with the run's mean rates. */
  readonly progressReport: Progress;
  readonly flushes: FlushTimes;
}

const NO_FLUSHES: FlushTimes = { count: 0, totalSeconds: 0, lastSeconds: null };

class Run {
  progress: RangeProgress = NO_PROGRESS;
  endReason: string | null = null;
  error: unknown = null;
  done!: Promise<void>;
  /** First written pulse id (the start of a time-started range, for the progress). */
  firstWrittenPulseId: number | null = null;
  /** Wall clock at the first message received (ms), for the mean rates after the run. */
  firstReceivedMs: number | null = null;
  constructor(
    public range: PulseRange,
    readonly file: OutputFile,
    readonly source: MessageSource,
    readonly persistent: boolean,
  ) {}
}

export { DEV_NULL } from './output-path.js';

/** Checks the POST /parameters body; throws BsreadError with a message naming what is wrong. */
export function validateParameters(body: Readonly<Record<string, unknown>>): Record<string, string> {
  const keys = Object.keys(body);
  const missing = MANDATORY_PARAMETERS.filter((k) => !keys.includes(k));
  if (missing.length > 0) {
    throw new BsreadError(
      'BSREAD_ERR_INVALID_ARGUMENT',
      `Missing mandatory parameters ${missing.join(', ')}. Mandatory parameters '[${MANDATORY_PARAMETERS.join(', ')}]' but received '[${keys.join(', ')}]'.`,
    );
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) {
    if (typeof v !== 'string') {
      throw new BsreadError('BSREAD_ERR_INVALID_ARGUMENT', `parameter ${k} must be a string, got ${v === null ? 'null' : typeof v}`);
    }
    out[k] = v;
  }
  return out;
}

/** Longest stretch of message handling without a turn of the event loop (ms). */
const MAX_SLICE_MS = 20;

export class Acquisition implements AcquisitionControl {
  private state: WriterStatus = 'waiting';
  private params: Record<string, string> = {};
  /** Bounds set while no acquisition runs; they apply to the next start. */
  private pending: PulseRange = OPEN_RANGE;
  private run: Run | null = null;
  /** True between a start command and its run being set up (blocks a second start). */
  private starting = false;
  private shuttingDown = false;
  private counters: Counters = zeroCounters();
  /** The last finished run, as the statistics report it until the next run starts. */
  private lastRun: RunResult | null = null;
  private readonly receiver = new BsreadReceiver();
  private readonly malformed: DropCounter<MalformedKind>;
  private readonly now: () => number;
  /** Recent rates of the current run: messages received, rows written, handled pulse id. */
  private readonly receivedRate = new RateWindow();
  private readonly writtenRate = new RateWindow();
  private readonly pulseIdRate = new RateWindow();
  private resolveExit!: (r: ExitRequest) => void;
  /** Resolves once when the program should end (single-use run done, /stop, /kill, signal). */
  readonly exitRequested: Promise<ExitRequest>;

  constructor(private readonly opts: AcquisitionOptions) {
    this.now = opts.now ?? Date.now;
    this.malformed = new DropCounter<MalformedKind>(opts.log, 'message');
    this.exitRequested = new Promise((r) => (this.resolveExit = r));
  }

  status(): WriterStatus {
    return this.state;
  }

  parameters(): Readonly<Record<string, string>> {
    return this.params;
  }

  statistics(): WriterStatistics {
    const run = this.run;
    const last = this.lastRun;
    const range = run?.range ?? (this.state === 'waiting' || last?.summary == null ? this.pending : last.range);
    const progress = run?.progress ?? last?.progress ?? NO_PROGRESS;
    let missing = last?.summary?.missingPulseIds ?? 0;
    if (run !== null) {
      // While writing, pulses after the last written one may still come: count only gaps so far.
      missing = summarize({ ...run.range, stopPulseId: null }, run.file.firstPulseId, run.file.lastPulseId, run.file.rows).missingPulseIds;
    }
    const c = this.counters;
    const flushes = (run !== null ? safeFlushTimes(run.file) : null) ?? last?.flushes ?? NO_FLUSHES;
    return {
      start_pulse_id: range.startPulseId,
      stop_pulse_id: range.stopPulseId,
      start_timestamp: range.startTime,
      stop_timestamp: range.stopTime,
      last_pulse_id: progress.lastSeenPulseId ?? -1,
      last_timestamp: progress.lastSeenTime,
      output_file: run?.file.path ?? last?.outputFile ?? null,
      persistent: run?.persistent ?? last?.persistent ?? false,
      source: run?.source.kind ?? last?.source ?? null,
      messages_received: c.received,
      messages_written: c.written,
      discarded_before_start: c.beforeStart,
      discarded_after_stop: c.afterStop,
      discarded_repeated: c.repeated,
      control_messages: c.control,
      malformed: this.malformed.toJSON(),
      malformed_total: this.malformed.total(),
      channel_errors: run !== null ? safeChannelErrors(run.file) : (last?.channelErrors ?? {}),
      missing_pulse_ids: missing,
      replay_gap: run?.source.gap ?? last?.gap ?? 0,
      source_dropped: run?.source.dropped ?? last?.sourceDropped ?? 0,
      last_error: last?.error ?? null,
      summary: last?.summary ?? null,
      progress: run !== null ? this.progressOf(run) : (last?.progressReport ?? NO_PROGRESS_REPORT),
      flushes: { count: flushes.count, total_seconds: flushes.totalSeconds, last_seconds: flushes.lastSeconds },
    };
  }

  /** Takes one sample of the counters for the recent rates. */
  private sampleRates(run: Run): void {
    const t = this.now();
    this.receivedRate.add(t, this.counters.received);
    this.writtenRate.add(t, this.counters.written);
    if (run.progress.lastSeenPulseId !== null) this.pulseIdRate.add(t, run.progress.lastSeenPulseId);
  }

  /** The progress of a running acquisition, with the recent rates. */
  private progressOf(run: Run): Progress {
    this.sampleRates(run);
    return this.progressReport(run, this.writtenRate.rate(), this.receivedRate.rate(), this.pulseIdRate.rate());
  }

  private progressReport(run: Run, rowsPerS: number | null, receivedPerS: number | null, pulseIdsPerS: number | null): Progress {
    const r = run.range;
    return computeProgress({
      startPulseId: r.startPulseId ?? run.firstWrittenPulseId,
      stopPulseId: r.stopPulseId,
      startTime: r.startTime,
      stopTime: r.stopTime,
      lastPulseId: run.progress.lastSeenPulseId,
      lastTime: run.progress.lastSeenTime,
      complete: isComplete(r, run.progress),
      rowsPerS,
      receivedPerS,
      pulseIdsPerS,
    });
  }

  async execute(command: WriterCommand): Promise<CommandResult> {
    switch (command.kind) {
      case 'set_parameters':
        return this.setParameters(command.parameters);
      case 'start_pulse_id':
        return this.start({ ...this.pending, startPulseId: command.pulseId, startTime: null }, this.opts.defaultOutputFile, false, command.pulseId);
      case 'start_now': {
        const path = command.outputFile === null ? this.opts.defaultOutputFile : this.checkOutputFile(command.outputFile);
        return this.start({ ...this.pending, startPulseId: null, startTime: this.now() / 1000 }, path, command.outputFile !== null, null);
      }
      case 'stop_pulse_id':
        return this.setStop({ stopPulseId: command.pulseId, stopTime: null });
      case 'stop_now':
        return this.setStop({ stopPulseId: null, stopTime: this.now() / 1000 });
    }
  }

  private setParameters(body: Readonly<Record<string, unknown>>): CommandResult {
    if (this.run !== null || this.starting) {
      throw new BsreadError(
        'BSREAD_ERR_ACQUISITION_ACTIVE',
        'parameters cannot change while writing: the file was created with the parameters current at the start; POST them before the next start',
      );
    }
    this.params = validateParameters(body);
    return { status: this.state };
  }

  private checkOutputFile(path: string): string {
    return resolveOutputPath(path);
  }

  private ensureIdle(what: string): void {
    if (this.shuttingDown) throw new BsreadError('BSREAD_ERR_INVALID_STATE', `cannot ${what}: the writer is shutting down`);
    if (this.run !== null || this.starting) {
      const r = this.run?.range;
      const detail = r === undefined ? 'an acquisition is starting' : `writing ${describeRange(r)} to ${this.run!.file.path}`;
      throw new BsreadError('BSREAD_ERR_ACQUISITION_ACTIVE', `cannot ${what}: already ${detail}; stop it (GET /stop) or wait until it has finished`);
    }
  }

  private async start(range: PulseRange, path: string, persistent: boolean, fromPulseId: number | null): Promise<CommandResult> {
    this.ensureIdle('start');
    const bad = checkBounds(range);
    if (bad !== null) throw new BsreadError('BSREAD_ERR_INVALID_ARGUMENT', bad);
    refuseExisting(path, this.opts.overwrite, 'remove it, choose another output_file, or start the writer with --overwrite');
    for (const k of MANDATORY_PARAMETERS) {
      if (!(k in this.params)) this.opts.log.warn({ parameter: k }, `parameter ${k} was not POSTed before the start; the file gets "not given"`);
    }
    this.starting = true;
    let file: OutputFile | null = null;
    let createdHere = false;
    try {
      makeOutputFolder(path);
      const existed = path !== DEV_NULL && existsSync(path);
      file = this.opts.createFile({ path, overwrite: this.opts.overwrite, parameters: { ...this.params } });
      createdHere = !existed;
      const source = await this.opts.openSource(fromPulseId);
      if (this.shuttingDown) {
        await source.close();
        throw new BsreadError('BSREAD_ERR_INVALID_STATE', 'the writer is shutting down');
      }
      this.resetRunState();
      const run = new Run(range, file, source, persistent);
      this.run = run;
      this.state = 'writing';
      this.opts.log.info({ range: describeRange(range), output_file: file.path, source: source.kind, persistent, gap: source.gap }, 'acquisition started');
      run.done = this.loop(run);
      return { status: `writing ${describeRange(range)} to ${file.path}` };
    } catch (e) {
      if (file !== null) {
        try {
          file.close();
          if (createdHere && path !== DEV_NULL) unlinkSync(path);
        } catch {
          // best effort: the start failed anyway
        }
      }
      throw e;
    } finally {
      this.starting = false;
    }
  }

  private resetRunState(): void {
    this.counters = zeroCounters();
    this.malformed.reset();
    this.receiver.clearCache();
    this.lastRun = null;
    this.receivedRate.reset();
    this.writtenRate.reset();
    this.pulseIdRate.reset();
  }

  private setStop(stop: { stopPulseId: number | null; stopTime: number | null }): CommandResult {
    if (this.shuttingDown) throw new BsreadError('BSREAD_ERR_INVALID_STATE', 'cannot set a stop: the writer is shutting down');
    const run = this.run;
    if (run === null) {
      const next = { ...this.pending, ...stop };
      const bad = checkBounds(next);
      if (bad !== null) throw new BsreadError('BSREAD_ERR_INVALID_ARGUMENT', bad);
      this.pending = next;
      return { status: `stop set to ${describeRange(next)}; it applies to the next start` };
    }
    const next = { ...run.range, ...stop };
    const bad = checkBounds(next);
    if (bad !== null) throw new BsreadError('BSREAD_ERR_INVALID_ARGUMENT', bad);
    run.range = next;
    let removed = 0;
    if (next.stopPulseId !== null && run.progress.lastWrittenPulseId !== null && run.progress.lastWrittenPulseId > next.stopPulseId) {
      // The stop came late: rows past it were written already; they must not stay in the file.
      removed = this.guard(run, () => run.file.truncateAfter(next.stopPulseId!)) ?? 0;
      this.counters.written -= removed;
      this.counters.afterStop += removed;
      run.progress = { ...run.progress, lastWrittenPulseId: run.file.lastPulseId };
      this.opts.log.info({ stop_pulse_id: next.stopPulseId, rows_removed: removed }, 'late stop: rows after the stop pulse id removed');
    }
    const complete = isComplete(next, run.progress);
    if (complete) this.endRun(run, 'the last pulse seen is already past the stop');
    const parts = [`stop set: ${describeRange(next)}`];
    if (removed > 0) parts.push(`${removed} rows after the stop removed`);
    if (complete) parts.push('range complete, closing the file');
    return { status: parts.join('; ') };
  }

  /** Runs a file operation; a failure ends the run with status error. */
  private guard<T>(run: Run, op: () => T): T | undefined {
    try {
      return op();
    } catch (e) {
      this.failRun(run, e);
      return undefined;
    }
  }

  private failRun(run: Run, e: unknown): void {
    if (run.error === null) run.error = e;
    this.endRun(run, `error: ${errorMessage(e)}`);
  }

  private endRun(run: Run, reason: string): void {
    if (run.endReason !== null) return;
    run.endReason = reason;
    void run.source.close();
  }

  private async loop(run: Run): Promise<void> {
    const tick = setInterval(() => {
      this.guard(run, () => run.file.flushIfDue(this.now()));
      this.sampleRates(run);
    }, this.opts.flushTickMs ?? 200);
    const progressLog = setInterval(() => this.logProgress(run), this.opts.progressLogMs ?? 10_000);
    let sliceStart = performance.now();
    try {
      while (run.endReason === null) {
        let frames: MessageFrames | null;
        try {
          frames = await run.source.receive();
        } catch (e) {
          this.failRun(run, e);
          break;
        }
        if (frames === null) {
          if (run.endReason === null) await this.onQuiet(run);
          continue;
        }
        // Stopped (REST, signal) while the receive was pending: nothing is written after that.
        if (run.endReason !== null) break;
        this.onFrames(run, frames);
        // With a backlog every receive() resolves at once and this loop would run on microtasks
        // only: REST (/stop, /kill, /statistics), signals and the flush tick would wait for the
        // whole backlog. Give the event loop a turn every MAX_SLICE_MS of work.
        if (performance.now() - sliceStart >= MAX_SLICE_MS) {
          await new Promise<void>((r) => setImmediate(r));
          sliceStart = performance.now();
        }
      }
    } finally {
      clearInterval(tick);
      clearInterval(progressLog);
      await this.finishRun(run);
    }
  }

  private onFrames(run: Run, frames: MessageFrames): void {
    this.counters.received++;
    run.firstReceivedMs ??= this.now();
    const opened = this.receiver.tryOpen(frames);
    if (opened.status === 'malformed') {
      this.malformed.add(opened.error.kind, opened.error.message);
      return;
    }
    if (opened.status === 'not_data') {
      this.counters.control++;
      return;
    }
    const msg = opened.message;
    const ts = msg.globalTimestamp;
    const pulse = { pulseId: msg.pulseId, time: ts === null ? null : ts.sec + ts.ns * 1e-9 };
    const decision = decide(run.range, run.progress, pulse);
    switch (decision) {
      case 'early':
        this.counters.beforeStart++;
        break;
      case 'repeat':
        this.counters.repeated++;
        break;
      case 'late':
      case 'done':
        this.counters.afterStop++;
        break;
      case 'write': {
        const result = this.guard(run, () => run.file.write(msg));
        if (result === undefined) return;
        this.counters.written++;
        this.counters.channelErrors += result.channelErrors;
        run.firstWrittenPulseId ??= msg.pulseId;
        break;
      }
    }
    run.progress = advance(run.progress, pulse, decision);
    if (decision === 'late' || decision === 'done') this.endRun(run, `pulse ${pulse.pulseId} is past the stop`);
    else if (isComplete(run.range, run.progress)) this.endRun(run, 'stop pulse reached');
    else this.guard(run, () => run.file.flushIfDue(this.now()));
  }

  /** A receive timeout: is it known now that no more pulses of the range can come? */
  private async onQuiet(run: Run): Promise<void> {
    const r = run.range;
    if (isComplete(r, run.progress)) {
      this.endRun(run, 'range complete');
      return;
    }
    if (r.stopTime !== null && this.now() / 1000 - r.stopTime >= (this.opts.quietAfterStopMs ?? 1000) / 1000) {
      this.endRun(run, 'the stream was quiet after the stop time');
      return;
    }
    if (r.stopPulseId !== null && (run.source.kind === 'replay' || run.source.kind === 'jetstream')) {
      let newest: number | null = null;
      try {
        newest = await run.source.newestPulseId();
      } catch {
        newest = null;
      }
      // The buffer is past the stop, yet nothing came for a whole receive timeout: the rest of
      // the range was dropped for this consumer and will not come.
      if (newest !== null && newest >= r.stopPulseId && run.endReason === null) {
        this.endRun(run, `the source is at pulse ${newest}, past the stop, and sends nothing more`);
      }
    }
  }

  private async finishRun(run: Run): Promise<void> {
    await run.source.close();
    const file = run.file;
    const progressReport = this.finalProgress(run);
    let summary: ConsistencySummary | null = null;
    try {
      const base = summarize(run.range, file.firstPulseId, file.lastPulseId, file.rows);
      const present = run.error === null ? this.rowsWithValue(file) : null;
      summary = consistencySummary(base, run.range, file.pulseIds?.() ?? null, present);
      if (run.error === null) file.setAttributes({ ...summaryAttributes(summary, run.source.gap, run.endReason ?? ''), ...consistencyAttributes(summary) });
    } catch (e) {
      if (run.error === null) run.error = e;
    }
    const channelErrors = safeChannelErrors(file);
    const flushes = safeFlushTimes(file) ?? NO_FLUSHES;
    try {
      file.close();
    } catch (e) {
      if (run.error === null) run.error = e;
    }
    const error = run.error === null ? null : errorMessage(run.error);
    this.lastRun = {
      range: run.range,
      progress: run.progress,
      outputFile: file.path,
      persistent: run.persistent,
      source: run.source.kind,
      gap: run.source.gap,
      sourceDropped: run.source.dropped,
      channelErrors,
      summary,
      error,
      progressReport,
      flushes,
    };
    this.run = null;
    this.pending = OPEN_RANGE;
    if (error !== null) {
      this.state = 'error';
      this.opts.log.error({ err: error, output_file: file.path, summary }, 'acquisition failed; file closed as far as possible');
    } else {
      this.state = 'finished';
      this.opts.log.info({ output_file: file.path, reason: run.endReason, ...summary, replay_gap: run.source.gap, progress: progressReport }, 'acquisition finished');
    }
    if (!run.persistent && !this.shuttingDown && run.error === null) {
      this.resolveExit({ code: 0, reason: 'single-use acquisition finished', immediate: false });
    }
  }

  /** Per-channel counts for the summary; a failure to get them does not fail the acquisition. */
  private rowsWithValue(file: OutputFile): Record<string, number> | null {
    try {
      return file.rowsWithValue?.() ?? null;
    } catch (e) {
      this.opts.log.warn({ err: errorMessage(e), output_file: file.path }, 'rows with a value per channel not known: left out of the summary');
      return null;
    }
  }

  /** The progress at the end of a run: its fraction, and its mean rates since the first message instead of recent ones. */
  private finalProgress(run: Run): Progress {
    const seconds = run.firstReceivedMs === null ? 0 : (this.now() - run.firstReceivedMs) / 1000;
    const mean = (n: number): number | null => (seconds > 0 ? n / seconds : null);
    const p = this.progressReport(run, mean(this.counters.written), mean(this.counters.received), null);
    return p.fraction === 1 ? p : { ...p, eta_s: null };
  }

  /** One INFO line while writing: how far, how fast, how long still. */
  private logProgress(run: Run): void {
    if (run.endReason !== null) return;
    const p = this.progressOf(run);
    this.opts.log.info(
      { progress: p, last_pulse_id: run.progress.lastSeenPulseId, messages_received: this.counters.received, messages_written: this.counters.written },
      `progress: ${describeProgress(p)}`,
    );
  }

  async shutdown(reason: string): Promise<CommandResult> {
    const already = this.shuttingDown;
    this.shuttingDown = true;
    const run = this.run;
    if (run !== null) {
      this.endRun(run, `shutdown: ${reason}`);
      await run.done;
    }
    const failed = this.state === 'error';
    if (!already) {
      this.opts.log.info({ reason }, 'shutting down');
      this.resolveExit({ code: failed ? 1 : 0, reason, immediate: false });
    }
    const s = this.lastRun?.summary ?? null;
    const detail = s === null ? 'no file was open' : `file closed with ${s.rowsWritten} rows (pulses ${s.firstWrittenPulseId ?? '-'}..${s.lastWrittenPulseId ?? '-'})`;
    return { status: `stopped (${reason}); ${detail}` };
  }

  kill(): void {
    const run = this.run;
    if (run !== null) {
      try {
        run.file.flush();
      } catch {
        // exiting anyway; the file holds what the last periodic flush wrote
      }
    }
    this.resolveExit({ code: 0, reason: 'GET /kill', immediate: true });
  }
}

function safeFlushTimes(file: OutputFile): FlushTimes | null {
  try {
    return file.flushTimes?.() ?? null;
  } catch {
    return null;
  }
}

function safeChannelErrors(file: OutputFile): Record<string, number> {
  try {
    return file.channelErrorCounts();
  } catch {
    return {};
  }
}

export function describeRange(r: PulseRange): string {
  const start = r.startPulseId !== null ? `pulse ${r.startPulseId}` : r.startTime !== null ? `time ${r.startTime.toFixed(3)}` : 'any pulse';
  const stop = r.stopPulseId !== null ? `pulse ${r.stopPulseId}` : r.stopTime !== null ? `time ${r.stopTime.toFixed(3)}` : 'no stop yet';
  return `[${start} .. ${stop}]`;
}

/** Root attributes of the consistency summary (unset bounds are left out). */
export function summaryAttributes(s: RangeSummary, replayGap: number, endReason: string): Record<string, string | number> {
  const attrs: Record<string, string | number> = {
    rows_written: s.rowsWritten,
    missing_pulse_ids: s.missingPulseIds,
    replay_gap: replayGap,
    end_reason: endReason,
    writer: 'sf_bsread_writer (TypeScript)',
  };
  const optional: [string, number | null][] = [
    ['requested_start_pulse_id', s.requestedStartPulseId],
    ['requested_stop_pulse_id', s.requestedStopPulseId],
    ['requested_start_timestamp', s.requestedStartTime],
    ['requested_stop_timestamp', s.requestedStopTime],
    ['first_pulse_id', s.firstWrittenPulseId],
    ['last_pulse_id', s.lastWrittenPulseId],
  ];
  for (const [k, v] of optional) if (v !== null) attrs[k] = v;
  return attrs;
}
