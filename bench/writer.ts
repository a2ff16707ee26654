// sf_bsread_writer end to end: the real program (a child process) receives from a PUSH source
// in this process, as fast as the source can send, and writes a file; against a bare zeromq PULL
// receive-only loop in a child process, measured in the same run with the same source.
//   - 1000 float64 scalar channels: messages/s written (goal >= 1000 msg/s with 0 loss);
//   - 1024x1024 uint16 images (uncompressed): MB/s written.
// Env: BENCH_WRITER_MESSAGES (default 5000, quick 1000), BENCH_WRITER_IMAGES (default 300, quick 60).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as zmq from 'zeromq';
import { encodeMainHeader, encodeMessage } from '../src/bsread/index.js';
import { summarizeSwissFelFile } from '../src/writer/file-summary.js';
import type { BenchOptions, BenchRow } from './table.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const WRITER = join(HERE, '..', 'src', 'cli', 'sf_bsread_writer.js');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => resolve(p));
    });
  });
}

/** One message as a template; each send replaces frame 0 (the main header) only. */
function template(kind: 'scalars' | 'image'): Buffer[] {
  if (kind === 'scalars') {
    const channels = [];
    for (let i = 0; i < 1000; i++) channels.push({ def: { name: `SARFE10-PBPG050:CH-${i}`, type: 'float64' as const }, value: i * 0.5 });
    return encodeMessage({ pulseId: 0, globalTimestamp: { sec: 1_700_000_000, ns: 0 }, channels });
  }
  const img = new Uint16Array(1024 * 1024);
  for (let i = 0; i < img.length; i++) img[i] = i & 0xfff;
  return encodeMessage({
    pulseId: 0,
    globalTimestamp: { sec: 1_700_000_000, ns: 0 },
    channels: [{ def: { name: 'SARES20-CAMS142-M5:FPICTURE', type: 'uint16', shape: [1024, 1024] }, value: { shape: [1024, 1024], data: img } }],
  });
}

function hashOf(frames: Buffer[]): string {
  return (JSON.parse(frames[0]!.toString('utf8')) as { hash: string }).hash;
}

/** Sends pulses 0..n-1 as fast as the socket takes them. */
async function sendAll(sock: zmq.Push, tpl: Buffer[], n: number): Promise<void> {
  const hash = hashOf(tpl);
  for (let p = 0; p < n; p++) {
    const frames = tpl.slice();
    frames[0] = encodeMainHeader(p, { sec: 1_700_000_000 + Math.floor(p / 100), ns: (p % 100) * 10_000_000 }, hash, 'none');
    await sock.send(frames);
  }
}

function waitExit(child: ReturnType<typeof spawn>): Promise<number> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code ?? -1)));
}

/** The baseline: a child process that PULLs n messages and exits. Returns seconds from first send to exit. */
async function rawPull(tpl: Buffer[], n: number): Promise<number> {
  const sock = new zmq.Push({ sendHighWaterMark: 1000, linger: 0 });
  await sock.bind('tcp://127.0.0.1:0');
  const script = `
import * as zmq from 'zeromq';
const s = new zmq.Pull({ receiveHighWaterMark: 100 });
s.connect(process.argv[1]);
let n = 0;
for await (const _ of s) { if (++n === ${n}) break; }
s.close();`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script, sock.lastEndpoint!], { stdio: 'inherit', cwd: join(HERE, '..', '..') });
  const exited = waitExit(child);
  const t0 = process.hrtime.bigint();
  await sendAll(sock, tpl, n);
  await exited;
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  sock.close();
  return s;
}

async function rest(port: number, method: string, path: string): Promise<{ state: string; status: string; statistics?: { messages_written: number } }> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, { method });
  return (await r.json()) as { state: string; status: string };
}

/** The writer program writing pulses 0..n-1; returns seconds from first send to exit and rows written. */
async function writer(tpl: Buffer[], n: number, path: string): Promise<{ seconds: number; rows: number }> {
  const sock = new zmq.Push({ sendHighWaterMark: 1000, linger: 0 });
  await sock.bind('tcp://127.0.0.1:0');
  const port = await freePort();
  const child = spawn(process.execPath, [WRITER, sock.lastEndpoint!, path, '-1', String(port), '--log_level', 'WARNING', '--probe_timeout', '100'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = waitExit(child);
  for (let i = 0; ; i++) {
    try {
      if ((await rest(port, 'GET', '/status')).state === 'ok') break;
    } catch {
      if (i > 500) throw new Error(`writer did not start: ${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  await rest(port, 'PUT', `/stop_pulse_id/${n - 1}`);
  await rest(port, 'PUT', '/start_pulse_id/0');
  let rows = 0;
  const poll = setInterval(() => {
    rest(port, 'GET', '/statistics').then((s) => (rows = s.statistics?.messages_written ?? rows), () => {});
  }, 200);
  const t0 = process.hrtime.bigint();
  await sendAll(sock, tpl, n);
  const code = await exited;
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  clearInterval(poll);
  sock.close();
  if (code !== 0) throw new Error(`writer exited with ${code}: ${stderr}`);
  // Rows as read back from the file (the statistics poll is only a fallback).
  let fileRows = rows;
  try {
    fileRows = summarizeSwissFelFile(path).rows;
  } catch {
    // keep the polled count
  }
  return { seconds, rows: fileRows };
}

export async function run(opts: BenchOptions): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-writer-'));
  const nScalars = Number(process.env['BENCH_WRITER_MESSAGES'] ?? (opts.quick ? 1000 : 5000));
  const nImages = Number(process.env['BENCH_WRITER_IMAGES'] ?? (opts.quick ? 60 : 300));
  const rows: BenchRow[] = [];
  try {
    const scalars = template('scalars');
    const base = await rawPull(scalars, nScalars);
    const w = await writer(scalars, nScalars, join(dir, 'scalars.h5'));
    rows.push({
      measure: `writer: 1000 float64 scalar channels, ${nScalars} msgs (${w.rows} written, ${nScalars - w.rows} lost)`,
      ours: nScalars / w.seconds,
      baseline: nScalars / base,
      baselineName: 'zeromq PULL receive-only loop (child process)',
      unit: 'msg/s',
      goal: '>= 1000 msg/s, 0 loss',
      met: nScalars / w.seconds >= 1000 && w.rows === nScalars,
    });
    const image = template('image');
    const mb = (image.reduce((a, f) => a + f.length, 0) * nImages) / 1e6;
    const baseImg = await rawPull(image, nImages);
    const wi = await writer(image, nImages, join(dir, 'images.h5'));
    rows.push({
      measure: `writer: 1024x1024 uint16 images, ${nImages} msgs (${wi.rows} written)`,
      ours: mb / wi.seconds,
      baseline: mb / baseImg,
      baselineName: 'zeromq PULL receive-only loop (child process)',
      unit: 'MB/s',
      goal: '>= 200 MB/s (2 GB/s wire at 100 Hz is 200 MB/s)',
      met: mb / wi.seconds >= 200 && wi.rows === nImages,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { formatTable } = await import('./table.js');
  console.log(formatTable(await run({ quick: process.argv.includes('--quick') })));
}
