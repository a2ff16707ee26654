#!/usr/bin/env node
// sf_bsread_writer: parse arguments, switch user, build the parts, wire them, handle signals.
//   exit 0: the acquisition finished, or GET /stop, SIGTERM, SIGINT, GET /kill;
//   1: cannot start (user switch, output path, REST port) or stopped after a failed acquisition;
//   2: bad usage or argument.
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { BsreadError, errorMessage } from '../errors.js';
import { createLogger, LOG_LEVEL_NAMES, type LogLevelName } from '../log.js';
import { nativeAddon } from '../native/surface.js';
import { keepFreedMemoryInProcess } from '../native/malloc-tuning.js';
import { letHeapGrowForBuffers } from '../runtime/heap-growth.js';
import { parseStreamAddress, resolveInputReader, RECEIVE_MODES, RECEIVE_READERS, type ReceiveMode, type ReceiveReader } from '../transport/index.js';
import { Acquisition } from '../writer/acquisition.js';
import { DEV_NULL, makeOutputFolder, refuseExisting } from '../writer/output-path.js';
import { isNatsAddress, parseJetStreamAddress } from '../jetstream/index.js';
import { jetStreamSourceOpener } from '../writer/jetstream-source.js';
import { messageSourceOpener } from '../writer/message-source.js';
import { buildWriterApp } from '../writer/rest.js';
import { SwissFelFile, type BitshuffleStorage } from '../writer/swissfel-file.js';
import { choiceOption, integerOption, numberOption } from './option-parsers.js';
import { runCli } from './run-cli.js';

interface WriterCliOptions {
  log_level: LogLevelName;
  rest_host: string;
  mode: ReceiveMode;
  input_reader?: ReceiveReader;
  flush_interval: number;
  bitshuffle: BitshuffleStorage;
  probe_timeout: number;
  overwrite: boolean;
  keep_page_cache: boolean;
}

function usage(message: string): BsreadError {
  return new BsreadError('BSREAD_ERR_INVALID_ARGUMENT', message);
}

/** setgid then setuid to the same number, as the original, before any file is touched. */
function switchUser(userId: number): void {
  if (userId === -1) return;
  if (typeof process.setuid !== 'function' || typeof process.setgid !== 'function') {
    throw new BsreadError('BSREAD_ERR_INVALID_STATE', 'cannot switch user: this platform has no setuid/setgid');
  }
  try {
    // Drop root's supplementary groups so they do not stay with the new user.
    if (process.getuid?.() === 0 && typeof process.setgroups === 'function') process.setgroups([userId]);
    process.setgid(userId);
    process.setuid(userId);
  } catch (e) {
    throw new BsreadError(
      'BSREAD_ERR_INVALID_STATE',
      `cannot switch to user id and group id ${userId}: ${errorMessage(e)} (only root may switch user; pass -1 to keep the current user)`,
      { cause: e },
    );
  }
}

/** Creates the output folder and refuses an existing file (unless --overwrite), before any REST call. */
function prepareOutput(path: string, overwrite: boolean): void {
  makeOutputFolder(path);
  refuseExisting(path, overwrite, 'refusing to overwrite it (use --overwrite)');
}

async function runWriter(streamAddress: string, outputFile: string, userId: number, restPort: number, o: WriterCliOptions): Promise<void> {
  const jetStream = isNatsAddress(streamAddress) ? parseJetStreamAddress(streamAddress, 'stream_address') : null;
  if (jetStream === null) parseStreamAddress(streamAddress, 'stream_address');
  if (outputFile.trim() === '' || outputFile.includes('\0')) throw usage(`output_file ${JSON.stringify(outputFile)} is not a usable path`);
  let reader: ReceiveReader;
  try {
    reader = resolveInputReader(o.mode, o.input_reader);
  } catch (e) {
    throw usage((e as Error).message);
  }
  const log = createLogger('sf_bsread_writer', o.log_level);
  keepFreedMemoryInProcess(log);
  letHeapGrowForBuffers(log);

  const output = outputFile === DEV_NULL ? DEV_NULL : resolve(outputFile);
  const acquisition = new Acquisition({
    openSource:
      jetStream !== null ? jetStreamSourceOpener({ address: jetStream, log }) : messageSourceOpener({ streamAddress, mode: o.mode, reader, probeTimeoutMs: o.probe_timeout, log }),
    createFile: ({ path, overwrite, parameters }) => {
      // /general keys: given as "general/user" over REST; passed in both spellings.
      const general = Object.fromEntries(
        Object.entries(parameters)
          .filter(([k]) => k.startsWith('general/'))
          .map(([k, v]) => [k.slice(8), v]),
      );
      return SwissFelFile.create({
        path,
        overwrite,
        parameters: { ...general, ...parameters },
        bitshuffle: o.bitshuffle,
        flushIntervalMs: o.flush_interval * 1000,
        dropPageCache: !o.keep_page_cache,
      });
    },
    defaultOutputFile: output,
    overwrite: o.overwrite,
    log,
  });

  const app = await buildWriterApp({ control: acquisition, log });
  try {
    // Everything the process will run is loaded before the user switch: fastify and its schema
    // compilers load parts lazily (at construction and at ready), and the new user may not be
    // allowed to read this installation (a checkout in a private folder, root's home...).
    await app.ready();
    nativeAddon(); // libhdf5 is first needed when a file is created, after the switch
    switchUser(userId);
    prepareOutput(output, o.overwrite);
  } catch (e) {
    await app.close();
    throw e;
  }
  try {
    await app.listen({ host: o.rest_host, port: restPort });
  } catch (e) {
    await app.close();
    throw new BsreadError('BSREAD_ERR_TRANSPORT', `cannot serve REST on ${o.rest_host}:${restPort}: ${errorMessage(e)}`, { cause: e });
  }
  log.info({ stream: streamAddress, output_file: output, rest: `http://${o.rest_host}:${restPort}`, user_id: userId }, 'writer ready, waiting for a start');

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      log.warn(`second ${signal}: exiting at once`);
      process.exit(1);
    }
    void acquisition.shutdown(signal);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  const exit = await acquisition.exitRequested;
  if (exit.immediate) {
    log.info({ reason: exit.reason }, 'exiting at once');
    process.exit(exit.code);
  }
  // Shutdown (GET /stop, a signal) waits for the file to close before exitRequested resolves;
  // the REST reply to /stop is still in flight and app.close() lets it finish.
  const force = setTimeout(() => {
    log.warn('something still holds the event loop after shutdown; exiting');
    process.exit(exit.code);
  }, 5000);
  force.unref();
  await app.close();
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  log.info({ reason: exit.reason, code: exit.code }, 'writer exiting');
  process.exitCode = exit.code;
}

const program = new Command('sf_bsread_writer')
  .description('Write the bsread messages of one pulse range to an HDF5 file in the SwissFEL layout; controlled over REST.')
  .argument(
    '<stream_address>',
    'source to receive from: tcp://HOST:PORT (if our sf_bsread_buffer is there, its replay service, PORT+1, is used), or a JetStream stream nats://HOST:PORT[,HOST:PORT...]/NAME',
  )
  .argument('<output_file>', 'HDF5 file to write (/dev/null: receive and filter, write nothing); its folder is created if missing')
  .argument('<user_id>', 'switch to this user id and group id before touching any file (-1: stay the current user)', integerOption('user_id', -1, 2 ** 32 - 2))
  .argument('<rest_port>', 'port of the REST API', integerOption('rest_port', 1, 65535))
  .addOption(new Option('--log_level <level>', 'log level').choices(LOG_LEVEL_NAMES).default('INFO'))
  .option('--rest_host <host>', 'interface the REST API listens on', '127.0.0.1')
  .option('--mode <mode>', `receive mode when no replay service answers: ${RECEIVE_MODES.join('|')}`, choiceOption('--mode', RECEIVE_MODES), 'pull')
  .option(
    '--input_reader <reader>',
    "who reads a plain source (no replay service): zmtp (the addon's own ZMTP 3 reader; pull only) or libzmq (default: zmtp with --mode pull, libzmq with sub)",
    choiceOption('--input_reader', RECEIVE_READERS),
  )
  .option('--flush_interval <s>', 'write buffered rows to the file at least this often (seconds); what /kill keeps', numberOption('--flush_interval', 0.01, 60), 1)
  .option(
    '--bitshuffle <storage>',
    "bitshuffle_lz4 arrays: 'direct' stores the received chunks (filter 32008, needs the bitshuffle plugin to read), 'decompress' stores plain rows",
    choiceOption('--bitshuffle', ['direct', 'decompress'] as const),
    'direct',
  )
  .option('--probe_timeout <ms>', 'how long to wait for the buffer replay service to answer at each start (ms)', integerOption('--probe_timeout', 1, 60_000), 500)
  .option('--overwrite', 'overwrite an existing output file (refused by default)', false)
  .option('--keep_page_cache', 'keep written image rows in the page cache (by default they leave it once on disk, a flush after being written)', false)
  .addHelpText(
    'after',
    `
REST (on --rest_host:rest_port): GET /status, POST /parameters, GET /statistics,
PUT /start_pulse_id/<id>, PUT /stop_pulse_id/<id>, PUT /start_now [{"output_file": P}],
PUT /stop_now, GET /stop, GET /kill, GET /openapi.json. Replies {"state":"ok"|"error","status":...}.
For people and monitoring: GET / (a status page for a browser), GET /metrics (Prometheus text).`,
  )
  .action(async (streamAddress: string, outputFile: string, userId: number, restPort: number, o: WriterCliOptions) => {
    await runWriter(streamAddress, outputFile, userId, restPort, o);
  });

await runCli(program);
