// `bsread dispatcher`: the embedded dispatcher (src/sim/dispatcher.ts) as a program. Thin:
// parse and check options, start it, print its URL on stdout, stop everything on SIGINT/SIGTERM.
// Exit status: 0 stopped by a signal, 2 bad options or profile, 1 other failure.
import { Command, Option } from 'commander';
import { BsreadError, errorMessage } from '../errors.js';
import { createLogger, LOG_LEVEL_NAMES, type LogLevelName } from '../log.js';
import { buildProfile, defaultChannelSpecs, loadProfileFile, SimDispatcher, type ProfileSpec } from '../sim/index.js';

interface DispatcherCliOptions {
  port: string;
  host: string;
  profile?: string;
  rate?: string;
  seed?: string;
  log_level: string;
}

function invalid(msg: string): BsreadError {
  return new BsreadError('BSREAD_ERR_INVALID_ARGUMENT', msg);
}

function checkNumber(v: string, name: string, min: number, max: number, integer: boolean): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw invalid(`${name}: "${v}" is not ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`);
  }
  return n;
}

async function runDispatcher(o: DispatcherCliOptions): Promise<number> {
  let dispatcher: SimDispatcher;
  let port: number;
  let logLevel: LogLevelName;
  try {
    port = checkNumber(o.port, '--port', 0, 65535, true);
    logLevel = LOG_LEVEL_NAMES.includes(o.log_level as LogLevelName) ? (o.log_level as LogLevelName) : 'INFO';
    const spec: ProfileSpec = o.profile === undefined ? { channels: defaultChannelSpecs({ camera: true }) } : loadProfileFile(o.profile);
    if (o.seed !== undefined) spec.seed = checkNumber(o.seed, '--seed', 0, 0xffffffff, true);
    const catalogue = buildProfile(spec, o.profile === undefined ? 'catalogue' : `profile ${o.profile}`);
    const rate = o.rate === undefined ? catalogue.rate : checkNumber(o.rate, '--rate', 0, 1_000_000, false);
    dispatcher = new SimDispatcher({ catalogue, rate, log: createLogger('bsread-dispatcher', logLevel) });
  } catch (e) {
    process.stderr.write(`bsread dispatcher: error: ${errorMessage(e)}\n`);
    return 2;
  }
  const log = createLogger('bsread-dispatcher', logLevel);
  let url: string;
  try {
    url = await dispatcher.start({ port, host: o.host });
  } catch (e) {
    process.stderr.write(`bsread dispatcher: error: cannot listen on ${o.host}:${port}: ${errorMessage(e)}\n`);
    await dispatcher.close().catch(() => undefined);
    return 1;
  }
  process.stdout.write(`${url}\n`);
  log.info({ url, channels: dispatcher.catalogue.channels.length }, `dispatcher listening on ${url}`);
  await new Promise<void>((resolve) => {
    const onSignal = (sig: NodeJS.Signals): void => {
      log.info({ signal: sig }, `${sig}: closing streams and exiting`);
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  try {
    await dispatcher.close();
  } catch (e) {
    log.error({ err: e }, `closing failed: ${errorMessage(e)}`);
    return 1;
  }
  return 0;
}

/** Registers `dispatcher` on the `bsread` program. */
export function registerDispatcher(program: Command): void {
  program
    .command('dispatcher')
    .description('run an embedded dispatcher: POST /stream gives simulated streams of the requested channels')
    .option('--port <port>', 'HTTP port (0 = a free port; the URL is printed on stdout)', '8080')
    .option('--host <host>', 'HTTP interface', '127.0.0.1')
    .option('-p, --profile <file>', 'JSON or YAML profile whose channels form the catalogue (default: built-in)')
    .option('-r, --rate <hz>', 'messages per second of every stream (default: profile rate, else 100)')
    .option('--seed <n>', 'seed of the values')
    .addOption(new Option('--log_level <level>', 'log level').choices(LOG_LEVEL_NAMES).default('INFO'))
    .action(async (opts: DispatcherCliOptions) => {
      process.exitCode = await runDispatcher(opts);
    });
}
