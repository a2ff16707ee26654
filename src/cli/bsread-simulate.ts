// `bsread simulate`: a realistic simulated bsread source (src/sim). Thin: parse and check the
// options, build the profile, run a Simulator until -n messages are delivered or a signal.
// Exit status: 0 done or stopped by SIGINT/SIGTERM, 2 bad options or profile, 1 other failure.
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { COMPRESSIONS, ENCODINGS, type Compression, type Encoding } from '../bsread/index.js';
import { BsreadError, errorMessage } from '../errors.js';
import { createLogger, LOG_LEVEL_NAMES, type LogLevelName } from '../log.js';
import { keepFreedMemoryInProcess } from '../native/malloc-tuning.js';
import { parseChannelsFile } from '../dispatcher/channels-file.js';
import { parseChoice, parseInteger, parseNumber } from './option-parsers.js';
import {
  buildProfile,
  channelSpecsOf,
  defaultChannelSpecs,
  loadProfileFile,
  mergeSpecs,
  parseCameraSize,
  selectChannels,
  Simulator,
  MAX_PRE_ENCODED,
  type ProfileSpec,
  type SimProfile,
} from '../sim/index.js';

/** The commander option values (all strings: checked here, not by commander). */
interface SimulateOptions {
  address: string;
  mode: string;
  rate?: string;
  count?: string;
  profile?: string;
  scalars?: string;
  waveforms?: string;
  waveform_length?: string;
  camera?: string;
  camera_compression?: string;
  compression?: string;
  dh_compression?: string;
  encoding?: string;
  seed?: string;
  start_pulse_id?: string;
  gap_every?: string;
  gap_length?: string;
  type_change_at?: string;
  channels?: string;
  drop_when_full?: boolean;
  pre_encode?: string;
  hwm: string;
  stats_interval: string;
  linger: string;
  log_level: string;
}

/** Name of the channel --type_change_at adds: float64 scalar, then int32[4] from the given pulse. */
export const TYPE_CHANGE_CHANNEL = 'SIM-TEST:TYPE-CHANGE';

function invalid(msg: string): BsreadError {
  return new BsreadError('BSREAD_ERR_INVALID_ARGUMENT', msg);
}

// Options given as strings (or not given): checked with the shared parsers.
function intOpt(v: string | undefined, name: string, min: number, max: number): number | undefined {
  return v === undefined ? undefined : parseInteger(v, name, min, max);
}

function numOpt(v: string | undefined, name: string, min: number, max: number): number | undefined {
  return v === undefined ? undefined : parseNumber(v, name, min, max);
}

function enumOpt<T extends string>(v: string | undefined, name: string, values: readonly T[]): T | undefined {
  return v === undefined ? undefined : parseChoice(v, name, values);
}

/** The profile fields given as options (they override the profile file's). */
function profileOverrides(o: SimulateOptions): ProfileSpec {
  const over: ProfileSpec = {};
  const seed = intOpt(o.seed, '--seed', 0, 0xffffffff);
  if (seed !== undefined) over.seed = seed;
  const rate = numOpt(o.rate, '--rate', 0, 1_000_000);
  if (rate !== undefined) over.rate = rate;
  const start = intOpt(o.start_pulse_id, '--start_pulse_id', 0, Number.MAX_SAFE_INTEGER);
  if (start !== undefined) over.start_pulse_id = start;
  const gapEvery = intOpt(o.gap_every, '--gap_every', 0, 1_000_000_000);
  if (gapEvery !== undefined) over.gap_every = gapEvery;
  const gapLength = intOpt(o.gap_length, '--gap_length', 1, 1_000_000_000);
  if (gapLength !== undefined) over.gap_length = gapLength;
  const dh = enumOpt<Compression>(o.dh_compression, '--dh_compression', COMPRESSIONS);
  if (dh !== undefined) over.dh_compression = dh;
  const comp = enumOpt<Compression>(o.compression, '--compression', COMPRESSIONS);
  if (comp !== undefined) over.compression = comp;
  const enc = enumOpt<Encoding>(o.encoding, '--encoding', ENCODINGS);
  if (enc !== undefined) over.encoding = enc;
  const scalars = intOpt(o.scalars, '--scalars', 0, 100_000);
  if (scalars !== undefined) over.scalars = scalars;
  const waveforms = intOpt(o.waveforms, '--waveforms', 0, 100_000);
  const wlen = intOpt(o.waveform_length, '--waveform_length', 1, 4096 * 4096);
  if (waveforms !== undefined) over.waveforms = waveforms;
  else if (wlen !== undefined) over.waveforms = 1;
  if (wlen !== undefined) over.waveform_length = wlen;
  const camComp = enumOpt<Compression>(o.camera_compression, '--camera_compression', COMPRESSIONS);
  if (camComp !== undefined && o.camera === undefined) {
    throw new BsreadError('BSREAD_ERR_INVALID_ARGUMENT', '--camera_compression needs --camera');
  }
  if (o.camera !== undefined) {
    const size = parseCameraSize(o.camera, '--camera');
    over.camera = camComp === undefined ? o.camera : { ...size, compression: camComp };
  }
  return over;
}

/** Everything the run needs, checked. Pure apart from reading the profile and channels files. */
export function resolveSimulateOptions(o: SimulateOptions): {
  profile: SimProfile;
  address: string;
  mode: 'push' | 'pub';
  count: number | undefined;
  highWaterMark: number;
  statsIntervalMs: number;
  lingerMs: number;
  preEncoded: number | undefined;
  logLevel: LogLevelName;
} {
  const mode = enumOpt(o.mode, '--mode', ['push', 'pub'] as const)!;
  const logLevel = enumOpt(o.log_level, '--log_level', LOG_LEVEL_NAMES)!;
  const base: ProfileSpec = o.profile === undefined ? {} : loadProfileFile(o.profile);
  const over = profileOverrides(o);
  let spec = mergeSpecs(base, over);
  const typeChangeAt = intOpt(o.type_change_at, '--type_change_at', 0, Number.MAX_SAFE_INTEGER);
  const explicit = spec.channels !== undefined || spec.scalars !== undefined || spec.waveforms !== undefined || spec.camera !== undefined;
  if (o.channels !== undefined && !explicit) spec = { ...spec, channels: defaultChannelSpecs({ camera: true }) };
  if (typeChangeAt !== undefined) {
    spec = {
      ...spec,
      scalars: undefined,
      waveforms: undefined,
      camera: undefined,
      channels: [...channelSpecsOf(spec), { name: TYPE_CHANGE_CHANNEL, type: 'float64', changes: [{ at_pulse: typeChangeAt, type: 'int32', shape: [4] }] }],
    };
  }
  let profile = buildProfile(spec, o.profile === undefined ? 'options' : `profile ${o.profile}`);
  if (o.channels !== undefined) {
    let text: string;
    try {
      text = readFileSync(o.channels, 'utf8');
    } catch (e) {
      throw invalid(`--channels ${o.channels}: cannot read: ${errorMessage(e)}`);
    }
    profile = selectChannels(profile, parseChannelsFile(text, o.channels), { unknown: 'scalar' });
  }
  return {
    profile,
    address: o.address,
    mode,
    count: intOpt(o.count, '--count', 0, Number.MAX_SAFE_INTEGER),
    highWaterMark: intOpt(o.hwm, '--hwm', 1, 1_000_000)!,
    statsIntervalMs: numOpt(o.stats_interval, '--stats_interval', 0, 86_400)! * 1000,
    lingerMs: intOpt(o.linger, '--linger', 0, 3_600_000)!,
    preEncoded: intOpt(o.pre_encode, '--pre_encode', 1, MAX_PRE_ENCODED),
    logLevel,
  };
}

async function runSimulate(o: SimulateOptions): Promise<number> {
  let r: ReturnType<typeof resolveSimulateOptions>;
  try {
    r = resolveSimulateOptions(o);
  } catch (e) {
    process.stderr.write(`bsread simulate: error: ${errorMessage(e)}\n`);
    return 2;
  }
  const log = createLogger('bsread-simulate', r.logLevel);
  keepFreedMemoryInProcess(log);
  let sim: Simulator;
  try {
    sim = await Simulator.start({
      profile: r.profile,
      address: r.address,
      mode: r.mode,
      highWaterMark: r.highWaterMark,
      dropWhenFull: o.drop_when_full === true,
      count: r.count,
      lingerMs: r.count === undefined ? 0 : r.lingerMs,
      statsIntervalMs: r.statsIntervalMs,
      ...(r.preEncoded !== undefined ? { preEncoded: r.preEncoded } : {}),
      log,
    });
  } catch (e) {
    process.stderr.write(`bsread simulate: error: ${errorMessage(e)}\n`);
    return e instanceof BsreadError && e.code === 'BSREAD_ERR_INVALID_ARGUMENT' ? 2 : 1;
  }
  log.info(
    { endpoint: sim.endpoint, mode: r.mode, channels: r.profile.channels.length, rate: r.profile.rate, first_pulse_id: sim.firstPulseId, count: r.count ?? null },
    `sending on ${sim.endpoint} (${r.mode}), ${r.profile.channels.length} channels, first pulse id ${sim.firstPulseId}`,
  );
  const onSignal = (sig: NodeJS.Signals): void => {
    log.info({ signal: sig }, `${sig}: stopping`);
    void sim.stop();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let code = 0;
  try {
    await sim.done;
  } catch (e) {
    log.error({ err: e }, `sending failed: ${errorMessage(e)}`);
    code = 1;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  const s = sim.stats();
  log.info({ ...s }, `done: ${s.sent} sent, ${s.dropped} dropped, last pulse id ${s.lastPulseId ?? '-'}`);
  // With -n the socket lingers until ZeroMQ has delivered the queued messages (or --linger ms
  // passed); the process ends by itself once that is done.
  return code;
}

/** Registers `simulate` on the `bsread` program. */
export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description('send a simulated SwissFEL bsread stream (deterministic values, see docs/sim.md)')
    .option('-a, --address <address>', 'bind address', 'tcp://127.0.0.1:9999')
    .addOption(new Option('--mode <mode>', 'socket type').choices(['push', 'pub']).default('push'))
    .option('-r, --rate <hz>', 'messages per second, 0 = as fast as possible (default: profile rate, else 100)')
    .option('-n, --count <count>', 'stop after COUNT messages, exit once ZeroMQ has delivered them')
    .option('-p, --profile <file>', 'JSON or YAML profile (see examples/)')
    .option('--scalars <n>', 'number of float64 scalar channels')
    .option('--waveforms <n>', 'number of float64 waveform channels')
    .option('--waveform_length <n>', 'elements per waveform (default 1024)')
    .option('--camera <WxH>', 'add a uint16 camera image SLG-LCAM-C041:FPICTURE of WIDTHxHEIGHT')
    .option('--camera_compression <c>', `compression of the --camera image only (default: --compression): ${COMPRESSIONS.join('|')}`)
    .option('--compression <c>', `default channel compression: ${COMPRESSIONS.join('|')}`)
    .option('--dh_compression <c>', `data-header compression: ${COMPRESSIONS.join('|')}`)
    .option('--encoding <e>', `default channel byte order: ${ENCODINGS.join('|')}`)
    .option('--seed <n>', 'seed of the values (default 1)')
    .option('--start_pulse_id <id>', 'first pulse id (default: from the wall clock, ~2e10)')
    .option('--gap_every <n>', 'skip pulse ids after every N pulses')
    .option('--gap_length <n>', 'pulse ids skipped per gap (default 1)')
    .option('--type_change_at <pulse>', `add ${TYPE_CHANGE_CHANNEL}: float64, then int32[4] from this pulse id`)
    .option('--channels <file>', 'send only these channels (channels file: JSON {"channels": [...]} or one name per line)')
    .option('--drop_when_full', 'drop and count messages when the queue is full instead of waiting (IOC behaviour)')
    .option('--pre_encode <n>', 'encode N messages once and send them in a cycle, changing only pulse ids and timestamps (a replayed recording: costs the simulator little CPU)')
    .option('--hwm <n>', 'send high-water mark', '10')
    .option('--stats_interval <s>', 'seconds between rate reports on stderr, 0 = none', '5')
    .option('--linger <ms>', 'with -n: how long to wait for delivery of the last messages', '10000')
    .addOption(new Option('--log_level <level>', 'log level').choices(LOG_LEVEL_NAMES).default('INFO'))
    .action(async (opts: SimulateOptions) => {
      process.exitCode = await runSimulate(opts);
    });
}
