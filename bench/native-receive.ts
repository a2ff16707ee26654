// The addon's native multipart receive path (src/transport/native-receiver.ts: libzmq + a
// receiver thread, contiguous messages) against a bare zeromq.js PULL loop, same run, same
// machine. A sender in a CHILD process (NativeStreamSender, the addon's libzmq sender, so that
// the sender is not what limits the rate) sends bsread messages of N float64 channels
// (encodeMessage) as fast as it can; this process receives.
//   (1) bare zeromq.js PULL loop (one Buffer per frame);
//   (2) native receiver delivering { data, offsets } messages;
//   (3) native receiver + Uint8Array frame views + BsreadReceiver.open + value() of every channel;
//   (4) like (3) with Buffer.subarray views (what StreamReceiver-shaped code would do).
// Also reports CPU time of this process per message (independent of the sender's speed) and
// checks that frames are byte-identical to what zeromq.js receives.
// Run: node dist/bench/native-receive.js [--quick]. Env: BENCH_NATIVE_MESSAGES (1000 ch),
// BENCH_NATIVE_MESSAGES_5000 (5000 ch).
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join, resolve } from 'node:path';
import * as zmq from 'zeromq';
import { BsreadReceiver, type BsreadMessage } from '../src/bsread/index.js';
import { frameViews } from '../src/transport/index.js';
import { NativeStreamReceiver, uint8Views, type NativeMessage } from '../src/transport/native-receiver.js';
import { opsPerSecond, type BenchOptions, type BenchRow } from './table.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const BSREAD = pathToFileURL(join(HERE, '..', 'src', 'bsread', 'index.js')).href;
const SENDER = pathToFileURL(join(HERE, '..', 'src', 'transport', 'native-sender.js')).href;

/** Sender child: binds a PUSH socket, prints the endpoint, sends `count` messages as fast as it can. */
function startSender(channels: number, count: number): Promise<{ child: ChildProcess; endpoint: string }> {
  const script = `
import { NativeStreamSender } from ${JSON.stringify(SENDER)};
import { encodeMessage, encodeMainHeader } from ${JSON.stringify(BSREAD)};
const [channels, count] = [Number(process.argv[1]), Number(process.argv[2])];
const tpl = encodeMessage({ pulseId: 0, globalTimestamp: { sec: 1700000000, ns: 0 },
  channels: Array.from({ length: channels }, (_, i) => ({ def: { name: 'SAR-BENCH-' + i + ':VALUE', type: 'float64' }, value: i * 0.5 })) });
const hash = JSON.parse(tpl[0].toString()).hash;
// linger 0: the sender is stopped only after the receiver has had every message.
const s = await NativeStreamSender.bind({ address: 'tcp://127.0.0.1:0', mode: 'push', highWaterMark: 1000, linger: 0 });
process.stdout.write(s.endpoint + '\\n');
const f = tpl.slice();
for (let p = 0; p < count; p++) {
  f[0] = encodeMainHeader(p, { sec: 1700000000 + Math.floor(p / 100), ns: (p % 100) * 10000000 }, hash, 'none');
  if (!(await s.send(f))) break;
}
process.stdin.resume();
process.stdin.once('end', () => { s.close(); process.exit(0); });`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script, String(channels), String(count)], {
    stdio: ['pipe', 'pipe', 'inherit'],
    cwd: join(HERE, '..', '..'),
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.once('exit', (code) => reject(new Error(`sender exited early (${code})`)));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve({ child, endpoint: out.slice(0, nl) });
    });
  });
}

async function stopSender(child: ChildProcess): Promise<void> {
  child.removeAllListeners('exit');
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.stdin!.end();
  await exited;
}

interface Result {
  msgPerS: number;
  cpuUsPerMsg: number;
  samples: Uint8Array[][];
}

const WARMUP = 20;
const SAMPLE = [0, 1, 7];

/** Times messages WARMUP..count-1 (first messages include connecting and JIT warm-up). */
class Clock {
  private t0 = 0n;
  private c0: NodeJS.CpuUsage = process.cpuUsage();
  at(i: number): void {
    if (i === WARMUP) {
      this.t0 = process.hrtime.bigint();
      this.c0 = process.cpuUsage();
    }
  }
  result(count: number, samples: Uint8Array[][]): Result {
    const s = Number(process.hrtime.bigint() - this.t0) / 1e9;
    const c = process.cpuUsage(this.c0);
    const n = count - WARMUP;
    return { msgPerS: n / s, cpuUsPerMsg: (c.user + c.system) / n, samples };
  }
}

function sample(i: number, frames: readonly Uint8Array[], samples: Uint8Array[][]): void {
  if (SAMPLE.includes(i)) samples.push(frames.map((f) => Uint8Array.from(f)));
}

async function zeromqJs(channels: number, count: number): Promise<Result> {
  const { child, endpoint } = await startSender(channels, count);
  const s = new zmq.Pull({ receiveHighWaterMark: 100, linger: 0 });
  s.connect(endpoint);
  const clock = new Clock();
  const samples: Uint8Array[][] = [];
  let i = 0;
  for await (const frames of s) {
    clock.at(i);
    sample(i, frames, samples);
    if (++i === count) break;
  }
  const r = clock.result(count, samples);
  s.close();
  await stopSender(child);
  return r;
}

type Consume = (m: NativeMessage, i: number, samples: Uint8Array[][]) => void;

async function native(channels: number, count: number, consume: Consume): Promise<Result> {
  const { child, endpoint } = await startSender(channels, count);
  const r = new NativeStreamReceiver({ address: endpoint, highWaterMark: 100, receiveTimeoutMs: 10_000, queueMessages: 64, batch: 64 });
  const clock = new Clock();
  const samples: Uint8Array[][] = [];
  let i = 0;
  while (i < count) {
    const batch = await r.receiveBatch(64);
    if (batch.length === 0) throw new Error(`native receiver: timeout after ${i} messages`);
    for (const m of batch) {
      clock.at(i);
      consume(m, i, samples);
      i++;
    }
  }
  const res = clock.result(count, samples);
  r.close();
  await stopSender(child);
  return res;
}

let sink = 0;
function readAll(msg: BsreadMessage): void {
  for (let c = 0; c < msg.channelCount; c++) {
    const v = msg.value(c);
    if (typeof v === 'number') sink += v;
  }
}

function decoder(views: (m: NativeMessage) => readonly Uint8Array[]): Consume {
  const rx = new BsreadReceiver();
  return (m, i, samples) => {
    const frames = views(m);
    sample(i, frames, samples);
    const msg = rx.open(frames);
    if (msg.kind === 'not_data') throw new Error('unexpected control message');
    readAll(msg);
  };
}

function identical(a: Uint8Array[][], b: Uint8Array[][]): boolean {
  if (a.length !== b.length || a.length === 0) return false;
  for (let k = 0; k < a.length; k++) {
    const x = a[k]!,
      y = b[k]!;
    if (x.length !== y.length) return false;
    for (let f = 0; f < x.length; f++) if (Buffer.compare(x[f]!, y[f]!) !== 0) return false;
  }
  return true;
}

function fmt(r: Result): string {
  return `${r.msgPerS.toFixed(0)} msg/s, ${r.cpuUsPerMsg.toFixed(0)} µs CPU/msg`;
}

export async function run(opts: BenchOptions): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const cases: [number, number, number][] = [
    [1000, Number(process.env['BENCH_NATIVE_MESSAGES'] ?? (opts.quick ? 1000 : 3000)), 1000],
    [5000, Number(process.env['BENCH_NATIVE_MESSAGES_5000'] ?? (opts.quick ? 200 : 600)), 100],
  ];
  for (const [channels, count, goal] of cases) {
    const what = `${channels}-ch float64 messages (${2 + 2 * channels} frames)`;
    const base = await zeromqJs(channels, count);
    process.stderr.write(`  ${channels} ch zeromq.js PULL:            ${fmt(base)}\n`);
    const contiguous = await native(channels, count, (m, i, samples) => {
      if (SAMPLE.includes(i)) samples.push(frameViews(m).map((f) => Uint8Array.from(f)));
    });
    process.stderr.write(`  ${channels} ch native contiguous:         ${fmt(contiguous)}\n`);
    const decoded = await native(channels, count, decoder(uint8Views));
    process.stderr.write(`  ${channels} ch native + u8 views + decode: ${fmt(decoded)}\n`);
    const decodedBuf = await native(channels, count, decoder(frameViews));
    process.stderr.write(`  ${channels} ch native + Buffer views + decode: ${fmt(decodedBuf)}\n`);
    const same = identical(base.samples, contiguous.samples) && identical(base.samples, decoded.samples) && identical(base.samples, decodedBuf.samples);
    process.stderr.write(`  ${channels} ch frames byte-identical to zeromq.js (messages ${SAMPLE.join(',')}): ${same}\n`);
    if (!same) throw new Error('native receiver frames differ from zeromq.js');
    const goalText = `>= ${goal} msg/s`;
    const row = (measure: string, r: Result): BenchRow => ({
      measure: `${measure}, ${what}`,
      ours: r.msgPerS,
      baseline: base.msgPerS,
      baselineName: 'bare zeromq.js PULL loop (same native sender)',
      unit: 'msg/s',
      goal: goalText,
      met: r.msgPerS >= goal,
    });
    rows.push(
      row('native receive, contiguous', contiguous),
      row('native receive + Uint8Array views + open + all values', decoded),
      row('native receive + Buffer views + open + all values', decodedBuf),
    );
    rows.push({
      measure: `CPU per message (µs, lower is better; ours = native contiguous), ${what}`,
      ours: contiguous.cpuUsPerMsg,
      baseline: base.cpuUsPerMsg,
      baselineName: 'bare zeromq.js PULL loop',
      unit: 'µs CPU/msg',
      goal: '< baseline',
      met: contiguous.cpuUsPerMsg < base.cpuUsPerMsg,
    });
  }
  // Frame views alone, in process (no transport): what turning { data, offsets } into frames costs.
  const { encodeMessage } = await import('../src/bsread/index.js');
  for (const channels of [1000, 5000]) {
    const frames = encodeMessage({
      pulseId: 1,
      globalTimestamp: { sec: 1, ns: 0 },
      channels: Array.from({ length: channels }, (_, i) => ({ def: { name: `C${i}`, type: 'float64' as const }, value: i })),
    });
    const total = frames.reduce((s, f) => s + f.length, 0);
    const data = Buffer.allocUnsafeSlow(total);
    const offsets = new Uint32Array(frames.length + 1);
    let o = 0;
    frames.forEach((f, i) => {
      offsets[i] = o;
      f.copy(data, o);
      o += f.length;
    });
    offsets[frames.length] = o;
    const m = { data, offsets };
    const ms = opts.quick ? 300 : 1000;
    const u8 = opsPerSecond(() => {
      sink += uint8Views(m).length;
    }, ms);
    const buf = opsPerSecond(() => {
      sink += frameViews(m).length;
    }, ms);
    process.stderr.write(
      `  ${channels} ch frame views: Uint8Array ${u8.toFixed(0)}/s (${(1e6 / u8).toFixed(0)} µs), Buffer.subarray ${buf.toFixed(0)}/s (${(1e6 / buf).toFixed(0)} µs)\n`,
    );
    rows.push({
      measure: `frame views of one ${channels}-ch message: new Uint8Array (ours) vs Buffer.subarray`,
      ours: u8,
      baseline: buf,
      baselineName: 'Buffer.subarray per frame',
      unit: 'msg/s',
      goal: '>= baseline',
      met: u8 >= buf,
    });
  }
  if (sink === -1) process.stderr.write('');
  return rows;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const { formatTable } = await import('./table.js');
  console.log(formatTable(await run({ quick: process.argv.includes('--quick') })));
}
