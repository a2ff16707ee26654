// Command line of sf_bsread_buffer: both generations of the original (`<stream>` and
// `-c CHANNELS_FILE`) plus our options, parsed and checked into a plain BufferConfig.
import { Command, CommanderError, Option } from 'commander';
import { checkStreamName, parseServerList } from '../jetstream/index.js';
import { LOG_LEVEL_NAMES, type LogLevelName } from '../log.js';
import { DEFAULT_DISPATCHER_URL } from '../dispatcher/dispatcher-client.js';
import { parseStreamAddress, resolveInputReader, RECEIVE_MODES, RECEIVE_READERS, type ReceiveMode, type ReceiveReader } from '../transport/index.js';
import { byteSizeOption, hostOption, integerOption, positiveOption, UsageError } from './option-parsers.js';

export interface BufferConfig {
  /** Exactly one of stream and channelsFile is set. */
  stream: string | null;
  channelsFile: string | null;
  mode: ReceiveMode;
  /** --input_reader: who reads the input's wire (resolveInputReader). */
  inputReader: ReceiveReader;
  outputPort: number;
  replayPort: number;
  bufferLength: number;
  bufferSeconds: number | null;
  bufferBytes: number | null;
  logLevel: LogLevelName;
  analyzer: boolean;
  dispatcherUrl: string;
  statusPort: number | null;
  bindHost: string;
  consumerIdleS: number;
  /** --jetstream: publish every message into this JetStream stream too. */
  jetStream: { servers: string[]; stream: string; replicas: number } | null;
}

export function buildBufferCommand(): Command {
  return new Command('sf_bsread_buffer')
    .description('Buffers a bsread stream and serves it to writers: the compatible PUSH output on OUTPUT_PORT and the replay service on REPLAY_PORT')
    .argument('[stream]', 'source stream to connect to, tcp://HOST:PORT (or use -c)')
    .option('-c, --channels_file <file>', 'request a stream for these channels from the dispatcher (JSON {"channels":[...]} or one name per line)')
    .addOption(new Option('--mode <mode>', 'input socket: pull, or sub (default: pull; sub with -c)').choices(RECEIVE_MODES as string[]))
    .addOption(
      new Option(
        '--input_reader <reader>',
        "who reads the input: zmtp (the addon's own ZMTP 3 reader; pull only) or libzmq (default: zmtp in pull mode, libzmq in sub mode)",
      ).choices(RECEIVE_READERS as string[]),
    )
    .option('-o, --output_port <port>', 'port of the compatible PUSH output', integerOption('OUTPUT_PORT', 1, 65534), 8082)
    .option('--replay_port <port>', 'port of the replay service (default OUTPUT_PORT+1)', integerOption('--replay_port', 1, 65535))
    .option('-b, --buffer_length <n>', 'messages to keep', integerOption('BUFFER_LENGTH', 1, 100_000_000), 100)
    .option('--buffer_seconds <s>', 'also evict messages older than this many seconds', positiveOption('--buffer_seconds'))
    .option('--buffer_bytes <size>', 'also evict while the buffer holds more than this (e.g. 500M, 4G)', byteSizeOption('--buffer_bytes'))
    .addOption(new Option('--log_level <level>', 'log level').choices(LOG_LEVEL_NAMES).default('INFO'))
    .option('--analyzer', 'count and log stream anomalies (gaps, duplicates, missing channel values, ...)', false)
    .option('--dispatcher_url <url>', 'dispatcher API base URL (with -c)', DEFAULT_DISPATCHER_URL)
    .option('--status_port <port>', 'serve GET /status and /metrics on this port (default: off)', integerOption('--status_port', 1, 65535))
    .option('--bind_host <host>', 'host the output, replay and status ports listen on; 0.0.0.0 for writers on other hosts', hostOption('--bind_host'), '127.0.0.1')
    .option('--consumer_idle_s <s>', 'release a replay consumer whose stream had no reader this long', positiveOption('--consumer_idle_s'), 60)
    .option('--jetstream <servers>', 'also publish every message into NATS JetStream: nats://HOST:PORT[,nats://HOST:PORT...] (needs --jetstream_stream)')
    .option('--jetstream_stream <name>', 'the JetStream stream (created if missing: file storage, max_age from --buffer_seconds, max_bytes from --buffer_bytes)')
    .option('--replicas <n>', 'replicas of a JetStream stream this buffer creates', integerOption('--replicas', 1, 5), 1);
}

interface RawOptions {
  channels_file?: string;
  mode?: ReceiveMode;
  input_reader?: ReceiveReader;
  output_port: number;
  replay_port?: number;
  buffer_length: number;
  buffer_seconds?: number;
  buffer_bytes?: number;
  log_level: LogLevelName;
  analyzer: boolean;
  dispatcher_url: string;
  status_port?: number;
  bind_host: string;
  consumer_idle_s: number;
  jetstream?: string;
  jetstream_stream?: string;
  replicas: number;
}

/**
 * Parses argv (without node and script). Throws UsageError for bad arguments; commander's own
 * errors (unknown option, --help) come out as CommanderError with its exitCode.
 */
export function parseBufferArgs(argv: readonly string[], command: Command = buildBufferCommand()): BufferConfig {
  command.exitOverride();
  command.configureOutput({ writeErr: () => {} });
  try {
    command.parse(argv as string[], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError && e.exitCode !== 0 && e.code !== 'commander.helpDisplayed' && e.code !== 'commander.version') {
      throw new UsageError(e.message.replace(/^error: /, ''));
    }
    throw e;
  }
  const o = command.opts<RawOptions>();
  const stream = (command.args[0] as string | undefined) ?? null;
  const channelsFile = o.channels_file ?? null;
  if ((stream === null) === (channelsFile === null)) {
    throw new UsageError('give exactly one of STREAM (tcp://HOST:PORT) and -c CHANNELS_FILE');
  }
  if (stream !== null) {
    try {
      const a = parseStreamAddress(stream, 'STREAM');
      if (!('host' in a)) throw new UsageError(`STREAM "${stream}" must be tcp://HOST:PORT`);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  const replayPort = o.replay_port ?? o.output_port + 1;
  if (replayPort === o.output_port) throw new UsageError('--replay_port must differ from OUTPUT_PORT');
  if (o.status_port !== undefined && (o.status_port === o.output_port || o.status_port === replayPort)) {
    throw new UsageError('--status_port must differ from OUTPUT_PORT and the replay port');
  }
  if ((o.jetstream === undefined) !== (o.jetstream_stream === undefined)) throw new UsageError('--jetstream and --jetstream_stream go together');
  let jetStream: BufferConfig['jetStream'] = null;
  if (o.jetstream !== undefined && o.jetstream_stream !== undefined) {
    try {
      jetStream = { servers: parseServerList(o.jetstream, '--jetstream'), stream: checkStreamName(o.jetstream_stream, '--jetstream_stream'), replicas: o.replicas };
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  const mode = o.mode ?? (channelsFile !== null ? 'sub' : 'pull');
  let inputReader: ReceiveReader;
  try {
    inputReader = resolveInputReader(mode, o.input_reader);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return {
    stream,
    channelsFile,
    mode,
    inputReader,
    outputPort: o.output_port,
    replayPort,
    bufferLength: o.buffer_length,
    bufferSeconds: o.buffer_seconds ?? null,
    bufferBytes: o.buffer_bytes ?? null,
    logLevel: o.log_level,
    analyzer: o.analyzer,
    dispatcherUrl: o.dispatcher_url,
    statusPort: o.status_port ?? null,
    bindHost: o.bind_host,
    consumerIdleS: o.consumer_idle_s,
    jetStream,
  };
}
