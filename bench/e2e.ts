// End to end at 100 Hz: the real programs as child processes, as in production.
//   bsread simulate --pre_encode 50 (two scenarios: `swissfel-2026`, 5000 float64 scalars + a
//   1024x1024 uint16 bitshuffle_lz4 camera; `swissfel-full`, 10,000 scalars + two such cameras)
//     → sf_bsread_buffer (-b 1000, --quick 600; --buffer_bytes 2G) → sf_bsread_writer (one range)
// The range is set once the buffer's ring is full (its state in service).
// The writer is given a range of 60 s (6000 pulses; --quick: 6 s) starting ~2 s after the
// newest pulse the buffer holds. Reported: rows in the file against the pulses of the range
// (goal: 0 loss), the rate the simulator actually reached (it shares the cores with buffer and
// writer, and may be the limit), and the CPU time (/proc/PID/stat utime + stime) of buffer and
// writer per second of the range, as a share of one core (goal: together below one core; the
// simulator's share is shown for comparison). The writer's CPU runs from the range's start to
// its exit, so catching up and closing the file count. Every child is stopped (SIGTERM, SIGKILL
// after 10 s) also on error; temporary files are removed.
// Env: BENCH_E2E_SCENARIOS (default swissfel-2026,swissfel-full), BENCH_E2E_SECONDS (default 60,
// quick 6), BENCH_E2E_SCALARS (scalars of swissfel-2026, default 5000), BENCH_E2E_RATE
// (default 100; the range stays 100 pulses per second of BENCH_E2E_SECONDS), BENCH_CHILD_NODE_ARGS
// (extra node options for every child, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" or "--trace-gc";
// the children's stdout then goes to stderr, each line marked with the child's name).
//
// The process helpers here (startChild, stopChildren, cpuSeconds, ...) are shared with bench/ramp.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { summarizeSwissFelFile, type FileSummary } from '../src/writer/file-summary.js';
import type { BenchOptions, BenchRow } from './table.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
export const PROGRAMS = {
  bsread: join(HERE, '..', 'src', 'cli', 'bsread.js'),
  buffer: join(HERE, '..', 'src', 'cli', 'sf_bsread_buffer.js'),
  writer: join(HERE, '..', 'src', 'cli', 'sf_bsread_writer.js'),
};

/** The writer's mandatory /general parameters (as test/integration/writer-helpers.ts). */
export const PARAMETERS = {
  'general/created': '2024-05-01T10:00:00',
  'general/user': 'p12345',
  'general/process': 'sf_bsread_writer bench',
  'general/instrument': 'alvra',
};

// One implementation of each, shared with the demo and the tests.
export { freePort } from '../src/demo/ports.js';
export { sleep, timeoutAfter, waitFor } from '../src/demo/wait.js';
export { cpuSeconds } from '../src/demo/process-stats.js';
import { cpuSeconds, rssKiB } from '../src/demo/process-stats.js';
import { freePort } from '../src/demo/ports.js';
import { sleep, timeoutAfter, waitFor } from '../src/demo/wait.js';

export interface Child {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly pid: number;
  /** Resolves with the exit code (or the signal name) once the process has ended. */
  readonly exited: Promise<number | string>;
  /** The last 64 KiB of stderr. */
  stderr(): string;
  /** SIGTERM, SIGKILL after graceMs; resolves when the process has ended. Idempotent. */
  stop(graceMs?: number): Promise<number | string>;
}

const live = new Set<Child>();
let hooked = false;

/** Kills what is still running when this process ends or is interrupted. */
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const c of live) c.proc.kill('SIGKILL');
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      for (const c of live) c.proc.kill('SIGKILL');
      process.kill(process.pid, sig);
    });
  }
}

/**
 * Starts `node <script> ...args` with stdout ignored. `onLine` sees each stderr line (the
 * programs log pino JSON lines there).
 */
export function startChild(name: string, script: string, args: string[], onLine?: (line: string) => void): Child {
  hookExit();
  // BENCH_CHILD_NODE_ARGS: extra node options for every child, for profiling (e.g. --cpu-prof, --trace-gc).
  const nodeArgs = (process.env['BENCH_CHILD_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');
  const proc = spawn(process.execPath, [...nodeArgs, script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  if (nodeArgs.length > 0) proc.stdout!.on('data', (d: Buffer) => process.stderr.write(d.toString().replace(/^/gm, `[${name}] `)));
  else proc.stdout!.resume();
  let err = '';
  let partial = '';
  proc.stderr!.on('data', (d: Buffer) => {
    const s = d.toString();
    err = (err + s).slice(-65536);
    if (onLine === undefined) return;
    partial += s;
    let nl: number;
    while ((nl = partial.indexOf('\n')) >= 0) {
      onLine(partial.slice(0, nl));
      partial = partial.slice(nl + 1);
    }
  });
  const exited = new Promise<number | string>((resolve) => {
    proc.once('exit', (code, signal) => resolve(code ?? signal ?? -1));
    proc.once('error', () => resolve(-1));
  });
  const child: Child = {
    name,
    proc,
    pid: proc.pid ?? -1,
    exited,
    stderr: () => err,
    stop: async (graceMs = 10_000) => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(t);
      }
      return exited;
    },
  };
  live.add(child);
  void exited.then(() => live.delete(child));
  return child;
}

/** Stops every child started here that still runs. */
export async function stopChildren(): Promise<void> {
  await Promise.all([...live].map((c) => c.stop()));
}

/** CPU time (user + system) of a running process in seconds, NaN once it is gone. */

export interface BufferStatusLite {
  input: { received: number; buffered: number; malformed: Record<string, number> };
  buffer: { newest_pulse_id: number | null; depth: number };
  replay: { dropped: number; consumers: { consumer_id: string; queue_depth: number; dropped: number; sent: number }[] };
  jetstream: { given_up: number; published: number; last_published_pulse_id: number | null; pending_acks: number } | null;
}

export async function bufferStatus(statusPort: number): Promise<BufferStatusLite> {
  const r = await fetch(`http://127.0.0.1:${statusPort}/status`);
  return (await r.json()) as BufferStatusLite;
}

export interface WriterReply {
  state: string;
  status: string;
  [k: string]: unknown;
}

export async function writerCall(port: number, method: string, path: string, body?: unknown): Promise<WriterReply> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
  });
  return (await r.json()) as WriterReply;
}

export interface RangeWriter {
  child: Child;
  restPort: number;
}

/** Starts sf_bsread_writer on `stream` writing `path`, waits for its REST API and sets the parameters. */
export async function startWriter(stream: string, path: string, extra: string[] = []): Promise<RangeWriter> {
  const restPort = await freePort();
  const child = startChild('writer', PROGRAMS.writer, [stream, path, '-1', String(restPort), '--log_level', 'WARNING', ...extra]);
  await waitFor(
    'the writer REST API',
    async () => {
      if (child.proc.exitCode !== null) throw new Error(`writer exited early: ${child.stderr().slice(-1000)}`);
      return (await writerCall(restPort, 'GET', '/status')).state === 'ok' ? true : undefined;
    },
    20_000,
  );
  const p = await writerCall(restPort, 'POST', '/parameters', PARAMETERS);
  if (p.state !== 'ok') throw new Error(`writer refused the parameters: ${p.status}`);
  return { child, restPort };
}

/** Sets the range [start, stop] (stop first, as the DAQ scripts do); the writer begins at once. */
export async function setRange(w: RangeWriter, start: number, stop: number): Promise<void> {
  const s = await writerCall(w.restPort, 'PUT', `/stop_pulse_id/${stop}`);
  if (s.state !== 'ok') throw new Error(`writer refused stop_pulse_id ${stop}: ${s.status}`);
  const r = await writerCall(w.restPort, 'PUT', `/start_pulse_id/${start}`);
  if (r.state !== 'ok') throw new Error(`writer refused start_pulse_id ${start}: ${r.status}`);
}

/** What a written range file holds, read back through src/writer/file-summary.ts. */
export interface RangeCheck {
  rows: number;
  /** Pulses of [start, stop] without a row (expected − rows, plus holes). */
  lost: number;
  summary: FileSummary | null;
  error: string | null;
}

export function checkRangeFile(path: string, start: number, stop: number): RangeCheck {
  const expected = stop - start + 1;
  try {
    const s = summarizeSwissFelFile(path);
    let lost = Math.max(0, expected - s.rows);
    if (s.firstPulseId !== start || s.lastPulseId !== stop || s.missingPulseIds > 0) lost = Math.max(lost, 1, s.missingPulseIds);
    return { rows: s.rows, lost, summary: s, error: null };
  } catch (e) {
    return { rows: 0, lost: expected, summary: null, error: String(e) };
  }
}

function pct(x: number): string {
  return `${Math.round(x)}%`;
}

/** One end-to-end configuration: scalars plus 1024x1024 bitshuffle cameras, from one simulator. */
interface Scenario {
  readonly label: string;
  readonly scalars: number;
  readonly cameras: number;
}

/** A profile of `scalars` float64 scalars and `cameras` 1024x1024 uint16 bitshuffle_lz4 images. */
function scenarioProfile(sc: Scenario): Record<string, unknown> {
  const camera = (i: number) => ({ name: `SLG-LCAM-C04${1 + i}:FPICTURE`, type: 'uint16', shape: [1024, 1024], generator: 'image', compression: 'bitshuffle_lz4' });
  return { scalars: sc.scalars, channels: Array.from({ length: sc.cameras }, (_, i) => camera(i)) };
}

export async function run(opts: BenchOptions): Promise<BenchRow[]> {
  // BENCH_E2E_SCENARIOS: which of `swissfel-2026` (5000 + 1 camera) and `swissfel-full`
  // (10,000 + 2 cameras, issue 19's target) to run; default both.
  const names = (process.env['BENCH_E2E_SCENARIOS'] ?? 'swissfel-2026,swissfel-full').split(',');
  const scenarios: Scenario[] = [
    { label: 'swissfel-2026', scalars: Number(process.env['BENCH_E2E_SCALARS'] ?? 5000), cameras: 1 },
    { label: 'swissfel-full', scalars: 10_000, cameras: 2 },
  ];
  const rows: BenchRow[] = [];
  for (const sc of scenarios.filter((x) => names.includes(x.label))) rows.push(...(await runScenario(opts, sc)));
  return rows;
}

async function runScenario(opts: BenchOptions, sc: Scenario): Promise<BenchRow[]> {
  const seconds = Number(process.env['BENCH_E2E_SECONDS'] ?? (opts.quick ? 6 : 60));
  const scalars = sc.scalars;
  const rate = Number(process.env['BENCH_E2E_RATE'] ?? 100);
  const pulses = Math.round(seconds * 100);
  // Messages the buffer holds (-b). A buffer in service has a full ring: the range starts only
  // once it is full, as filling it the first time faults in its memory (~1.1 GB here) once.
  const depth = opts.quick ? 600 : 1000; // also the deepest a consumer may fall behind
  const dir = mkdtempSync(join(tmpdir(), 'bench-e2e-'));
  const path = join(dir, 'range.h5');
  try {
    const simPort = await freePort();
    const out = await freePort();
    const statusPort = await freePort();
    const profilePath = join(dir, 'profile.json');
    writeFileSync(profilePath, JSON.stringify(scenarioProfile(sc)));
    // The source replays 50 pre-encoded messages (only pulse ids and timestamps change), so it
    // does not take the cores the buffer and the writer are measured on.
    const sim = startChild('simulator', PROGRAMS.bsread, [
      'simulate',
      '-a',
      `tcp://127.0.0.1:${simPort}`,
      '-p',
      profilePath,
      '--pre_encode',
      '50',
      '--rate',
      String(rate),
      '--stats_interval',
      '0',
      '--log_level',
      'WARNING',
    ]);
    const buffer = startChild('buffer', PROGRAMS.buffer, [
      `tcp://127.0.0.1:${simPort}`,
      '-o',
      String(out),
      '-b',
      String(depth),
      '--buffer_bytes',
      sc.cameras > 1 ? '4G' : '2G', // 1000 messages of 3.4 MB for two cameras
      '--status_port',
      String(statusPort),
      '--log_level',
      'WARNING',
    ]);
    const newest = await waitFor(
      'the buffer to receive from the simulator',
      async () => {
        if (sim.proc.exitCode !== null) throw new Error(`simulator exited: ${sim.stderr().slice(-1000)}`);
        if (buffer.proc.exitCode !== null) throw new Error(`buffer exited: ${buffer.stderr().slice(-1000)}`);
        return (await bufferStatus(statusPort)).buffer.newest_pulse_id ?? undefined;
      },
      30_000,
      100,
    );
    await waitFor('the buffer to fill its ring', async () => ((await bufferStatus(statusPort)).buffer.depth >= depth ? true : undefined), (depth / rate) * 3000 + 30_000, 200);
    const w = await startWriter(`tcp://127.0.0.1:${out}`, path);
    // The range is set after the writer is up, ~2 s ahead of what the buffer holds now.
    const now = (await bufferStatus(statusPort)).buffer.newest_pulse_id ?? newest;
    const start = now + 200;
    const stop = start + pulses - 1;
    await setRange(w, start, stop);
    const dropped0 = (await bufferStatus(statusPort)).replay.dropped;
    // The range as produced: from its first pulse in the buffer to its last. CPU is counted as
    // CPU seconds per second of that range: the buffer's and the simulator's over the range, the
    // writer's from the range's start to its exit (its work for the range, including catching up
    // and closing the file). Above 100% a process needs more than a core for this stream.
    await waitFor('the first pulse of the range', async () => ((await bufferStatus(statusPort)).buffer.newest_pulse_id ?? 0) >= start || undefined, 30_000, 50);
    const sample = () => ({ t: process.hrtime.bigint(), sim: cpuSeconds(sim.pid), buffer: cpuSeconds(buffer.pid), writer: cpuSeconds(w.child.pid) });
    const first = sample();
    let last = first;
    let produced: typeof first | null = null;
    let polling = false;
    // The writer's resident memory while the range is produced (flat: no growth per message).
    const rss: { t: bigint; mib: number }[] = [];
    const timer = setInterval(() => {
      const x = sample();
      if (!Number.isNaN(x.writer)) last = x;
      const mib = rssKiB(w.child.pid) / 1024;
      if (produced === null && Number.isFinite(mib)) rss.push({ t: x.t, mib });
      if (produced !== null || polling) return;
      polling = true;
      bufferStatus(statusPort)
        .then((b) => {
          if ((b.buffer.newest_pulse_id ?? 0) >= stop && produced === null) produced = sample();
        })
        .catch(() => undefined)
        .finally(() => (polling = false));
    }, 200);
    // The simulator may be slower than 100 Hz (it shares the cores): allow 3x the range to produce it.
    const producedBy = Date.now() + seconds * 3000 + 10_000;
    while (produced === null && Date.now() < producedBy && w.child.proc.exitCode === null) await sleep(200);
    const tProduced = Date.now();
    // Then the writer has 60 s to finish (catch up, close the file); after that it is stopped and writes what it has.
    const ended = await timeoutAfter(w.child.exited, 60_000);
    const lagS = (Date.now() - tProduced) / 1000;
    clearInterval(timer);
    if (ended === 'timeout') await w.child.stop();
    const code = await w.child.exited;
    const bs = await bufferStatus(statusPort);
    const check = checkRangeFile(path, start, stop);
    await Promise.all([sim.stop(), buffer.stop()]);
    const end = (produced as typeof first | null) ?? last;
    const rangeS = Number(end.t - first.t) / 1e9;
    const sourceHz = pulses / rangeS;
    const share = (a: number, b: number) => (100 * (b - a)) / rangeS;
    const cpu = { sim: share(first.sim, end.sim), buffer: share(first.buffer, end.buffer), writer: share(first.writer, last.writer) };
    const dropped = bs.replay.dropped - dropped0;
    process.stderr.write(
      `  e2e: range [${start}..${stop}] produced in ${rangeS.toFixed(1)} s (${sourceHz.toFixed(1)} Hz), rows ${check.rows}/${pulses}, writer exit ${code} ` +
        `${lagS.toFixed(1)} s after the range${ended === 'timeout' ? ' (stopped after the timeout)' : ''}, buffer dropped ${dropped}, ` +
        `CPU s per s of range: sim ${pct(cpu.sim)} buffer ${pct(cpu.buffer)} writer ${pct(cpu.writer)}${check.error !== null ? `, file: ${check.error}` : ''}\n`,
    );
    const what = `e2e sim→buffer→writer, ${scalars} float64 + ${sc.cameras === 1 ? 'a 1024x1024 bitshuffle_lz4 camera' : `${sc.cameras} 1024x1024 bitshuffle_lz4 cameras`} at ${rate} Hz (source reached ${sourceHz.toFixed(0)} Hz), ${pulses} pulses`;
    // Lost = pulses of the range missing in the file. The buffer's dropped count is shown as the
    // likely cause; it may include messages after the range (dropped while the writer caught up).
    const lost = check.lost;
    const sum = cpu.buffer + cpu.writer;
    // RSS growth from a quarter of the range (datasets created, batches at their size) to its end.
    const quarter = first.t + (end.t - first.t) / 4n;
    const fromQuarter = rss.filter((r) => r.t >= quarter);
    const rssStart = fromQuarter[0]?.mib ?? NaN;
    const rssEnd = fromQuarter[fromQuarter.length - 1]?.mib ?? NaN;
    const rssPeak = Math.max(...fromQuarter.map((r) => r.mib));
    return [
      {
        measure: `${what}: rows written (${lost} lost; buffer dropped ${dropped} for the writer; writer done ${lagS.toFixed(0)} s after the range)`,
        ours: check.rows,
        baseline: pulses,
        baselineName: 'pulses in the range',
        unit: 'rows',
        goal: '0 loss',
        met: lost === 0 && check.rows === pulses && code === 0,
      },
      {
        measure: `${what}: CPU of buffer ${pct(cpu.buffer)} + writer ${pct(cpu.writer)} (simulator ${pct(cpu.sim)})`,
        ours: sum,
        baseline: 100,
        baselineName: 'one core (CPU s per s of range), lower is better',
        unit: '% of a core',
        goal: 'buffer + writer < 1 core',
        met: sum < 100,
      },
      {
        measure: `${what}: writer RSS from a quarter of the range to its end: ${rssStart.toFixed(0)} → ${rssEnd.toFixed(0)} MiB (peak ${rssPeak.toFixed(0)})`,
        ours: rssEnd - rssStart,
        baseline: 64,
        baselineName: '64 MiB of growth',
        unit: 'MiB',
        goal: 'flat: < 64 MiB growth',
        met: Number.isFinite(rssEnd - rssStart) && rssEnd - rssStart < 64,
      },
    ];
  } finally {
    await stopChildren();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { formatTable } = await import('./table.js');
  console.log(formatTable(await run({ quick: process.argv.includes('--quick') })));
}
