// A 3-node JetStream cluster on this machine (docs/scale-out.md), Debian's nats-server as child
// processes on loopback:
//  1. raw rates: publishing (256 in flight, as the buffer does) and reading (the writer's
//     reader) 120 kB and 1 MB messages, R3 on the cluster against R1 on one server;
//  2. 100 Hz × 1000 float64 scalars, a PUB simulator, two buffers (--mode sub) publishing into
//     one R3 stream, a writer on all three servers: 0 loss, CPU of every process;
//  3. the highest loss-free rate of 1000 scalars through R3 against R1 (ramp.ts's steps, one buffer).
// Env: BENCH_JSC_MESSAGES (120 kB: 2000, 1 MB: 300; quick a quarter), BENCH_JSC_SECONDS (30, quick 5),
// BENCH_JSC_STEP_S (3, quick 2), BENCH_JSC_PARTS (raw,e2e,ramp).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NatsCluster, NatsServer } from '../src/demo/nats-server.js';
import {
  encodeRecord,
  ensureStream,
  JetStreamConnection,
  JetStreamReader,
  recordHeaders,
  recordMessageId,
  splitRecord,
  subjectOf,
  PART_HEADROOM_BYTES,
} from '../src/jetstream/index.js';
import { makeHeaders } from '../src/jetstream/connection.js';
import { createLogger } from '../src/log.js';
import { pulseIdAt } from '../src/sim/values.js';
import { packFrames } from '../src/transport/index.js';
import { checkRangeFile, cpuSeconds, freePort, PROGRAMS, setRange, sleep, startChild, startWriter, stopChildren, timeoutAfter, waitFor, type Child } from './e2e.js';
import { startRampBuffer, step } from './ramp.js';
import type { BenchOptions, BenchRow } from './table.js';

const quiet = createLogger('bench', 'ERROR');

interface Rates {
  publish: number;
  read: number;
}

/** Publishes n messages of `bytes` into a fresh stream with `replicas`, then reads them all; messages per second. */
async function rawRates(servers: string[], stream: string, replicas: number, bytes: number, n: number): Promise<Rates> {
  const conn = await JetStreamConnection.open({ servers, name: 'bench', log: quiet });
  try {
    await waitFor('JetStream', async () => (await conn.jsm.getAccountInfo()) !== null, 30_000, 200);
    const partBytes = conn.maxPayload - PART_HEADROOM_BYTES;
    await ensureStream(conn.jsm, { name: stream, subject: subjectOf(stream), maxAgeMs: 3_600_000, maxBytes: null, replicas, duplicateWindowMs: 120_000 }, partBytes);
    const payload = encodeRecord(packFrames([Buffer.alloc(bytes - 16, 7)]));
    const parts = splitRecord(payload, partBytes);
    const inflight: Promise<unknown>[] = [];
    const t0 = performance.now();
    for (let p = 1; p <= n; p++) {
      parts.forEach((part, i) =>
        inflight.push(
          conn.js.publish(subjectOf(stream), part, {
            msgID: recordMessageId(p, i, parts.length),
            headers: makeHeaders(recordHeaders({ pulseId: p, globalTimestamp: null }, i, parts.length)),
          }),
        ),
      );
      while (inflight.length >= 256 || (inflight.length > 0 && inflight.length * bytes > 64 * 1024 * 1024)) await inflight.shift();
    }
    await Promise.all(inflight);
    const publish = n / ((performance.now() - t0) / 1000);
    const t1 = performance.now();
    const reader = await JetStreamReader.open(conn, stream, 1, { log: quiet });
    let got = 0;
    while (got < n) {
      const r = await reader.receive(10_000);
      if (r === null) break;
      got++;
    }
    const read = got / ((performance.now() - t1) / 1000);
    reader.close();
    return { publish, read };
  } finally {
    await conn.close();
  }
}

async function raw(single: NatsServer, cluster: NatsCluster, quick: boolean): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const divisor = quick ? 4 : 1;
  const sizes: [string, number, number][] = [
    ['120 kB', 120_000, Number(process.env['BENCH_JSC_MESSAGES'] ?? 2000) / divisor],
    ['1 MB', 1_000_000, Number(process.env['BENCH_JSC_MESSAGES'] ?? 300) / divisor],
  ];
  for (const [label, bytes, n] of sizes) {
    const r1 = await rawRates([`127.0.0.1:${single.port}`], `RAW1_${bytes}`, 1, bytes, n);
    const r3 = await rawRates(
      cluster.nodes.map((x) => `127.0.0.1:${x.port}`),
      `RAW3_${bytes}`,
      3,
      bytes,
      n,
    );
    for (const what of ['publish', 'read'] as const) {
      const mb = (r: number): string => `${((r * bytes) / 1e6).toFixed(0)} MB/s`;
      rows.push({
        measure: `${what} ${label} messages, ${n} of them: R3 on 3 nodes (${mb(r3[what])}) vs R1 on one (${mb(r1[what])})`,
        ours: r3[what],
        baseline: r1[what],
        baselineName: 'R1 on a single nats-server, same client, same run',
        unit: 'msg/s',
        goal: '>= 100 msg/s (100 Hz)',
        met: r3[what] >= 100,
      });
    }
  }
  return rows;
}

async function endToEnd(cluster: NatsCluster, dir: string, quick: boolean): Promise<BenchRow> {
  const seconds = Number(process.env['BENCH_JSC_SECONDS'] ?? (quick ? 5 : 30));
  const count = seconds * 100;
  const simPort = await freePort();
  const stream = 'E2E';
  const path = join(dir, 'e2e.h5');
  const sim0 = `tcp://127.0.0.1:${simPort}`;
  const buffers: { buffer: Child; statusPort: number }[] = [];
  for (let i = 0; i < 2; i++) {
    const b = await startRampBuffer(simPort, ['--mode', 'sub', '--jetstream', cluster.urls, '--jetstream_stream', stream, '--replicas', '3'], `buffer-${i + 1}`);
    buffers.push(b);
  }
  const start = pulseIdAt(Date.now()) + 300;
  const stop = start + count - 1;
  const w = await startWriter(`nats://${cluster.hostPorts}/${stream}`, path);
  await setRange(w, start, stop);
  const sim: Child = startChild('simulator', PROGRAMS.bsread, [
    'simulate',
    '-a',
    sim0,
    '--mode',
    'pub',
    '--scalars',
    '1000',
    '--rate',
    '100',
    // A little before the range, so both buffers are subscribed when it starts.
    '--start_pulse_id',
    String(start - 300),
    '--count',
    String(count + 300),
    '--log_level',
    'WARNING',
  ]);
  const procs: [string, number][] = [
    ['simulator', sim.pid],
    ['buffer 1', buffers[0]!.buffer.pid],
    ['buffer 2', buffers[1]!.buffer.pid],
    ['writer', w.child.pid],
    ...cluster.nodes.map((n, i): [string, number] => [`nats ${cluster.names[i]}`, n.pid ?? -1]),
  ];
  const first = procs.map(([, pid]) => ({ t: Date.now(), cpu: cpuSeconds(pid) }));
  const last = first.map((x) => ({ ...x }));
  const sampler = setInterval(() => {
    procs.forEach(([, pid], i) => {
      const c = cpuSeconds(pid);
      if (Number.isFinite(c)) last[i] = { t: Date.now(), cpu: c };
    });
  }, 200);
  await timeoutAfter(sim.exited, (count / 100) * 3000 + 30_000);
  const end = await timeoutAfter(w.child.exited, 30_000);
  clearInterval(sampler);
  if (end === 'timeout') await w.child.stop();
  const pct = last.map((l, i) => (100 * (l.cpu - first[i]!.cpu)) / Math.max(0.001, (l.t - first[i]!.t) / 1000));
  const check = checkRangeFile(path, start, stop);
  await Promise.all(buffers.map((b) => b.buffer.stop()));
  rmSync(path, { force: true });
  const ours = pct.slice(1).reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
  return {
    measure: `100 Hz x 1000 scalars, PUB source, two buffers → 3-node R3 → writer, ${seconds} s: ${check.rows}/${count} rows; CPU ${procs.map(([name], i) => `${name} ${pct[i]!.toFixed(0)}%`).join(', ')}`,
    ours: ours / 100,
    baseline: 1,
    baselineName: 'one core (the cores of everything but the simulator)',
    unit: 'cores',
    goal: '0 loss',
    met: check.lost === 0 && check.rows === count,
  };
}

async function rampRatio(single: NatsServer, cluster: NatsCluster, dir: string, quick: boolean): Promise<BenchRow> {
  const stepS = Number(process.env['BENCH_JSC_STEP_S'] ?? (quick ? 2 : 3));
  const budgetS = quick ? 20 : 90;
  const best: { rate: number; end: string }[] = [];
  for (const [label, urls, writerServers, replicas] of [
    ['R1', single.url, `127.0.0.1:${single.port}`, '1'],
    ['R3', cluster.urls, cluster.hostPorts, '3'],
  ] as const) {
    const simPort = await freePort();
    const stream = `RAMP_${label}`;
    const b = await startRampBuffer(simPort, ['--jetstream', urls, '--jetstream_stream', stream, '--replicas', replicas], `buffer-${label}`);
    const t0 = Date.now();
    let next = pulseIdAt(Date.now());
    let ok = 0;
    let end = 'time budget used up';
    try {
      for (let rate = 100; rate <= 12_800; rate *= 2) {
        if (rate > 100 && (Date.now() - t0) / 1000 + stepS + 3 > budgetS) break;
        const r = await step({ simPort, out: b.out, statusPort: b.statusPort, dir, writerSource: `nats://${writerServers}/${stream}` }, 1000, rate, next, stepS);
        next += r.count + 1000;
        process.stderr.write(`  ${label} 1000 ch @ ${rate} Hz: ${r.ok ? 'ok' : 'FAIL'} rows ${r.rows}/${r.count}${r.reason !== null ? ` — ${r.reason}` : ''}\n`);
        await sleep(200);
        if (!r.ok) {
          end = r.short ?? 'failure';
          break;
        }
        ok = rate;
      }
    } finally {
      await b.buffer.stop();
    }
    best.push({ rate: ok, end });
  }
  const [r1, r3] = best as [{ rate: number; end: string }, { rate: number; end: string }];
  return {
    measure: `max loss-free rate, 1000 scalars, sim→buffer→JetStream→writer: R3 on 3 nodes (ended: ${r3.end}) vs R1 (ended: ${r1.end}), ${stepS} s steps x2`,
    ours: r3.rate,
    baseline: r1.rate,
    baselineName: 'R1 on one nats-server, same ramp',
    unit: 'Hz',
    goal: '>= 100 Hz',
    met: r3.rate >= 100,
  };
}

export async function run(opts: BenchOptions): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-jsc-'));
  const single = await NatsServer.start({ storeDir: join(dir, 'single') });
  const cluster = await NatsCluster.start(3, { baseDir: join(dir, 'cluster') });
  const rows: BenchRow[] = [];
  try {
    const parts = (process.env['BENCH_JSC_PARTS'] ?? 'raw,e2e,ramp').split(',');
    if (parts.includes('raw')) rows.push(...(await raw(single, cluster, opts.quick)));
    if (parts.includes('e2e')) rows.push(await endToEnd(cluster, dir, opts.quick));
    if (parts.includes('ramp')) rows.push(await rampRatio(single, cluster, dir, opts.quick));
  } finally {
    await stopChildren();
    await single.stop('SIGTERM', { removeStore: true });
    await cluster.stop({ removeStore: true });
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
