// `bsread h5`: receive messages and write them to an HDF5 file in the SwissFEL layout, with the
// writer's own file code (SwissFelFile: one row per message for every channel, /general, the
// consistency summary as root attributes). Like PSI's `bs h5`: from -s ADDRESS, or from a
// dispatcher stream of the named channels; N messages (-n) or until SIGINT/SIGTERM, then the
// file is closed cleanly with every message received so far.
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { BsreadMessage, BsreadReceiver, type DataHeader, type MessageFrames } from '../bsread/index.js';
import { DropCounter } from '../drop-counter.js';
import { errorMessage } from '../errors.js';
import { createLogger, LOG_LEVEL_NAMES, type Logger, type LogLevelName } from '../log.js';
import { StreamReceiver } from '../transport/index.js';
import { summaryAttributes } from '../writer/acquisition.js';
import { DEV_NULL, refuseExisting } from '../writer/output-path.js';
import { OPEN_RANGE, summarize } from '../writer/range.js';
import { SwissFelFile, type BitshuffleStorage } from '../writer/swissfel-file.js';
import { choiceOption, integerOption, UsageError } from './option-parsers.js';
import { untilSignal } from './run-cli.js';
import { openCounting, openSource, sourceOptions, type OpenedSource, type SourceOptions, type ToolDrops } from './stream-source.js';

interface H5Options extends SourceOptions {
  n_messages?: number;
  overwrite: boolean;
  bitshuffle: BitshuffleStorage;
  log_level: LogLevelName;
}

/** What the run did, for the summary line and the exit status. */
export interface H5Result {
  readonly path: string;
  readonly written: number;
  readonly firstPulseId: number | null;
  readonly lastPulseId: number | null;
  readonly malformed: number;
  readonly channelErrors: number;
  /** Requested channels (-s with channel names) that no message contained. */
  readonly neverSeen: readonly string[];
  /** null: ended as asked (-n reached or a signal). */
  readonly error: string | null;
}

/** The one-line summary printed on stderr at the end. */
export function formatH5Summary(r: H5Result): string {
  const range = r.firstPulseId === null ? 'no pulse ids' : `pulse ids ${r.firstPulseId}..${r.lastPulseId}`;
  const extras: string[] = [];
  if (r.malformed > 0) extras.push(`${r.malformed} malformed messages skipped`);
  if (r.channelErrors > 0) extras.push(`${r.channelErrors} malformed values written as missing`);
  if (r.neverSeen.length > 0) extras.push(`channels never seen: ${r.neverSeen.join(', ')}`);
  if (r.error !== null) extras.push(`stopped by an error: ${r.error}`);
  return `bsread h5: ${r.written} messages written to ${r.path}, ${range}${extras.length > 0 ? `; ${extras.join('; ')}` : ''}`;
}

/** The /general values of a file written by this tool (the writer gets them over REST). */
export function generalParameters(now: Date = new Date()): Record<string, string> {
  let user = process.env['USER'] ?? process.env['LOGNAME'];
  if (user === undefined || user === '') {
    try {
      user = userInfo().username;
    } catch {
      user = String(process.getuid?.() ?? 'unknown');
    }
  }
  return { created: now.toISOString(), user, process: 'bsread h5' };
}

interface HeaderSelection {
  readonly header: DataHeader;
  /** Indexes into the original header of the kept channels, in frame order. */
  readonly indexes: readonly number[];
  /** true: every channel is kept, the message is written as it is. */
  readonly all: boolean;
}

/**
 * With -s and channel names: the message reduced to those channels (frames 0 and 1 as received,
 * then the kept channels' value and timestamp frames; no copy of any value). The reduced header
 * is made once per received header, so the file's per-header plan is reused too.
 */
export class ChannelFilter {
  private readonly selections = new WeakMap<DataHeader, HeaderSelection>();
  readonly seen = new Set<string>();

  constructor(readonly wanted: ReadonlySet<string>) {}

  apply(msg: BsreadMessage): BsreadMessage {
    const sel = this.selectionFor(msg.header);
    if (sel.all) return msg;
    const frames = msg.frames;
    const kept: Uint8Array[] = [frames[0]!, frames[1]!];
    for (const i of sel.indexes) kept.push(frames[2 + 2 * i]!, frames[3 + 2 * i]!);
    return new BsreadMessage(msg.main, sel.header, kept);
  }

  private selectionFor(header: DataHeader): HeaderSelection {
    let sel = this.selections.get(header);
    if (sel === undefined) {
      const indexes: number[] = [];
      header.channels.forEach((c, i) => {
        if (this.wanted.has(c.name)) {
          indexes.push(i);
          this.seen.add(c.name);
        }
      });
      const channels = indexes.map((i) => header.channels[i]!);
      const indexByName = new Map<string, number>();
      channels.forEach((c, k) => {
        if (!indexByName.has(c.name)) indexByName.set(c.name, k);
      });
      sel = { header: { htype: header.htype, channels, indexByName }, indexes, all: indexes.length === header.channels.length };
      this.selections.set(header, sel);
    }
    return sel;
  }
}

export function registerH5(program: Command): void {
  const cmd = program.command('h5');
  for (const o of sourceOptions()) cmd.addOption(o);
  cmd
    .description('write received messages to an HDF5 file in the SwissFEL layout (as sf_bsread_writer writes it)')
    .argument('<file>', 'HDF5 file to write (refused if it exists, unless --overwrite)')
    .argument('[channels...]', 'without -s: the channels to request from the dispatcher; with -s: write only these channels (default all)')
    .option('-n, --n_messages <n>', 'exit 0 after writing this many messages (default: until Ctrl-C or SIGTERM)', integerOption('--n_messages', 1))
    .option('--overwrite', 'overwrite an existing file', false)
    .option(
      '--bitshuffle <storage>',
      "bitshuffle_lz4 arrays: 'direct' stores the received chunks (as the writer; readers need the bitshuffle plugin), 'decompress' plain rows",
      choiceOption('--bitshuffle', ['direct', 'decompress'] as const),
      'direct',
    )
    .addOption(new Option('--log_level <level>', 'log level').choices(LOG_LEVEL_NAMES).default('WARNING'))
    .action(async (file: string, channels: string[], opts: H5Options) => {
      if (file.trim() === '' || file.includes('\0')) throw new UsageError(`FILE ${JSON.stringify(file)} is not a usable path`);
      const log = createLogger('bsread-h5', opts.log_level);
      const result = await writeH5(file === DEV_NULL ? DEV_NULL : resolve(file), channels, opts, log);
      process.stderr.write(formatH5Summary(result) + '\n');
      if (result.error !== null) process.exitCode = 1;
    });
}

/** Longest stretch of receiving and writing without a turn of the event loop (ms). */
const MAX_SLICE_MS = 20;

/** Set by the signal handler: read through an object, as it changes behind the awaits. */
interface StopState {
  reason: string | null;
  receiver: StreamReceiver | null;
}

async function writeH5(path: string, channels: readonly string[], opts: H5Options, log: Logger): Promise<H5Result> {
  refuseExisting(path, opts.overwrite, 'refusing to overwrite it (use --overwrite)');
  // Listen for signals before asking the dispatcher, so that its stream is never left behind.
  const stop: StopState = { reason: null, receiver: null };
  const signal = untilSignal();
  void signal.promise.then((sig) => {
    stop.reason = sig;
    stop.receiver?.close(); // a pending receive() returns null at once
  });
  let source: OpenedSource;
  let file: SwissFelFile;
  try {
    source = await openSource('h5', channels, opts);
  } catch (e) {
    signal.dispose();
    throw e;
  }
  try {
    file = SwissFelFile.create({ path, overwrite: opts.overwrite, parameters: generalParameters(), bitshuffle: opts.bitshuffle });
  } catch (e) {
    signal.dispose();
    await source.release();
    throw e;
  }
  const filter = source.only.size > 0 ? new ChannelFilter(source.only) : null;
  const decoder = new BsreadReceiver();
  const drops: ToolDrops = new DropCounter(log, 'message');
  const limit = opts.n_messages ?? Infinity;
  let error: string | null = null;
  let channelErrors = 0;
  try {
    if (stop.reason === null) {
      stop.receiver = new StreamReceiver({ address: source.address, mode: source.mode, receiveTimeoutMs: 200 });
      log.info({ stream: source.address, mode: source.mode, file: path }, 'writing');
    }
    let sliceStart = performance.now();
    while (stop.receiver !== null && stop.reason === null && file.rows < limit) {
      // A backlog resolves every receive() at once: give signals a turn now and then.
      if (performance.now() - sliceStart >= MAX_SLICE_MS) {
        await new Promise<void>((r) => setImmediate(r));
        sliceStart = performance.now();
      }
      const frames: MessageFrames | null = await stop.receiver.receive();
      if (frames === null || stop.reason !== null) {
        file.flushIfDue();
        continue;
      }
      const msg = openCounting(decoder, frames, drops);
      if (msg === null) continue;
      channelErrors += file.write(filter === null ? msg : filter.apply(msg)).channelErrors;
    }
  } catch (e) {
    // A file-level failure (disk full, libhdf5) or a broken socket: close what was written.
    error = errorMessage(e);
    log.error({ err: error, file: path }, 'writing stopped');
  } finally {
    signal.dispose();
    stop.receiver?.close();
    await source.release();
  }
  try {
    const s = summarize(OPEN_RANGE, file.firstPulseId, file.lastPulseId, file.rows);
    const endReason = error !== null ? `error: ${error}` : stop.reason !== null ? `signal ${stop.reason}` : `${file.rows} messages written`;
    file.setAttributes({ ...summaryAttributes(s, 0, endReason), writer: 'bsread h5', source: source.address, malformed_messages: drops.total() - drops.get('not_data') });
  } catch (e) {
    error ??= errorMessage(e);
  }
  const written = file.rows;
  const first = file.firstPulseId;
  const last = file.lastPulseId;
  try {
    file.close();
  } catch (e) {
    error ??= errorMessage(e);
  }
  return {
    path,
    written,
    firstPulseId: first,
    lastPulseId: last,
    malformed: drops.total() - drops.get('not_data'),
    channelErrors,
    neverSeen: filter === null ? [] : channels.filter((c) => !filter.seen.has(c)),
    error,
  };
}
