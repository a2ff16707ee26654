// The recent past in NATS JetStream (docs/jetstream.md), with the real programs and Debian's
// nats-server (one node, file storage) as child processes:
//  1. the highest loss-free rate of 1000 float64 scalars, sim → buffer → JetStream → writer,
//     against sim → buffer (memory ring, replay service) → writer in the same run (ramp.ts's
//     steps: exact file, nothing dropped, writer keeping up); goal >= 70 % of the ring path;
//  2. 100 Hz of 1000 scalars + a 1024×1024 uint16 bitshuffle_lz4 camera through JetStream for
//     60 s (quick 6 s): 0 loss, CPU of buffer + writer + nats-server against 1.2 cores;
//  3. finding the start: 60,000 stored messages (10 min at 100 Hz), a range starting 60 s back:
//     time from PUT /start_pulse_id to the first row written, against reading the stream from
//     its start to the same pulse; goal <= 200 ms.
// Env: BENCH_JS_STEP_S (3, quick 2), BENCH_JS_SECONDS (60, quick 6), BENCH_JS_FIND_MESSAGES (60000),
// BENCH_JS_PARTS (rate,camera,find).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeMessage, prepareDataHeader, resolveChannelDef } from '../src/bsread/index.js';
import { NatsServer } from '../src/demo/nats-server.js';
import { encodeRecord, JetStreamConnection, JetStreamReader, ensureStream, recordHeaders, recordMessageId, subjectOf } from '../src/jetstream/index.js';
import { makeHeaders } from '../src/jetstream/connection.js';
import { createLogger } from '../src/log.js';
import { pulseIdAt } from '../src/sim/values.js';
import { packFrames } from '../src/transport/index.js';
import { bufferStatus, checkRangeFile, cpuSeconds, freePort, PROGRAMS, setRange, sleep, startChild, startWriter, stopChildren, timeoutAfter, waitFor, writerCall } from './e2e.js';
import { startRampBuffer, step } from './ramp.js';
import type { BenchOptions, BenchRow } from './table.js';

const quietLog = createLogger('bench', 'ERROR');

function startBuffer(simPort: number, nats: NatsServer | null, stream: string): ReturnType<typeof startRampBuffer> {
  return startRampBuffer(simPort, nats === null ? [] : ['--jetstream', nats.url, '--jetstream_stream', stream], `buffer-${stream}`);
}

/** Highest passing rate of ramp.ts's step, rates doubling from 100 Hz, within budgetS. */
async function ramp(label: string, ctx: Parameters<typeof step>[0], stepS: number, budgetS: number): Promise<{ best: number; end: string }> {
  const t0 = Date.now();
  let next = pulseIdAt(Date.now());
  let best = 0;
  let end = 'time budget used up';
  for (let rate = 100; rate <= 25_600; rate *= 2) {
    if (rate > 100 && (Date.now() - t0) / 1000 + stepS + 3 > budgetS) break;
    const r = await step(ctx, 1000, rate, next, stepS);
    next += r.count + 1000;
    process.stderr.write(
      `  ${label} 1000 ch @ ${rate} Hz: ${r.ok ? 'ok' : 'FAIL'} rows ${r.rows}/${r.count}, dropped ${r.dropped}, writer done ${r.lagS.toFixed(1)} s after the last send${r.reason !== null ? ` — ${r.reason}` : ''}\n`,
    );
    await sleep(200);
    if (!r.ok) {
      end = r.short ?? 'failure';
      break;
    }
    best = rate;
  }
  return { best, end };
}

async function rateRatio(nats: NatsServer, dir: string, quick: boolean): Promise<BenchRow> {
  const stepS = Number(process.env['BENCH_JS_STEP_S'] ?? (quick ? 2 : 3));
  const budgetS = quick ? 20 : 100;
  const results: { best: number; end: string }[] = [];
  for (const viaJetStream of [false, true]) {
    const simPort = await freePort();
    const b = await startBuffer(simPort, viaJetStream ? nats : null, 'RAMP');
    try {
      const ctx = { simPort, out: b.out, statusPort: b.statusPort, dir, writerSource: viaJetStream ? `${nats.url}/RAMP` : undefined };
      results.push(await ramp(viaJetStream ? 'jetstream' : 'ring', ctx, stepS, budgetS));
    } finally {
      await b.buffer.stop();
    }
  }
  const [ring, js] = results as [{ best: number; end: string }, { best: number; end: string }];
  return {
    measure: `max loss-free rate, 1000 float64 scalars, sim→buffer→JetStream (R1, file)→writer, ${stepS} s steps x2 (ended: ${js.end}; ring path ended: ${ring.end})`,
    ours: js.best,
    baseline: ring.best,
    baselineName: 'the memory-ring path (replay service), same ramp',
    unit: 'Hz',
    goal: '>= 70% of baseline',
    met: ring.best > 0 && js.best >= 0.7 * ring.best,
  };
}

async function cameraRun(nats: NatsServer, dir: string, quick: boolean): Promise<BenchRow> {
  const seconds = Number(process.env['BENCH_JS_SECONDS'] ?? (quick ? 6 : 60));
  const count = seconds * 100;
  const simPort = await freePort();
  const b = await startBuffer(simPort, nats, 'CAMERA');
  const path = join(dir, 'camera.h5');
  try {
    const start = pulseIdAt(Date.now()) + 500;
    const stop = start + count - 1;
    const w = await startWriter(`${nats.url}/CAMERA`, path);
    await setRange(w, start, stop);
    // CPU seconds of each process, sampled while it runs (the writer exits at the end of the range).
    const pids = [b.buffer.pid, w.child.pid, nats.pid ?? -1];
    const first = pids.map((pid) => ({ t: Date.now(), cpu: cpuSeconds(pid) }));
    const last = first.map((x) => ({ ...x }));
    const sampler = setInterval(() => {
      pids.forEach((pid, i) => {
        const c = cpuSeconds(pid);
        if (Number.isFinite(c)) last[i] = { t: Date.now(), cpu: c };
      });
    }, 200);
    const sim = startChild('simulator', PROGRAMS.bsread, [
      'simulate',
      '-a',
      `tcp://127.0.0.1:${simPort}`,
      '--scalars',
      '1000',
      '--camera',
      '1024x1024',
      '--camera_compression',
      'bitshuffle_lz4',
      '--rate',
      '100',
      '--count',
      String(count),
      '--start_pulse_id',
      String(start),
      '--linger',
      '10000',
      '--log_level',
      'WARNING',
    ]);
    await timeoutAfter(sim.exited, seconds * 3000 + 20_000);
    const end = await timeoutAfter(w.child.exited, 30_000);
    clearInterval(sampler);
    const cores = last.map((l, i) => (l.cpu - first[i]!.cpu) / Math.max(0.001, (l.t - first[i]!.t) / 1000));
    if (end === 'timeout') await w.child.stop();
    const check = checkRangeFile(path, start, stop);
    const total = cores.reduce((a, c) => a + (Number.isFinite(c) ? c : 0), 0);
    const st = await bufferStatus(b.statusPort);
    return {
      measure: `100 Hz, 1000 scalars + 1024x1024 bitshuffle_lz4 camera through JetStream, ${seconds} s: ${check.rows}/${count} rows, given up ${st.jetstream?.given_up ?? '?'}; CPU buffer ${(100 * cores[0]!).toFixed(0)}% + writer ${(100 * cores[1]!).toFixed(0)}% + nats-server ${(100 * cores[2]!).toFixed(0)}%`,
      ours: total,
      baseline: 1.2,
      baselineName: '1.2 cores (the goal)',
      unit: 'cores',
      goal: '0 loss, < 1.2 cores',
      met: check.lost === 0 && check.rows === count && total < 1.2,
    };
  } finally {
    await b.buffer.stop();
    rmSync(path, { force: true });
  }
}

async function findStart(nats: NatsServer, dir: string): Promise<BenchRow> {
  const n = Number(process.env['BENCH_JS_FIND_MESSAGES'] ?? 60_000);
  const stream = 'FIND';
  const conn = await JetStreamConnection.open({ servers: [`127.0.0.1:${nats.port}`], name: 'bench', log: quietLog });
  const path = join(dir, 'find.h5');
  try {
    await ensureStream(conn.jsm, { name: stream, subject: subjectOf(stream), maxAgeMs: 3_600_000, maxBytes: null, replicas: 1, duplicateWindowMs: 120_000 }, 1 << 20);
    // 60,000 messages of 100 float64 scalars, published as the buffer does.
    const defs = Array.from({ length: 100 }, (_, i) => resolveChannelDef({ name: `FIND:CH${i}`, type: 'float64', shape: [1] }));
    const header = prepareDataHeader(defs);
    const first = pulseIdAt(Date.now()) - n;
    const inflight: Promise<unknown>[] = [];
    for (let k = 0; k < n; k++) {
      const p = first + k;
      const ts = { sec: 1_700_000_000 + Math.floor(k / 100), ns: (k % 100) * 10_000_000 };
      const frames = encodeMessage({ pulseId: p, globalTimestamp: ts, header, channels: defs.map((def, i) => ({ def, value: p + i })) });
      const payload = encodeRecord(packFrames(frames));
      inflight.push(
        conn.js.publish(subjectOf(stream), payload, { msgID: recordMessageId(p, 0, 1), headers: makeHeaders(recordHeaders({ pulseId: p, globalTimestamp: ts }, 0, 1)) }),
      );
      if (inflight.length >= 256) await inflight.shift();
    }
    await Promise.all(inflight);
    const target = first + n - 6000; // 60 s back at 100 Hz

    // Baseline: read the stream from its start until the pulse.
    const t0 = performance.now();
    const reader = await JetStreamReader.open(conn, stream, first, { log: quietLog });
    for (;;) {
      const r = await reader.receive(5000);
      if (r === null) throw new Error('the stream ended before the pulse');
      if (r.pulseId >= target) break;
    }
    const scanMs = performance.now() - t0;
    reader.close();

    // The range reaches past what is stored, so the writer is still writing when it is asked how far it is.
    const lastStored = first + n - 1;
    const w = await startWriter(`${nats.url}/${stream}`, path);
    await writerCall(w.restPort, 'PUT', `/stop_pulse_id/${lastStored + 1000}`);
    const t1 = performance.now();
    const r = await writerCall(w.restPort, 'PUT', `/start_pulse_id/${target}`);
    if (r.state !== 'ok') throw new Error(`start refused: ${r.status}`);
    await waitFor(
      'the first row',
      async () => ((await writerCall(w.restPort, 'GET', '/statistics')) as unknown as { statistics: { messages_written: number } }).statistics.messages_written >= 1 || undefined,
      30_000,
      2,
    );
    const firstRowMs = performance.now() - t1;
    const stored = lastStored - target + 1;
    await waitFor(
      'the stored part of the range',
      async () =>
        ((await writerCall(w.restPort, 'GET', '/statistics')) as unknown as { statistics: { messages_written: number } }).statistics.messages_written >= stored || undefined,
      60_000,
    );
    await writerCall(w.restPort, 'GET', '/stop');
    await timeoutAfter(w.child.exited, 20_000);
    const check = checkRangeFile(path, target, lastStored);
    return {
      measure: `find the start in ${n} stored messages, 60 s back: PUT /start_pulse_id to the first row written (${check.rows}/${stored} rows, exact: ${check.lost === 0 ? 'yes' : 'NO'})`,
      ours: firstRowMs,
      baseline: scanMs,
      baselineName: 'reading the stream from its start to the pulse',
      unit: 'ms',
      goal: '<= 200 ms',
      met: firstRowMs <= 200 && check.lost === 0,
    };
  } finally {
    await conn.close();
    rmSync(path, { force: true });
  }
}

export async function run(opts: BenchOptions): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-jetstream-'));
  const nats = await NatsServer.start({ storeDir: join(dir, 'store') });
  const rows: BenchRow[] = [];
  try {
    // BENCH_JS_PARTS: a comma-separated subset of rate,camera,find (default: all).
    const parts = (process.env['BENCH_JS_PARTS'] ?? 'rate,camera,find').split(',');
    if (parts.includes('rate')) rows.push(await rateRatio(nats, dir, opts.quick));
    if (parts.includes('camera')) rows.push(await cameraRun(nats, dir, opts.quick));
    if (parts.includes('find')) rows.push(await findStart(nats, dir));
  } finally {
    await stopChildren();
    await nats.stop('SIGTERM', { removeStore: true });
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
