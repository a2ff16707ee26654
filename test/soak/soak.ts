// Opt-in soak: simulator (100 Hz, 1000 float64 scalars + a 1024x1024 uint16 bitshuffle camera)
// → sf_bsread_buffer → one sf_bsread_writer per 30 s range (3000 pulses), ranges back to back.
//   node dist/test/soak/soak.js --minutes 30 [--range_s 30] [--dir /tmp/soak] [--keep]
// Pass: every file holds exactly its range (no missing pulse, consecutive pulse ids, the
// summary attributes say 0 missing), the buffer dropped nothing for the writers, RSS flat.
// Prints one JSON line per range and a final summary; exit 0 on pass, 1 on failure.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuSeconds, rssKiB } from '../../src/demo/process-stats.js';
import { h5py } from '../helpers/h5py.js';
import { freePort } from '../helpers/net.js';
import { startProgram, stopAllPrograms } from '../helpers/process.js';
import { waitFor } from '../helpers/wait.js';
import { PARAMETERS, startWriter } from '../integration/writer-helpers.js';
import { bufferStatus, startBuffer } from '../unit/buffer/helpers.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : dflt;
}
const MINUTES = Number(arg('minutes', '30'));
const RANGE_S = Number(arg('range_s', '30'));
const KEEP = process.argv.includes('--keep');
const dir = mkdtempSync(join(arg('dir', tmpdir()), 'soak-'));

interface FileCheck {
  rows: number;
  first: number;
  last: number;
  consecutive: boolean;
  cam_present: number;
  scalar_present_min: number;
  attrs: Record<string, unknown>;
}

async function main(): Promise<number> {
  const simPort = await freePort();
  const out = await freePort();
  const statusPort = await freePort();
  const sim = startProgram('bsread', [
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
    '--stats_interval',
    '60',
  ]);
  const buffer = await startBuffer([`tcp://127.0.0.1:${simPort}`, '-o', String(out), '-b', '1000', '--buffer_bytes', '2G', '--status_port', String(statusPort), '--analyzer']);
  const first = await waitFor('the buffer receives', async () => (await bufferStatus(statusPort)).buffer.newest_pulse_id, 30_000, 100);
  const t0 = Date.now();
  const rss = { sim: { start: rssKiB(sim.child.pid!), end: NaN }, buffer: { start: NaN, end: NaN }, writers: [] as { start: number; end: number }[] };
  const failures: string[] = [];
  const perRange = Math.round(RANGE_S * 100);
  let start = first + 200;
  let ranges = 0;
  let rows = 0;
  // The writer of the next range is started (waiting, from a future pulse id) while the current
  // one writes, so the ranges are back to back and no start-up time falls between them.
  const prepare = async (from: number, index: number) => {
    const to = from + perRange - 1;
    const path = join(dir, `range-${index}.h5`);
    const w = await startWriter(`tcp://127.0.0.1:${out}`, path);
    await w.call('POST', '/parameters', JSON.stringify(PARAMETERS));
    await w.call('PUT', `/stop_pulse_id/${to}`);
    const r = await w.call('PUT', `/start_pulse_id/${from}`);
    if (r.state !== 'ok') failures.push(`range ${index}: start refused: ${r.status}`);
    return { w, path, stop: to };
  };
  let nextWriter = prepare(start, 0);
  while (Date.now() - t0 < MINUTES * 60_000) {
    const { w, path, stop } = await nextWriter;
    nextWriter = prepare(stop + 1, ranges + 1);
    const pid = w.proc.child.pid!;
    await new Promise((res) => setTimeout(res, 3000));
    const wStart = rssKiB(pid);
    // After range 0 the ring (-b 1000, 10 s at 100 Hz) is full: its size from then on is the steady state.
    if (ranges === 1) rss.buffer.start = rssKiB(buffer.child.pid!);
    let wEnd = wStart;
    const cpu0 = { w: cpuSeconds(pid), b: cpuSeconds(buffer.child.pid!), s: cpuSeconds(sim.child.pid!), t: Date.now() };
    let wCpu = cpu0.w;
    const sampler = setInterval(() => {
      const v = rssKiB(pid);
      if (!Number.isNaN(v)) wEnd = v;
      const c = cpuSeconds(pid);
      if (!Number.isNaN(c)) wCpu = c;
    }, 1000);
    const code = await Promise.race([w.proc.exited, new Promise<string>((res) => setTimeout(() => res('timeout'), RANGE_S * 1000 + 60_000))]);
    clearInterval(sampler);
    const wall = (Date.now() - cpu0.t) / 1000;
    const cpuPct = (a: number, b: number): number => Math.round(((b - a) / wall) * 1000) / 10;
    const cpu = { writer: cpuPct(cpu0.w, wCpu), buffer: cpuPct(cpu0.b, cpuSeconds(buffer.child.pid!)), sim: cpuPct(cpu0.s, cpuSeconds(sim.child.pid!)) };
    if (code !== 0) failures.push(`range ${ranges}: writer ended with ${code}: ${w.proc.stderr().slice(-1000)}`);
    rss.writers.push({ start: wStart, end: wEnd });
    const f = await h5py<FileCheck>(
      path,
      `
f = h5py.File(path, "r")
p = f["/data/SLG-LCAM-C041:FPICTURE/pulse_id"][:]
pres = f["/data/SLG-LCAM-C041:FPICTURE/is_data_present"][:]
names = [k for k in f["/data"].keys() if k != "SLG-LCAM-C041:FPICTURE"]
result = {"rows": int(len(p)), "first": int(p[0]) if len(p) else -1, "last": int(p[-1]) if len(p) else -1,
  "consecutive": bool(np.all(np.diff(p) == 1)), "cam_present": int(pres.sum()),
  "scalar_present_min": int(min(f["/data/%s/is_data_present" % n][:].sum() for n in names[:50])),
  "attrs": {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in f.attrs.items()}}
`,
    ).catch((e: unknown): FileCheck => ({ rows: -1, first: -1, last: -1, consecutive: false, cam_present: -1, scalar_present_min: -1, attrs: { error: String(e) } }));
    const ok =
      f.rows === perRange &&
      f.first === start &&
      f.last === stop &&
      f.consecutive &&
      f.cam_present === perRange &&
      f.scalar_present_min === perRange &&
      f.attrs['missing_pulse_ids'] === 0;
    if (!ok) {
      failures.push(`range ${ranges} [${start}..${stop}]: ${JSON.stringify(f)}`);
      console.log(JSON.stringify({ range: ranges, failed_check: f }));
    }
    const bs = await bufferStatus(statusPort);
    console.log(
      JSON.stringify({
        range: ranges,
        start,
        stop,
        ok,
        rows: f.rows,
        writer_rss_kb: { start: wStart, end: wEnd },
        buffer_rss_kb: rssKiB(buffer.child.pid!),
        buffer_dropped: bs.replay.dropped,
        source_missing_pulses: bs.analyzer?.missing_pulses ?? null,
        cpu_pct: cpu,
        minutes: (Date.now() - t0) / 60_000,
      }),
    );
    if (!KEEP) rmSync(path, { force: true });
    rows += f.rows;
    ranges++;
    start = stop + 1;
  }
  const pending = await nextWriter;
  await pending.w.proc.stop('SIGTERM');
  rmSync(pending.path, { force: true });
  const bs = await bufferStatus(statusPort);
  rss.sim.end = rssKiB(sim.child.pid!);
  rss.buffer.end = rssKiB(buffer.child.pid!);
  if (bs.replay.dropped !== 0) failures.push(`buffer dropped ${bs.replay.dropped} messages for consumers`);
  const summary = {
    minutes: Math.round(((Date.now() - t0) / 60_000) * 10) / 10,
    ranges,
    rows,
    failures,
    buffer: { received: bs.input.received, malformed: bs.input.malformed, dropped: bs.replay.dropped, analyzer_missing_pulses: bs.analyzer?.missing_pulses ?? null },
    rss_kb: { sim: rss.sim, buffer: rss.buffer, first_writer: rss.writers[0], last_writer: rss.writers[rss.writers.length - 1] },
  };
  console.log(`SOAK ${failures.length === 0 ? 'PASS' : 'FAIL'} ${JSON.stringify(summary)}`);
  await sim.stop('SIGTERM');
  await buffer.stop('SIGTERM');
  if (!KEEP) rmSync(dir, { recursive: true, force: true });
  return failures.length === 0 ? 0 : 1;
}

main()
  .then(async (code) => {
    await stopAllPrograms();
    process.exit(code);
  })
  .catch(async (e: unknown) => {
    console.error(e);
    await stopAllPrograms();
    process.exit(1);
  });
