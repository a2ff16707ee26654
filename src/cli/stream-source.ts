// Where `bsread receive`, `stats` and `h5` read from: the -s/--source address, or, without -s,
// a stream of the named channels requested from the dispatcher (POST {base_url}/stream) and
// deleted again when the command ends (DELETE {base_url}/stream), as bsread_python's `bs` does;
// and the one way they open what arrives (control and malformed messages counted and dropped).
import { Option } from 'commander';
import { DEFAULT_DISPATCHER_URL, DISPATCHER_URL_ENV, DispatcherClient, resolveDispatcherUrl, type StreamType } from '../dispatcher/dispatcher-client.js';
import type { BsreadMessage, BsreadReceiver, MessageFrames } from '../bsread/index.js';
import type { DropCounter } from '../drop-counter.js';
import { errorMessage, type MalformedKind } from '../errors.js';
import { RECEIVE_MODES, parseStreamAddress, type ReceiveMode } from '../transport/index.js';
import { UsageError } from './option-parsers.js';

export interface SourceOptions {
  source?: string;
  mode?: ReceiveMode;
  base_url?: string;
}

/** -s, -m and --base_url: where messages come from, shared by receive, stats and h5. */
export function sourceOptions(): Option[] {
  return [
    new Option('-s, --source <address>', 'source address, e.g. tcp://127.0.0.1:9999'),
    new Option('-m, --mode <mode>', 'socket type (default: pull with -s; sub, i.e. a pub_sub stream, from the dispatcher)').choices(RECEIVE_MODES),
    new Option('--base_url <url>', `dispatcher API base URL, used without -s (default: $${DISPATCHER_URL_ENV}, else ${DEFAULT_DISPATCHER_URL})`),
  ];
}

/** The stream type to ask the dispatcher for, so that the socket type -m fits it. */
export function streamTypeFor(mode: ReceiveMode): StreamType {
  return mode === 'pull' ? 'push_pull' : 'pub_sub';
}

export interface OpenedSource {
  readonly address: string;
  readonly mode: ReceiveMode;
  /** With -s: channel names to show (empty = all). From the dispatcher: empty (the stream has exactly those). */
  readonly only: ReadonlySet<string>;
  /** Deletes the dispatcher stream (if any); never throws, reports a failure on stderr. Idempotent. */
  release(): Promise<void>;
}

/**
 * Checks the arguments and, without -s, requests the dispatcher stream. Bad arguments throw
 * UsageError (exit 2); a dispatcher that refuses or cannot be reached throws
 * BSREAD_ERR_DISPATCHER (exit 1).
 */
export async function openSource(command: string, channels: readonly string[], opts: SourceOptions): Promise<OpenedSource> {
  if (opts.source !== undefined) {
    parseStreamAddress(opts.source, '--source');
    return { address: opts.source, mode: opts.mode ?? 'pull', only: new Set(channels), release: () => Promise.resolve() };
  }
  if (channels.length === 0) {
    throw new UsageError('give channel names (a stream is requested from the dispatcher) or -s/--source ADDRESS');
  }
  const client = new DispatcherClient(resolveDispatcherUrl(opts.base_url));
  const mode = opts.mode ?? 'sub';
  const streamType = streamTypeFor(mode);
  const address = await client.requestStream(
    channels.map((name) => ({ name })),
    { streamType },
  );
  process.stderr.write(`bsread ${command}: ${streamType} stream ${address} of ${channels.length} channel(s) from ${client.baseUrl}\n`);
  let released: Promise<void> | null = null;
  const release = (): Promise<void> =>
    (released ??= client.deleteStream(address).then(
      () => void process.stderr.write(`bsread ${command}: deleted the stream ${address}\n`),
      (e: unknown) => void process.stderr.write(`bsread ${command}: warning: the stream ${address} could not be deleted: ${errorMessage(e)}\n`),
    ));
  return { address, mode, only: new Set(), release };
}

/** What the tools count and drop instead of showing or writing: control and malformed messages. */
export type ToolDrops = DropCounter<MalformedKind | 'not_data'>;

/** The data message in `frames`, or null for a control or malformed message (counted in drops by kind). */
export function openCounting(decoder: BsreadReceiver, frames: MessageFrames, drops: ToolDrops): BsreadMessage | null {
  const r = decoder.tryOpen(frames);
  if (r.status === 'not_data') {
    drops.add('not_data', `htype ${r.htype}`);
    return null;
  }
  if (r.status === 'malformed') {
    drops.add(r.error.kind, r.error.message);
    return null;
  }
  return r.message;
}
