// sf_bsread_writer end to end: the real program (a child process) receives from a PUSH source in
// this process (the addon's libzmq sender, NativeStreamSender, HWM 1000; each pulse replaces
// frame 0 of one template message) as fast as the source can send, and writes a file.
//   - 1000 float64 scalar channels: messages/s written (goal >= 1000 msg/s, 0 loss, >= 70% of a
//     bare receive-only loop). Two baselines, both child processes fed by the same sender: a bare
//     zeromq.js PULL loop (what the issue asks for) and a bare native (NativeStreamReceiver) loop,
//     the receiver the writer itself uses. Reported overall (start to exit) and sustained: the
//     rate between 10% and 90% of the messages, for the writer from its /statistics (polled
//     every 10 ms), for the native loop from marks it prints itself;
//   - 1024x1024 uint16 images, uncompressed and bitshuffle_lz4 (compressed once, stored by direct
//     chunk write): MB/s of image bytes written, against fs.writeSync of the same bytes to a file
//     in the same directory and against the bare native receive loop. The format layer alone
//     against fs.writeSync (goals >= 80% / >= 90%) is bench/writer-format.ts; here, through a
//     socket and a second process, the goal is the rate a 100 Hz camera needs with margin.
// Timing: one warm-up message first (the peer is connected and has received it), then the clock
// runs from the first timed send to the exit of the receiving process (for the writer: after it
// has written and closed the file). Rows are read back from the file.
// Env: BENCH_WRITER_MESSAGES (default 10000, quick 1000; the sustained window is then ~3 s), BENCH_WRITER_IMAGES (default 300, quick 60).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bitshuffleLz4Compress } from '../src/bsread/compression.js';
import { encodeMainHeader, encodeMessage, encodeTimestamp, encodeValue, prepareDataHeader, resolveChannelDef } from '../src/bsread/index.js';
import { NativeStreamSender } from '../src/transport/native-sender.js';
import { syntheticImage } from './compression.js';
import { checkRangeFile, startWriter, stopChildren, timeoutAfter, waitFor, writerCall, type Child } from './e2e.js';
import type { BenchOptions, BenchRow } from './table.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const NATIVE_RECEIVER = pathToFileURL(join(HERE, '..', 'src', 'transport', 'native-receiver.js')).href;
const IMAGE_CHANNEL = 'SARES20-CAMS142-M5:FPICTURE';

interface Template {
  frames: Buffer[];
  hash: string;
  /** Bytes of the value frames (what the writer stores). */
  valueBytes: number;
  /** The value bytes of one message, for the fs.writeSync baseline. */
  value: Buffer | null;
}

/** One message as a template; each send replaces frame 0 (the main header) only. */
function template(kind: 'scalars' | 'image' | 'bitshuffle'): Template {
  const ts = { sec: 1_700_000_000, ns: 0 };
  if (kind === 'scalars') {
    const channels = [];
    for (let i = 0; i < 1000; i++) channels.push({ def: { name: `SARFE10-PBPG050:CH-${i}`, type: 'float64' as const }, value: i * 0.5 });
    const frames = encodeMessage({ pulseId: 0, globalTimestamp: ts, channels });
    return { frames, hash: hashOf(frames), valueBytes: 8000, value: null };
  }
  const img = syntheticImage(1024, 1024);
  const raw = Buffer.from(img.buffer, img.byteOffset, img.byteLength);
  if (kind === 'image') {
    const frames = encodeMessage({
      pulseId: 0,
      globalTimestamp: ts,
      channels: [{ def: { name: IMAGE_CHANNEL, type: 'uint16', shape: [1024, 1024] }, value: { shape: [1024, 1024], data: img } }],
    });
    return { frames, hash: hashOf(frames), valueBytes: raw.length, value: raw };
  }
  // bitshuffle_lz4: compressed once here; the data header declares the compression.
  const def = resolveChannelDef({ name: IMAGE_CHANNEL, type: 'uint16', shape: [1024, 1024], compression: 'bitshuffle_lz4' });
  const blob = bitshuffleLz4Compress(raw, 2);
  if (Buffer.compare(blob, encodeValue(def, { shape: [1024, 1024], data: img })) !== 0) throw new Error('bitshuffleLz4Compress differs from encodeValue');
  const header = prepareDataHeader([def]);
  const frames = [encodeMainHeader(0, ts, header.hash, 'none'), header.frame, blob, encodeTimestamp(ts, def.encoding)];
  return { frames, hash: header.hash, valueBytes: blob.length, value: blob };
}

function hashOf(frames: Buffer[]): string {
  return (JSON.parse(frames[0]!.toString('utf8')) as { hash: string }).hash;
}

/** Where the benchmark's messages come from: a bound PUSH socket sending pulses on demand. */
interface Source {
  readonly endpoint: string;
  /** Sends pulses from..from+n-1 as fast as the socket takes them; false when closed first. */
  sendRange(from: number, n: number): Promise<boolean>;
  close(): Promise<void>;
}

/** The addon's sender in this process (main headers encoded per pulse). */
async function nodeSource(tpl: Template): Promise<Source> {
  const sock = await NativeStreamSender.bind({ address: 'tcp://127.0.0.1:0', mode: 'push', highWaterMark: 1000, dropWhenFull: false, linger: 0 });
  return {
    endpoint: sock.endpoint,
    async sendRange(from, n) {
      const frames = tpl.frames.slice();
      for (let p = from; p < from + n; p++) {
        frames[0] = encodeMainHeader(p, { sec: 1_700_000_000 + Math.floor(p / 100), ns: (p % 100) * 10_000_000 }, tpl.hash, 'none');
        if (!(await sock.send(frames))) return false;
        // A send the socket takes at once resolves without a turn of the event loop: without
        // this, a receiver that keeps up starves this process's own polls of the writer's
        // /statistics (the sustained marks were then missed: NaN).
        if ((p - from) % 64 === 63) await new Promise<void>((r) => setImmediate(r));
      }
      return true;
    },
    close: async () => sock.close(),
  };
}

/**
 * The plain C libzmq programs of bench/c/zmq-loops.c, built here with the system's cc; null (and
 * a note on stderr) when they cannot be built.
 */
function buildCLoops(dir: string): string | null {
  const src = join(HERE, '..', '..', 'bench', 'c', 'zmq-loops.c');
  const exe = join(dir, 'zmq-loops');
  const r = spawnSync('cc', ['-O2', '-D_GNU_SOURCE', '-o', exe, src, '-lzmq'], { encoding: 'utf8' });
  if (r.status !== 0) {
    process.stderr.write(`  the C libzmq loops were not built (${r.error?.message ?? r.stderr.trim()}); their rows are left out\n`);
    return null;
  }
  return exe;
}

/** A C sender process (zmq-loops send): the template's frames from a file, main headers made in C. */
async function cSource(exe: string, tpl: Template, dir: string): Promise<Source> {
  const file = join(dir, 'frames.bin');
  const parts: Buffer[] = [u32(tpl.frames.length)];
  for (const f of tpl.frames) parts.push(u32(f.length), f);
  writeFileSync(file, Buffer.concat(parts));
  const child = spawn(exe, ['send', file, tpl.hash], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = waitExit(child);
  const lines: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  let partial = '';
  child.stdout!.on('data', (d: Buffer) => {
    partial += d.toString();
    let nl;
    while ((nl = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      const w = waiting.shift();
      if (w !== undefined) w(line);
      else lines.push(line);
    }
  });
  const nextLine = (): Promise<string | null> => {
    const l = lines.shift();
    if (l !== undefined) return Promise.resolve(l);
    return Promise.race([new Promise<string>((r) => waiting.push(r)), exited.then(() => null)]);
  };
  const first = await timeoutAfter(nextLine(), 10_000);
  const endpoint = typeof first === 'string' && first.startsWith('endpoint ') ? first.slice('endpoint '.length) : null;
  if (endpoint === null) {
    child.kill('SIGKILL');
    throw new Error(`zmq-loops send did not start (${String(first)})`);
  }
  return {
    endpoint,
    async sendRange(from, n) {
      if (child.exitCode !== null) return false;
      child.stdin!.write(`go ${from} ${n}\n`);
      return (await nextLine()) === `sent ${n}`;
    },
    async close() {
      if (child.exitCode === null) {
        child.stdin!.end('quit\n');
        if ((await timeoutAfter(exited, 5000)) === 'timeout') child.kill('SIGKILL');
      }
    },
  };
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

/** Message counts between which the sustained rate is taken: 10% and 90% of n (start-up and closing left out). */
function sustainedMarks(n: number): [number, number] {
  return [Math.max(1, Math.floor(n * 0.1)), Math.max(2, Math.floor(n * 0.9))];
}

/** A point of progress: `count` messages done at `ns` (process.hrtime.bigint, the same clock in every process). */
interface Mark {
  count: number;
  ns: bigint;
}

/** Messages per second between two marks. */
function rateBetween(a: Mark, b: Mark): number {
  return b.ns > a.ns ? (b.count - a.count) / (Number(b.ns - a.ns) / 1e9) : NaN;
}

function waitExit(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code ?? -1)));
}

const RECEIVE_LOOPS: Record<'zeromq.js' | 'native', (endpoint: string, total: number) => string> = {
  'zeromq.js': (endpoint: string, total: number) => `
import * as zmq from 'zeromq';
const s = new zmq.Pull({ receiveHighWaterMark: 100, linger: 0 });
s.connect(${JSON.stringify(endpoint)});
let n = 0;
for await (const _ of s) {
  if (n++ === 0) process.stdout.write('first\\n');
  if (n === ${total}) break;
}
s.close();`,
  native: (endpoint: string, total: number) => `
import { NativeStreamReceiver } from ${JSON.stringify(NATIVE_RECEIVER)};
const r = new NativeStreamReceiver({ address: ${JSON.stringify(endpoint)}, highWaterMark: 100, receiveTimeoutMs: 30000 });
const marks = [${sustainedMarks(total - 1).join(', ')}].map((m) => m + 1);
let n = 0;
let next = 0;
while (n < ${total}) {
  const b = await r.receiveBatch(64);
  if (b.length === 0) { process.stderr.write('native receive loop: timeout after ' + n + '\\n'); process.exit(3); }
  if (n === 0) process.stdout.write('first\\n');
  n += b.length;
  while (next < marks.length && n >= marks[next]) process.stdout.write('mark ' + next++ + ' ' + n + ' ' + process.hrtime.bigint() + '\\n');
}
r.close();`,
};
/** A receive-only loop: one of the Node programs above, or the C one (zmq-loops pull, given its path). */
type Loop = keyof typeof RECEIVE_LOOPS | { c: string };

/**
 * The baseline: a child process that receives 1 + n messages and exits. Seconds from the first
 * timed send to its exit, and (native loop only) its sustained rate between 10% and 90% of n.
 */
async function receiveLoop(loop: Loop, makeSource: () => Promise<Source>, n: number): Promise<{ seconds: number; sustained: number }> {
  const sock = await makeSource();
  const name = typeof loop === 'string' ? loop : 'C libzmq';
  try {
    const child =
      typeof loop === 'string'
        ? spawn(process.execPath, ['--input-type=module', '-e', RECEIVE_LOOPS[loop](sock.endpoint, n + 1)], {
            stdio: ['ignore', 'pipe', 'inherit'],
            cwd: join(HERE, '..', '..'),
          })
        : spawn(loop.c, ['pull', sock.endpoint, String(n + 1)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = waitExit(child);
    try {
      const marks: Mark[] = [];
      let out = '';
      const first = new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.startsWith('first')) resolve();
        });
        void exited.then((code) => reject(new Error(`${name} receive loop exited with ${code} before the first message`)));
      });
      void sock.sendRange(0, 1);
      if ((await timeoutAfter(first, 30_000)) === 'timeout') throw new Error(`${name} receive loop: no first message within 30 s`);
      const t0 = process.hrtime.bigint();
      await Promise.race([sock.sendRange(1, n), exited]);
      const code = await timeoutAfter(exited, 120_000);
      if (code !== 0) throw new Error(`${name} receive loop exited with ${code}`);
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      for (const m of out.matchAll(/^mark \d+ (\d+) (\d+)$/gm)) marks.push({ count: Number(m[1]) - 1, ns: BigInt(m[2]!) });
      return { seconds, sustained: marks.length === 2 ? rateBetween(marks[0]!, marks[1]!) : NaN };
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    }
  } finally {
    await sock.close();
  }
}

/**
 * Polls the writer's /statistics every 10 ms until messages_written has passed both sustained
 * marks (or the writer is gone); the first poll at or past each mark is taken. The writer
 * answers between slices of writing (at most every 20 ms), so a mark is late by at most that.
 */
async function watchWritten(port: number, n: number, alive: () => boolean): Promise<[Mark, Mark] | null> {
  const targets = sustainedMarks(n);
  const marks: Mark[] = [];
  const deadline = Date.now() + 120_000;
  while (marks.length < 2 && Date.now() < deadline) {
    let written: number;
    try {
      const s = (await writerCall(port, 'GET', '/statistics')) as { statistics?: { messages_written?: number } };
      written = s.statistics?.messages_written ?? 0;
    } catch {
      // The writer has exited (after the last mark, normally); a poll that failed while it runs
      // (a busy machine) is retried.
      if (!alive()) return null;
      await new Promise((r) => setTimeout(r, 10));
      continue;
    }
    const ns = process.hrtime.bigint();
    while (marks.length < 2 && written >= targets[marks.length]!) marks.push({ count: written, ns });
    await new Promise((r) => setTimeout(r, 10));
  }
  return marks.length === 2 ? [marks[0]!, marks[1]!] : null;
}

/** The writer program writing pulses 1..n (pulse 0 is the warm-up, before the range). */
async function writer(makeSource: () => Promise<Source>, n: number, path: string): Promise<{ seconds: number; sustained: number; window: number; rows: number; lost: number }> {
  const sock = await makeSource();
  let child: Child | undefined;
  try {
    const w = await startWriter(sock.endpoint, path, ['--probe_timeout', '100']);
    child = w.child;
    const port = w.restPort;
    await writerCall(port, 'PUT', `/stop_pulse_id/${n}`);
    const started = await writerCall(port, 'PUT', '/start_pulse_id/1');
    if (started.state !== 'ok') throw new Error(`writer refused the range: ${started.status}`);
    void sock.sendRange(0, 1);
    await waitFor(
      'the warm-up message at the writer',
      async () => {
        const s = (await writerCall(port, 'GET', '/statistics')) as { statistics?: { messages_received?: number } };
        return (s.statistics?.messages_received ?? 0) >= 1 ? true : undefined;
      },
      20_000,
      5,
    );
    const t0 = process.hrtime.bigint();
    const progress = watchWritten(port, n, () => child?.proc.exitCode === null && child.proc.signalCode === null);
    await Promise.race([sock.sendRange(1, n), child.exited]);
    const code = await timeoutAfter(child.exited, 120_000);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const marks = await progress;
    if (code !== 0) throw new Error(`writer exited with ${code}: ${child.stderr().slice(-2000)}`);
    const check = checkRangeFile(path, 1, n);
    if (check.error !== null) throw new Error(`cannot read back ${path}: ${check.error}`);
    return {
      seconds,
      sustained: marks === null ? NaN : rateBetween(marks[0], marks[1]),
      // The marks are late by up to a poll (10 ms) plus a writing slice (20 ms): a short window is rough.
      window: marks === null ? NaN : Number(marks[1].ns - marks[0].ns) / 1e9,
      rows: check.rows,
      lost: check.lost,
    };
  } finally {
    await child?.stop();
    await sock.close();
    rmSync(path, { force: true });
  }
}

/** Seconds to write `block` `count` times with fs.writeSync into a new file (open and close inside). */
function fileWrite(path: string, block: Buffer, count: number): number {
  const t0 = process.hrtime.bigint();
  const fd = openSync(path, 'w');
  for (let i = 0; i < count; i++) writeSync(fd, block, 0, block.length);
  closeSync(fd);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  rmSync(path);
  return s;
}

export async function run(opts: BenchOptions): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-writer-'));
  const nScalars = Number(process.env['BENCH_WRITER_MESSAGES'] ?? (opts.quick ? 1000 : 10000));
  const nImages = Number(process.env['BENCH_WRITER_IMAGES'] ?? (opts.quick ? 60 : 300));
  const rows: BenchRow[] = [];
  try {
    {
      const tpl = template('scalars');
      const fromNode = () => nodeSource(tpl);
      const zmqJs = nScalars / (await receiveLoop('zeromq.js', fromNode, nScalars)).seconds;
      const nativeRun = await receiveLoop('native', fromNode, nScalars);
      const native = nScalars / nativeRun.seconds;
      const w = await writer(fromNode, nScalars, join(dir, 'scalars.h5'));
      const ours = nScalars / w.seconds;
      process.stderr.write(
        `  scalars: writer ${ours.toFixed(0)} msg/s overall, ${w.sustained.toFixed(0)} sustained (${w.rows} rows, ${w.lost} lost), ` +
          `zeromq.js loop ${zmqJs.toFixed(0)}, native loop ${native.toFixed(0)} overall, ${nativeRun.sustained.toFixed(0)} sustained\n`,
      );
      const measure = `writer: 1000 float64 scalar channels, ${nScalars} msgs (${w.rows} written, ${w.lost} lost), overall incl. creating 3000 datasets and closing`;
      const ok = ours >= 1000 && w.lost === 0 && w.rows === nScalars;
      const sustainedOk = w.sustained >= 1000 && w.lost === 0 && w.rows === nScalars;
      rows.push(
        {
          measure: `writer: 1000 float64 scalar channels, ${nScalars} msgs (${w.rows} written, ${w.lost} lost), sustained (10% to 90% of the messages, ${w.window.toFixed(1)} s window)`,
          ours: w.sustained,
          baseline: nativeRun.sustained,
          baselineName: 'bare native receive-only loop (child process), also 10% to 90%',
          unit: 'msg/s',
          goal: '>= 1000 msg/s, 0 loss, >= 70% of baseline',
          met: sustainedOk && w.sustained >= 0.7 * nativeRun.sustained,
        },
        {
          measure,
          ours,
          baseline: zmqJs,
          baselineName: 'bare zeromq.js PULL receive-only loop (child process)',
          unit: 'msg/s',
          goal: '>= 1000 msg/s, 0 loss, >= 70% of baseline',
          met: ok && ours >= 0.7 * zmqJs,
        },
        {
          measure,
          ours,
          baseline: native,
          baselineName: 'bare native receive-only loop (child process)',
          unit: 'msg/s',
          goal: '>= 1000 msg/s, 0 loss, >= 70% of baseline',
          met: ok && ours >= 0.7 * native,
        },
      );
    }
    // The same 1000-scalar messages from a plain C libzmq sender, which sends faster than the
    // addon's sender in this process: the writer against a plain C libzmq PULL loop.
    const cLoops = buildCLoops(dir);
    if (cLoops !== null) {
      const tpl = template('scalars');
      const fromC = () => cSource(cLoops, tpl, dir);
      const cRun = await receiveLoop({ c: cLoops }, fromC, nScalars);
      const cOverall = nScalars / cRun.seconds;
      const w = await writer(fromC, nScalars, join(dir, 'scalars-c.h5'));
      const ours = nScalars / w.seconds;
      process.stderr.write(
        `  scalars from a C sender: writer ${ours.toFixed(0)} msg/s overall, ${w.sustained.toFixed(0)} sustained (${w.rows} rows, ${w.lost} lost), ` +
          `C PULL loop ${cOverall.toFixed(0)} overall, ${cRun.sustained.toFixed(0)} sustained\n`,
      );
      const complete = w.lost === 0 && w.rows === nScalars;
      const baselineName = 'plain C libzmq PULL loop (bench/c/zmq-loops.c), same C sender';
      rows.push(
        {
          measure: `writer fed by a C libzmq sender: 1000 float64 scalar channels, ${nScalars} msgs (${w.rows} written, ${w.lost} lost), sustained (10% to 90%, ${w.window.toFixed(1)} s window)`,
          ours: w.sustained,
          baseline: cRun.sustained,
          baselineName: `${baselineName}, also 10% to 90%`,
          unit: 'msg/s',
          goal: '0 loss, >= 70% of baseline',
          met: complete && w.sustained >= 0.7 * cRun.sustained,
        },
        {
          measure: `writer fed by a C libzmq sender: 1000 float64 scalar channels, ${nScalars} msgs (${w.rows} written, ${w.lost} lost), overall incl. creating 3000 datasets and closing`,
          ours,
          baseline: cOverall,
          baselineName,
          unit: 'msg/s',
          goal: '0 loss, >= 70% of baseline',
          met: complete && ours >= 0.7 * cOverall,
        },
      );
    }
    for (const kind of ['image', 'bitshuffle'] as const) {
      const tpl = template(kind);
      const mb = (tpl.valueBytes * nImages) / 1e6;
      const native = mb / (await receiveLoop('native', () => nodeSource(tpl), nImages)).seconds;
      fileWrite(join(dir, 'warm.bin'), tpl.value!, 5);
      const plain = mb / fileWrite(join(dir, 'plain.bin'), tpl.value!, nImages);
      const w = await writer(() => nodeSource(tpl), nImages, join(dir, `${kind}.h5`));
      const ours = mb / w.seconds;
      const what =
        kind === 'image'
          ? `writer: 1024x1024 uint16 images, uncompressed, ${nImages} msgs (${w.rows} written, ${w.lost} lost)`
          : `writer: bitshuffle_lz4 1024x1024 uint16 images (${(tpl.valueBytes / 1024).toFixed(0)} KiB), direct chunk write, ${nImages} msgs (${w.rows} written, ${w.lost} lost)`;
      process.stderr.write(`  ${kind}: writer ${ours.toFixed(0)} MB/s, native loop ${native.toFixed(0)} MB/s, fs.writeSync ${plain.toFixed(0)} MB/s\n`);
      // What a 100 Hz camera of this image needs.
      const goalMBs = Math.ceil((100 * tpl.valueBytes) / 1e6 / 10) * 10;
      const ok = ours >= goalMBs && w.lost === 0 && w.rows === nImages;
      const goal = `>= ${goalMBs} MB/s (100 Hz of this image), 0 loss`;
      rows.push(
        {
          measure: what,
          ours,
          baseline: plain,
          baselineName: kind === 'image' ? 'fs.writeSync of the same bytes' : 'fs.writeSync of the same compressed bytes',
          unit: 'MB/s',
          goal,
          met: ok,
        },
        {
          measure: what,
          ours,
          baseline: native,
          baselineName: 'bare native receive-only loop (child process)',
          unit: 'MB/s',
          goal,
          met: ok,
        },
      );
    }
  } finally {
    await stopChildren();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { formatTable } = await import('./table.js');
  console.log(formatTable(await run({ quick: process.argv.includes('--quick') })));
}
