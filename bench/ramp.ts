// Maximum sustainable rate: the real programs as child processes,
//   bsread simulate (N float64 scalars) → sf_bsread_buffer (-b 1000, --buffer_bytes 2G) → sf_bsread_writer,
// for 100, 1000 and 5000 channels, at rising rates (full: 100, 200, 400, ... Hz, ~5 s per step;
// --quick: 100, 400, 1600, ... Hz, ~2 s per step). One buffer serves the whole run. Each step
// starts a writer for the fresh range [X, X+n-1] (it waits for it through the buffer's replay),
// then a simulator with --start_pulse_id X --count n --rate R (the simulator numbers messages
// with consecutive pulse ids whatever the rate). A step passes when
//   - the file holds exactly the n pulses of the range (no row missing),
//   - the buffer received all n messages and its replay `dropped` counter did not grow,
//   - the writer has finished (file closed, process ended) within max(2 s, step/2) + 1 s per 1000
//     channels (its fixed cost per file: creating 3 datasets per channel at the first message,
//     ~0.75 s per 1000 channels, and closing them) of the simulator's last send; otherwise it is
//     falling behind and the rate is not sustainable (a deep buffer would hide that in a short
//     step), and
//   - the simulator reached >= 90% of the rate (from its own log: messages over the time from its
//     first to its last send). If not, and it used >= 80% of a core meanwhile, the step is
//     "source-limited" (the simulator, on the same 2 cores as buffer and writer, cannot produce
//     the rate); with CPU to spare it is "rate not reached" (it waited: back-pressure from the
//     buffer, or CPU contention). Either way the ramp ends there.
// The ramp of a channel count ends at the first step that does not pass, or when its share of
// the time budget (steps started within ~200 s, quick ~15 s) is used up; when already 100 Hz does not
// pass, a full run tries 50 and 25 Hz, to show what does. Reported per channel count: the
// highest rate that passed, against 100 Hz (SwissFEL's repetition rate), and why the ramp ended.
// Env: BENCH_RAMP_CHANNELS (e.g. "1000" or "100,1000"), BENCH_RAMP_STEP_S.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pulseIdAt } from '../src/sim/values.js';
import { bufferStatus, checkRangeFile, cpuSeconds, freePort, PROGRAMS, setRange, sleep, startChild, startWriter, stopChildren, timeoutAfter, waitFor, type Child } from './e2e.js';
import type { BenchOptions, BenchRow } from './table.js';

interface StepResult {
  rate: number;
  count: number;
  ok: boolean;
  /** Why the step did not pass (null when it did). */
  reason: string | null;
  /** The same in a few words, for the table. */
  short: string | null;
  sourceLimited: boolean;
  achievedHz: number;
  simCpuPct: number;
  rows: number;
  lost: number;
  dropped: number;
  received: number;
  /** Seconds from the simulator's last send to the writer's exit. */
  lagS: number;
}

interface SimLog {
  startMs: number | null;
  doneMs: number | null;
  sent: number | null;
  cpuAtStart: number;
}

export async function step(
  /** writerSource: the writer's stream address (default: the buffer at `out`, through its replay service). */
  ctx: { simPort: number; out: number; statusPort: number; dir: string; writerSource?: string },
  channels: number,
  rate: number,
  start: number,
  stepS: number,
): Promise<StepResult> {
  const count = Math.max(10, Math.round(rate * stepS));
  const stop = start + count - 1;
  const path = join(ctx.dir, `ramp-${channels}-${rate}.h5`);
  let sim: Child | null = null;
  let writer: Child | null = null;
  try {
    // The previous step's writer releases its replay stream when it ends; wait for that, so that
    // the dropped counter below belongs to this step only.
    await waitFor('earlier replay consumers to be released', async () => ((await bufferStatus(ctx.statusPort)).replay.consumers.length === 0 ? true : undefined), 5000).catch(
      (e: unknown) => process.stderr.write(`  ramp: ${String(e)}\n`),
    );
    const w = await startWriter(ctx.writerSource ?? `tcp://127.0.0.1:${ctx.out}`, path);
    writer = w.child;
    await setRange(w, start, stop);
    const bs0 = await bufferStatus(ctx.statusPort);
    const log: SimLog = { startMs: null, doneMs: null, sent: null, cpuAtStart: NaN };
    const s = startChild(
      'simulator',
      PROGRAMS.bsread,
      [
        'simulate',
        '-a',
        `tcp://127.0.0.1:${ctx.simPort}`,
        '--scalars',
        String(channels),
        '--rate',
        String(rate),
        '--count',
        String(count),
        '--start_pulse_id',
        String(start),
        '--stats_interval',
        '0',
        '--linger',
        '10000',
        '--log_level',
        'INFO',
      ],
      (line) => {
        let j: { time?: number; msg?: string; sent?: number };
        try {
          j = JSON.parse(line) as typeof j;
        } catch {
          return;
        }
        if (j.msg?.startsWith('sending on') === true) {
          log.startMs = j.time ?? Date.now();
          log.cpuAtStart = cpuSeconds(s.pid);
        } else if (j.msg?.startsWith('done:') === true) {
          log.doneMs = j.time ?? Date.now();
          log.sent = j.sent ?? null;
        }
      },
    );
    sim = s;
    let simCpu = { t: Date.now(), cpu: NaN };
    const sampler = setInterval(() => {
      const c = cpuSeconds(s.pid);
      if (!Number.isNaN(c)) simCpu = { t: Date.now(), cpu: c };
    }, 100);
    const simEnd = await timeoutAfter(s.exited, (count / rate) * 3000 + 20_000);
    clearInterval(sampler);
    if (simEnd === 'timeout') await s.stop();
    const doneMs = log.doneMs ?? Date.now();
    // The writer's fixed cost per file: creating the 3 datasets per channel at the first message
    // (~0.75 s per 1000 channels here) and closing them (~0.2 s per 1000 channels).
    const allowedLagS = Math.max(2, stepS / 2) + channels / 1000;
    let wEnd = await timeoutAfter(w.child.exited, allowedLagS * 1000 - (Date.now() - doneMs));
    const behind = wEnd === 'timeout';
    if (behind) {
      // Give it a few seconds more to finish the range (for the loss count), then stop it: it writes what it has.
      wEnd = await timeoutAfter(w.child.exited, 10_000);
      if (wEnd === 'timeout') await w.child.stop();
    }
    const lagS = (Date.now() - doneMs) / 1000;
    const bs1 = await bufferStatus(ctx.statusPort);
    const check = checkRangeFile(path, start, stop);
    const received = bs1.input.received - bs0.input.received;
    // Dropped for the writer: by the replay service, or (JetStream) given up before the server took it.
    const droppedOf = (b: typeof bs0): number => b.replay.dropped + (b.jetstream?.given_up ?? 0);
    const dropped = droppedOf(bs1) - droppedOf(bs0);
    const sent = log.sent ?? 0;
    const achievedHz = log.startMs !== null && log.doneMs !== null && log.doneMs > log.startMs ? sent / ((log.doneMs - log.startMs) / 1000) : 0;
    const simCpuPct = log.startMs !== null ? (100 * (simCpu.cpu - log.cpuAtStart)) / ((simCpu.t - log.startMs) / 1000) : NaN;
    const sourceLimited = simEnd !== 'timeout' && achievedHz < 0.9 * rate;
    let reason: string | null = null;
    let short: string | null = null;
    const fail = (long: string, brief: string) => {
      reason = long;
      short = `${brief} at ${rate} Hz`;
    };
    if (simEnd === 'timeout' || simEnd !== 0) fail(`simulator ended with ${simEnd}: ${s.stderr().slice(-300)}`, 'simulator failed');
    else if (check.lost > 0 || check.rows !== count) fail(`${check.lost} of ${count} rows lost${check.error !== null ? ` (${check.error})` : ''}`, `${check.lost} lost`);
    else if (received !== count) fail(`buffer received ${received} of ${count}`, `buffer got ${received}/${count}`);
    else if (dropped > 0) fail(`buffer dropped ${dropped} for replay`, `buffer dropped ${dropped}`);
    else if (behind) fail(`writer finished ${lagS.toFixed(1)} s after the last send (falling behind)`, `writer ${lagS.toFixed(1)} s behind`);
    else if (sourceLimited && simCpuPct >= 80) {
      fail(`source-limited (the simulator reached ${achievedHz.toFixed(0)} Hz at ${simCpuPct.toFixed(0)}% of a core)`, `source-limited (sim ${achievedHz.toFixed(0)} Hz)`);
    } else if (sourceLimited) {
      // The simulator had CPU to spare: it waited on the buffer (back-pressure) or on the other processes (2 cores).
      fail(
        `rate not reached (the simulator reached ${achievedHz.toFixed(0)} Hz at only ${simCpuPct.toFixed(0)}% of a core: back-pressure or CPU contention)`,
        `rate not reached (sim ${achievedHz.toFixed(0)} Hz, ${simCpuPct.toFixed(0)}% CPU)`,
      );
    }
    return { rate, count, ok: reason === null, reason, short, sourceLimited, achievedHz, simCpuPct, rows: check.rows, lost: check.lost, dropped, received, lagS };
  } finally {
    await Promise.all([sim?.stop(), writer?.stop()]);
    rmSync(path, { force: true });
  }
}

/** The ramp's buffer: `-b 1000 --buffer_bytes 2G`, PULL from the simulator, plus `extra`; resolves once its status answers. */
export async function startRampBuffer(simPort: number, extra: string[], name = 'buffer'): Promise<{ buffer: Child; out: number; statusPort: number }> {
  const out = await freePort();
  const statusPort = await freePort();
  const args = [
    `tcp://127.0.0.1:${simPort}`,
    '-o',
    String(out),
    // The replay service on OUTPUT_PORT+1 (the default), where the writer looks for it: on any
    // other port the writer reads the compatible output instead, which skips what the ring
    // evicts before sending it.
    '-b',
    '1000',
    '--buffer_bytes',
    '2G',
    '--status_port',
    String(statusPort),
  ];
  const buffer = startChild(name, PROGRAMS.buffer, [...args, '--log_level', 'WARNING', ...extra]);
  await waitFor(
    'the buffer status',
    async () => {
      if (buffer.proc.exitCode !== null) throw new Error(`buffer exited: ${buffer.stderr().slice(-1000)}`);
      return (await bufferStatus(statusPort)) ? true : undefined;
    },
    20_000,
  );
  return { buffer, out, statusPort };
}

export async function run(opts: BenchOptions): Promise<BenchRow[]> {
  const channelCounts = (process.env['BENCH_RAMP_CHANNELS'] ?? '100,1000,5000').split(',').map(Number);
  const stepS = Number(process.env['BENCH_RAMP_STEP_S'] ?? (opts.quick ? 2 : 5));
  const factor = opts.quick ? 4 : 2;
  const budgetS = opts.quick ? 15 : 200;
  const tStart = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'bench-ramp-'));
  const results = new Map<number, BenchRow>();
  try {
    const simPort = await freePort();
    const { out, statusPort } = await startRampBuffer(simPort, []);
    const ctx = { simPort, out, statusPort, dir };
    let next = pulseIdAt(Date.now());
    // The most expensive channel count first: each gets an equal share of what is left of the
    // budget, so time a short ramp does not use goes to the longer ones after it.
    const order = [...channelCounts].sort((a, b) => b - a);
    for (const [k, channels] of order.entries()) {
      const t0 = Date.now();
      const share = (budgetS - (t0 - tStart) / 1000) / (order.length - k);
      const attempt = async (rate: number): Promise<StepResult> => {
        const r = await step(ctx, channels, rate, next, stepS);
        next += r.count + 1000;
        process.stderr.write(
          `  ramp ${channels} ch @ ${rate} Hz: ${r.ok ? 'ok' : 'FAIL'} rows ${r.rows}/${r.count}, received ${r.received}, dropped ${r.dropped}, ` +
            `sim ${r.achievedHz.toFixed(0)} Hz at ${r.simCpuPct.toFixed(0)}% CPU, writer done ${r.lagS.toFixed(1)} s after the last send${r.reason !== null ? ` — ${r.reason}` : ''}\n`,
        );
        await sleep(200);
        return r;
      };
      let best = 0;
      let end = 'time budget used up';
      const firstStep = await attempt(100);
      if (!firstStep.ok) {
        // Not even 100 Hz: find what does pass below it (halving), for the record (not in --quick).
        end = firstStep.short ?? 'failure';
        for (let rate = 50; rate >= 25 && !opts.quick; rate /= 2) {
          if ((await attempt(rate)).ok) {
            best = rate;
            break;
          }
        }
      } else {
        best = 100;
        for (let rate = 100 * factor; rate <= 102_400; rate *= factor) {
          // Start a step only if it can end within the budget (the step plus ~3 s of start and check).
          if ((Date.now() - t0) / 1000 + stepS + 3 > share) break;
          const r = await attempt(rate);
          if (!r.ok) {
            end = r.short ?? 'failure';
            break;
          }
          best = rate;
          if (rate * factor > 102_400) end = `all rates to ${rate} Hz passed`;
        }
      }
      results.set(channels, {
        measure: `max sustained rate (0 loss, writer keeping up), ${channels} float64 scalars, sim→buffer→writer, ${stepS} s steps x${factor} (ended: ${end})`,
        ours: best,
        baseline: 100,
        baselineName: '100 Hz (SwissFEL repetition rate)',
        unit: 'Hz',
        goal: '>= 100 Hz',
        met: best >= 100,
      });
    }
  } finally {
    await stopChildren();
    rmSync(dir, { recursive: true, force: true });
  }
  return channelCounts.filter((c) => results.has(c)).map((c) => results.get(c)!);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { formatTable } = await import('./table.js');
  console.log(formatTable(await run({ quick: process.argv.includes('--quick') })));
}
