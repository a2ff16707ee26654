// Reliability: restarts and stuck consumers against the real buffer and writer (issue 7, "Faults"
// and "Security"): a source that restarts with pulse ids jumping back, the buffer restarted under
// a connected writer, a replay consumer that never reads while 1 MB messages arrive at 100 Hz,
// and setuid/setgid before the output folder is touched (root only).
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { encodeMessage, prepareDataHeader, resolveChannelDef } from '../../src/bsread/index.js';
import { openReplay, probeReplayService, type ReplaySession } from '../../src/replay/index.js';
import { rssKiB } from '../../src/demo/process-stats.js';
import { StreamSender } from '../helpers/stream-sender.js';
import { h5py } from '../helpers/h5py.js';
import { freePort } from '../helpers/net.js';
import { stopAllPrograms, type RunningProgram } from '../helpers/process.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { bufferStatus, startBuffer, type BufferStatusJson } from '../unit/buffer/helpers.js';
import { PARAMETERS, range, READ_FILE, startWriter, testMessage, type FileContent } from './writer-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'reliability-restarts-'));
const senders: StreamSender[] = [];
const sessions: ReplaySession[] = [];
const timers: (() => void)[] = [];
const cleanups: string[] = [];
after(async () => {
  for (const t of timers) t();
  for (const s of sessions) await s.release();
  for (const s of senders) s.close();
  await stopAllPrograms();
  for (const d of [dir, ...cleanups]) rmSync(d, { recursive: true, force: true });
});

type Analyzer = { backward: number; duplicated: number; missing_pulses: number; messages: number };
const analyzerOf = (s: BufferStatusJson): Analyzer => s.analyzer as unknown as Analyzer;

async function bind(address: string, opts: { dropWhenFull?: boolean; highWaterMark?: number } = {}): Promise<StreamSender> {
  const s = await StreamSender.bind({ address, mode: 'push', highWaterMark: opts.highWaterMark ?? 10_000, dropWhenFull: opts.dropWhenFull ?? false });
  senders.push(s);
  return s;
}

/** Binds again on a port just released (retries while the OS still holds it). */
async function rebind(address: string): Promise<StreamSender> {
  return waitFor(`rebind ${address}`, async () => bind(address), 10_000, 100);
}

interface Summary {
  rowsWritten: number;
  missingPulseIds: number;
}
function summaryFromLog(stderr: string): Summary {
  const m = /"rowsWritten":(\d+),"missingPulseIds":(\d+)/.exec(stderr);
  assert.ok(m, `no consistency summary in the writer's log:\n${stderr.slice(-2000)}`);
  return { rowsWritten: Number(m[1]), missingPulseIds: Number(m[2]) };
}

/** The promise's value, or `fallback` after ms (the timer is cleared so it keeps nothing alive). */
async function within<T>(p: Promise<T>, ms: number, fallback: string): Promise<T | string> {
  let t: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<string>((r) => (t = setTimeout(() => r(fallback), ms)))]);
  } finally {
    clearTimeout(t);
  }
}

function assertIncreasingUnique(ids: number[]): void {
  for (let i = 1; i < ids.length; i++) assert.ok(ids[i]! > ids[i - 1]!, `pulse ids increase strictly: ${ids[i - 1]} then ${ids[i]} at row ${i}`);
}

test(
  'source restarts on the same port with pulse ids jumping back: the buffer reconnects, counts the backward jump, writers get exactly their range',
  { timeout: 60_000 },
  async () => {
    const port = await freePort();
    const address = `tcp://127.0.0.1:${port}`;
    const out = await freePort();
    const st = await freePort();
    const buffer = await startBuffer([address, '-o', String(out), '-b', '5000', '--status_port', String(st), '--analyzer']);

    // Before the restart: pulses 2000..2099.
    let src = await bind(address);
    for (let p = 2000; p < 2100; p++) await src.send(testMessage(p));
    await waitFor('100 messages received before the restart', async () => (await bufferStatus(st)).input.received >= 100, 15_000);

    // Writer A waits for a range in the future of everything sent so far (and of the restarted stream's first ids).
    const pathA = join(dir, 'restart-a.h5');
    const a = await startWriter(`tcp://127.0.0.1:${out}`, pathA);
    await a.call('POST', '/parameters', JSON.stringify(PARAMETERS));
    assert.equal((await a.call('PUT', '/start_pulse_id/2150')).state, 'ok');
    assert.equal((await a.call('PUT', '/stop_pulse_id/2180')).state, 'ok');
    assert.equal((await a.call('GET', '/status')).status, 'writing');

    // The source disappears and comes back on the same port, restarting at pulse 1000.
    src.close();
    await sleep(300);
    src = await rebind(address);
    for (let p = 1000; p <= 2200; p++) await src.send(testMessage(p));
    const s = await waitFor(
      'the restarted stream received',
      async () => {
        const x = await bufferStatus(st);
        return x.input.received >= 100 + 1201 ? x : false;
      },
      20_000,
    );
    assert.equal(buffer.child.exitCode, null, 'the buffer keeps running');
    assert.equal(s.input.received, 1301);
    assert.equal(s.buffer.newest_pulse_id, 2200);
    const an = analyzerOf(s);
    assert.ok(an.backward >= 1, `analyzer counts the backward jump: ${JSON.stringify(an)}`);
    assert.equal(an.duplicated, 0);

    assert.equal(await a.proc.exited, 0, a.proc.stderr());
    const fa = await h5py<FileContent>(pathA, READ_FILE);
    assert.deepEqual(fa.pulse_id, range(2150, 2180), 'exactly [start, stop] from the restarted stream');
    assert.deepEqual(
      fa.scalar,
      range(2150, 2180).map((p) => p * 1.5),
    );
    assert.deepEqual(
      fa.pair,
      range(2150, 2180).map((p) => [p, -p]),
    );
    assert.equal(fa.attrs['missing_pulse_ids'], 0);
    assert.equal(fa.attrs['rows_written'], 31);

    // Writer B after the restart, from a pulse id the buffer holds twice (before and after the jump):
    // each pulse once, in increasing order, nothing invented.
    const pathB = join(dir, 'restart-b.h5');
    const b = await startWriter(`tcp://127.0.0.1:${out}`, pathB);
    await b.call('POST', '/parameters', JSON.stringify(PARAMETERS));
    assert.equal((await b.call('PUT', '/stop_pulse_id/2190')).state, 'ok');
    assert.equal((await b.call('PUT', '/start_pulse_id/2050')).state, 'ok');
    assert.equal(await b.proc.exited, 0, b.proc.stderr());
    const fb = await h5py<FileContent>(pathB, READ_FILE);
    assert.deepEqual(fb.pulse_id, range(2050, 2190), 'no duplicate although pulses 2050..2099 arrived twice');
    assert.deepEqual(
      fb.scalar,
      range(2050, 2190).map((p) => p * 1.5),
    );
    assert.equal(fb.attrs['missing_pulse_ids'], 0);
  },
);

test(
  'buffer restarted (SIGTERM) while a writer is connected: the writer replays again from the restarted buffer, reports the gap, never invents or duplicates data',
  { timeout: 60_000 },
  async () => {
    // A source that keeps sending at 100 Hz by the wall clock, whether anyone is connected or not.
    const src = await bind('tcp://127.0.0.1:0', { dropWhenFull: true, highWaterMark: 1000 });
    const base = 100_000;
    const t0 = Date.now();
    let next = base;
    let sent = 0;
    const clock = setInterval(() => {
      const target = base + Math.floor((Date.now() - t0) / 10);
      for (; next <= target; next++) void src.send(testMessage(next)).then((ok) => ok && sent++);
    }, 5);
    timers.push(() => clearInterval(clock));

    const out = await freePort();
    const st = await freePort();
    const args = [src.endpoint, '-o', String(out), '-b', '1000', '--status_port', String(st), '--analyzer'];
    let buffer: RunningProgram = await startBuffer(args);
    await waitFor('buffer receiving', async () => (await bufferStatus(st)).input.received >= 10, 15_000);

    const start = next + 30;
    const stop = start + 399;
    const path = join(dir, 'buffer-restart.h5');
    const w = await startWriter(`tcp://127.0.0.1:${out}`, path);
    await w.call('POST', '/parameters', JSON.stringify(PARAMETERS));
    assert.equal((await w.call('PUT', `/start_pulse_id/${start}`)).state, 'ok');
    assert.equal((await w.call('PUT', `/stop_pulse_id/${stop}`)).state, 'ok');
    await waitFor('50 rows written', async () => ((await w.call('GET', '/statistics'))['statistics'] as { messages_written: number }).messages_written >= 50, 15_000);

    assert.equal(await buffer.stop('SIGTERM', 5000), 0, buffer.stderr());
    const killedAt = next;
    await sleep(300);
    buffer = await startBuffer(args);
    await waitFor('restarted buffer receiving', async () => (await bufferStatus(st)).input.received >= 10, 15_000);
    const restartedAt = (await bufferStatus(st)).buffer.oldest_pulse_id!;
    assert.ok(restartedAt > killedAt, 'the source kept sending while the buffer was down');

    const code = await within(w.proc.exited, 20_000, 'hung');
    assert.equal(code, 0, `writer ended with ${code}: ${w.proc.stderr().slice(-2000)}`);
    clearInterval(clock);
    assert.equal(buffer.child.exitCode, null);

    const f = await h5py<FileContent>(path, READ_FILE);
    assert.ok(f.pulse_id.length >= 50, `rows before the restart are kept (${f.pulse_id.length})`);
    assertIncreasingUnique(f.pulse_id);
    assert.ok(f.pulse_id[0]! >= start && f.pulse_id.at(-1)! <= stop, 'rows only inside the range');
    assert.deepEqual(
      f.scalar,
      f.pulse_id.map((p) => p * 1.5),
      'values as sent',
    );
    assert.deepEqual(
      f.pair,
      f.pulse_id.map((p) => [p, -p]),
    );
    assert.deepEqual(
      f.text,
      f.pulse_id.map((p) => `p${p}`),
    );
    // The writer notices the restart and replays again from the pulse after its last one, so every
    // pulse of the range that the restarted buffer holds is in the file.
    const fromRestart = f.pulse_id.filter((p) => p >= restartedAt);
    const expected = Array.from({ length: stop - Math.max(restartedAt, start) + 1 }, (_, i) => Math.max(restartedAt, start) + i);
    assert.deepEqual(fromRestart, expected, `every pulse the restarted buffer holds is written (restart at ${restartedAt}); writer log: ${w.proc.stderr().slice(-1500)}`);
    const missing = stop - start + 1 - f.pulse_id.length;
    assert.ok(missing > 0, 'the restart left a gap');
    assert.equal(f.attrs['missing_pulse_ids'], missing, 'root attribute missing_pulse_ids = ids of the range without a row');
    assert.equal(f.attrs['rows_written'], f.pulse_id.length);
    const sum = summaryFromLog(w.proc.stderr());
    assert.equal(sum.missingPulseIds, missing, 'statistics summary reports the same gap');
    assert.equal(sum.rowsWritten, f.pulse_id.length);
    if (process.env['SF_BSREAD_VERBOSE'])
      console.log(
        JSON.stringify({ start, stop, killedAt, restartedAt, rows: f.pulse_id.length, missing, end: /"reason":"([^"]*)"[^\n]*acquisition finished/.exec(w.proc.stderr())?.[1] }),
      );
  },
);

test('a replay consumer that never reads, 1 MB messages at 100 Hz: buffer RSS bounded, intake continues, drops counted', { timeout: 60_000 }, async () => {
  const big = resolveChannelDef({ name: 'CAMERA', type: 'uint8', shape: [1024 * 1024] });
  const header = prepareDataHeader([big]);
  const image = new Uint8Array(1024 * 1024).fill(7);
  const bigMessage = (p: number): Buffer[] =>
    encodeMessage({ pulseId: p, globalTimestamp: { sec: Math.floor(Date.now() / 1000), ns: 0 }, header, channels: [{ def: big, value: image }] });

  const src = await bind('tcp://127.0.0.1:0', { highWaterMark: 20 });
  const out = await freePort();
  const st = await freePort();
  const buffer = await startBuffer([src.endpoint, '-o', String(out), '-b', '100', '--buffer_bytes', '48M', '--status_port', String(st), '--analyzer']);

  let sent = 0;
  let running = true;
  const t0 = Date.now();
  const loop = (async () => {
    let p = 1_000_000;
    while (running) {
      const due = t0 + sent * 10;
      if (Date.now() < due) await sleep(due - Date.now());
      await src.send(bigMessage(p++));
      sent++;
    }
  })();
  timers.push(() => (running = false));

  await waitFor('intake running', async () => (await bufferStatus(st)).input.received >= 20, 15_000);
  const info = await probeReplayService(`tcp://127.0.0.1:${out}`, 2000);
  assert.ok(info, 'replay service answers');
  const session = await openReplay(info, null, { highWaterMark: 1 });
  sessions.push(session);
  // ... and never calls session.receiver.receive().

  const rssKb = (): number => rssKiB(buffer.child.pid!);
  const samples: { rss: number; received: number; sent: number; at: number; dropped: number }[] = [];
  for (let i = 0; i < 9; i++) {
    await sleep(1000);
    const s = await bufferStatus(st);
    const c = s.replay.consumers.find((x) => x.consumer_id === session.consumerId);
    assert.ok(c, `consumer ${session.consumerId} listed`);
    samples.push({ rss: rssKb(), received: s.input.received, sent, at: Date.now(), dropped: c.dropped });
  }
  running = false;
  await loop;

  const first = samples[0]!;
  const last = samples.at(-1)!;
  const seconds = (last.at - first.at) / 1000;
  const intakeHz = (last.received - first.received) / seconds;
  const sentHz = (last.sent - first.sent) / seconds;
  const info2 = `samples ${JSON.stringify(samples)}`;
  assert.ok(sentHz >= 60, `the test source managed ${sentHz.toFixed(1)} Hz; ${info2}`);
  assert.ok(intakeHz >= 0.9 * sentHz, `intake ${intakeHz.toFixed(1)} Hz keeps up with ${sentHz.toFixed(1)} Hz sent; ${info2}`);
  // The consumer's receiver holds up to 64 messages itself before the buffer has to drop (a
  // second at 100 Hz); from the second sample on, drops are counted and growing.
  assert.ok(last.dropped > samples[1]!.dropped && samples[1]!.dropped > 0, `drops for the stuck consumer counted and growing; ${info2}`);
  const final = await bufferStatus(st);
  assert.ok(final.replay.dropped >= last.dropped, 'total drops include the consumer');
  // Ring ≤ 48 MB, the consumer's queue holds references (≤ 48 MB more once evicted), zmq queues,
  // and dropped message blocks waiting for V8 to collect them (V8 is told a quarter of their size:
  // up to ~256 MB, reached within a few seconds at 100 MB/s): well below what 900 MB of intake
  // would need, and flat once there.
  const maxRss = Math.max(...samples.map((x) => x.rss));
  assert.ok(maxRss < 600 * 1024, `buffer RSS ${maxRss} kB stays bounded; ${info2}`);
  const tail = samples.slice(-4).map((x) => x.rss);
  assert.ok(Math.max(...tail) - Math.min(...tail) < 100 * 1024, `RSS flat while the consumer is stuck; ${info2}`);
  assert.equal(buffer.child.exitCode, null);
  if (process.env['SF_BSREAD_VERBOSE']) console.log(info2);
});

const isRoot = process.getuid?.() === 0;
test(
  'setuid/setgid before the output folder is touched: a new folder in a 65534-only directory is created and owned by 65534',
  { skip: isRoot ? false : 'needs root (setuid/setgid)', timeout: 60_000 },
  async () => {
    // Directly under the system temp dir (1777): 65534 must be able to reach it.
    const parent = mkdtempSync(join(tmpdir(), 'reliability-restarts-nobody-'));
    cleanups.push(parent);
    chownSync(parent, 65534, 65534);
    chmodSync(parent, 0o700);
    const folder = join(parent, 'new-folder');
    const path = join(folder, 'run.h5');
    const src = await bind('tcp://127.0.0.1:0');
    const w = await startWriter(src.endpoint, path, [], '65534');
    const fst = statSync(folder);
    assert.equal(fst.uid, 65534, 'folder owned by 65534');
    assert.equal(fst.gid, 65534, 'folder group 65534');
    await w.call('POST', '/parameters', JSON.stringify(PARAMETERS));
    assert.equal((await w.call('PUT', '/start_pulse_id/10')).state, 'ok');
    assert.equal((await w.call('PUT', '/stop_pulse_id/19')).state, 'ok');
    for (let p = 5; p <= 25; p++) await src.send(testMessage(p));
    assert.equal(await w.proc.exited, 0, w.proc.stderr());
    const st = statSync(path);
    assert.equal(st.uid, 65534, 'file owned by 65534');
    assert.equal(st.gid, 65534, 'file group 65534');
    const f = await h5py<FileContent>(path, READ_FILE);
    assert.deepEqual(f.pulse_id, range(10, 19));
  },
);

test(
  'setuid/setgid before the output folder is touched: a folder only root may write is refused at start-up (exit 1, clear error)',
  { skip: isRoot ? false : 'needs root (setuid/setgid)', timeout: 60_000 },
  async () => {
    const parent = mkdtempSync(join(dir, 'rootonly-'));
    chmodSync(parent, 0o700);
    const folder = join(parent, 'new-folder');
    const port = await freePort();
    const { startProgram } = await import('../helpers/process.js');
    const p = startProgram('sf_bsread_writer', ['tcp://127.0.0.1:1', join(folder, 'run.h5'), '65534', String(port)]);
    const code = await within(p.exited, 15_000, 'still running');
    assert.equal(code, 1, `exit 1 at start-up: ${p.stderr()}`);
    assert.match(p.stderr(), /cannot write into the output folder .*new-folder/);
    assert.match(p.stderr(), /EACCES|permission denied/i);
    assert.doesNotMatch(p.stderr(), /\n\s+at /, 'no stack trace');
    assert.equal(existsSync(folder), false, 'nothing created as root');
    const refused = await fetch(`http://127.0.0.1:${port}/status`).then(
      () => false,
      () => true,
    );
    assert.ok(refused, 'no REST API: no pulse can be accepted');
  },
);
