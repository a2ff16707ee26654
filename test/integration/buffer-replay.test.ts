// Replay through the real sf_bsread_buffer: several consumers from past pulse ids while intake
// runs at 100 Hz, gaps, a consumer that stops reading, and probing a plain source.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openReplay, probeReplayService, type ReplaySession } from '../../src/replay/index.js';
import { StreamSender } from '../helpers/stream-sender.js';
import { freePort } from '../helpers/net.js';
import { ROOT, stopAllPrograms } from '../helpers/process.js';
import { waitFor } from '../helpers/wait.js';
import { bufferStatus, pulseIdOf, startBuffer, testMessage } from '../unit/buffer/helpers.js';

const closers: (() => void | Promise<void>)[] = [];
after(async () => {
  for (const c of closers) await c();
  await stopAllPrograms();
});

/** A PUSH source sending pulse ids start, start+1, ... every periodMs until stopped. */
async function runningSource(periodMs = 10, start = 1000, channels = 3): Promise<{ endpoint: string; next: () => number; stop: () => Promise<void> }> {
  const s = await StreamSender.bind({ address: 'tcp://127.0.0.1:0', mode: 'push', highWaterMark: 1000 });
  let pulse = start;
  let running = true;
  const loop = (async () => {
    let t = Date.now();
    while (running) {
      await s.send(testMessage(pulse, { channels }));
      pulse++;
      t += periodMs;
      const wait = t - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  })();
  const stop = async (): Promise<void> => {
    running = false;
    s.close();
    await loop.catch(() => {});
  };
  closers.push(stop);
  return { endpoint: s.endpoint, next: () => pulse, stop };
}

async function collect(session: ReplaySession, until: number, timeoutMs = 20_000): Promise<number[]> {
  const ids: number[] = [];
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const f = await session.receiver.receive();
    if (f === null) continue;
    const p = pulseIdOf(f);
    ids.push(p);
    if (p >= until) break;
  }
  return ids;
}

function range(a: number, b: number): number[] {
  return Array.from({ length: b - a + 1 }, (_, i) => a + i);
}

test('two consumers from different past pulse ids each get their full range at 100 Hz; a gap is reported', async () => {
  const src = await runningSource(10, 1000);
  const out = await freePort();
  const status = await freePort();
  const buf = await startBuffer([src.endpoint, '-o', String(out), '-b', '1000', '--status_port', String(status)]);
  await waitFor('100 messages buffered', async () => ((await bufferStatus(status)).buffer.depth >= 100 ? true : null), 20_000);
  const info = await probeReplayService(`tcp://127.0.0.1:${out}`, 1000);
  assert.ok(info !== null, 'replay service found next to the output');
  assert.equal(info.protocol, 1);
  const newest = info.newestPulseId!;
  const fromA = newest - 80;
  const fromB = newest - 40;
  const [a, b] = await Promise.all([openReplay(info, fromA), openReplay(info, fromB)]);
  closers.push(
    () => a.release(),
    () => b.release(),
  );
  assert.equal(a.gap, 0);
  assert.equal(a.firstPulseId, fromA);
  assert.equal(b.firstPulseId, fromB);
  const until = newest + 150; // 1.5 s of live data after the seam
  const [idsA, idsB] = await Promise.all([collect(a, until), collect(b, until)]);
  assert.deepEqual(idsA, range(fromA, until), 'consumer A: no gap, no duplicate');
  assert.deepEqual(idsB, range(fromB, until), 'consumer B: no gap, no duplicate');
  const s = await bufferStatus(status);
  assert.equal(s.replay.consumers.length, 2);
  assert.equal(s.replay.dropped, 0);

  // Older than anything buffered: the gap is the pulses the buffer no longer holds.
  const oldest = (await probeReplayService(`tcp://127.0.0.1:${out}`, 1000))!.oldestPulseId!;
  const c = await openReplay(info, 10);
  closers.push(() => c.release());
  assert.ok(c.gap >= oldest - 10, `gap ${c.gap} for oldest ${oldest}`);
  assert.equal(c.gap, c.oldestPulseId! - 10);
  const first = await collect(c, c.firstPulseId!);
  assert.deepEqual(first, [c.firstPulseId]);
  await c.release();
  await a.release();
  await b.release();
  await waitFor('consumers released', async () => (await bufferStatus(status)).replay.consumers.length === 0);
  assert.equal(await buf.stop('SIGTERM'), 0);
});

test('a consumer that stops reading: intake continues, memory stays bounded, drops are counted', async () => {
  const src = await runningSource(2, 1, 50); // 500 Hz
  const out = await freePort();
  const status = await freePort();
  const buf = await startBuffer([src.endpoint, '-o', String(out), '-b', '50', '--status_port', String(status)]);
  const info = await waitFor('replay service', () => probeReplayService(`tcp://127.0.0.1:${out}`, 500));
  const stuck = await openReplay(info, null, { highWaterMark: 1 });
  closers.push(() => stuck.release());
  await stuck.receiver.receive(); // read one, then stop reading
  const before = (await bufferStatus(status)).input.received;
  const s = await waitFor(
    'drops for the stuck consumer',
    async () => {
      const x = await bufferStatus(status);
      return x.replay.consumers[0]!.dropped > 0 && x.input.received > before + 500 ? x : null;
    },
    30_000,
  );
  assert.ok(s.buffer.depth <= 50);
  assert.ok(s.replay.consumers[0]!.queue_depth <= 50);
  // A live consumer opened now still gets contiguous data.
  const live = await openReplay(info, null);
  closers.push(() => live.release());
  const first = await live.receiver.receive();
  assert.ok(first !== null);
  const p0 = pulseIdOf(first);
  const ids = await collect(live, p0 + 100);
  // Strictly increasing; anything missing (a loaded test machine can fall behind 500 Hz) was counted as dropped.
  for (let i = 1; i < ids.length; i++) assert.ok(ids[i]! > ids[i - 1]!, `increasing at ${i}`);
  const later = await bufferStatus(status);
  const liveStatus = later.replay.consumers.find((c) => c.consumer_id === live.consumerId)!;
  const missing = ids.at(-1)! - p0 - ids.length;
  assert.ok(missing <= liveStatus.dropped, `${missing} missing, ${liveStatus.dropped} counted as dropped`);
  assert.ok(later.input.received > s.input.received);
  await src.stop();
  assert.equal(await buf.stop('SIGTERM'), 0);
});

test('probing a plain bsread PUSH source returns null quickly and leaves nothing running', async () => {
  const s = await StreamSender.bind({ address: 'tcp://127.0.0.1:0', mode: 'push' });
  closers.push(() => s.close());
  const t0 = Date.now();
  assert.equal(await probeReplayService(s.endpoint, 300), null);
  assert.ok(Date.now() - t0 < 1500);
  // The same in a child process: it must exit on its own right after the probe.
  const client = join(ROOT, 'dist', 'src', 'replay', 'index.js');
  const script = `const m = await import(${JSON.stringify(client)}); const r = await m.probeReplayService(${JSON.stringify(s.endpoint)}, 300); console.log(JSON.stringify(r));`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let outText = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (outText += d));
  const start = Date.now();
  const code = await new Promise<number | null>((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', (c) => {
      clearTimeout(t);
      resolve(c);
    });
  });
  assert.equal(code, 0, 'probe process exited by itself');
  assert.equal(outText.trim(), 'null');
  assert.ok(Date.now() - start < 4000, `probe process took ${Date.now() - start} ms`);
});

test('bad replay requests get an error reply and do not disturb the service', async () => {
  const src = await runningSource(10, 1);
  const out = await freePort();
  const buf = await startBuffer([src.endpoint, '-o', String(out)]);
  const { replayRequest } = await import('../../src/replay/index.js');
  const addr = `tcp://127.0.0.1:${out + 1}`;
  const r1 = JSON.parse((await replayRequest(addr, { op: 'replay', from_pulse_id: -3 }, 2000))!.toString()) as { state: string; error: string };
  assert.equal(r1.state, 'error');
  assert.match(r1.error, /from_pulse_id/);
  const r2 = JSON.parse((await replayRequest(addr, { op: 'nope' }, 2000))!.toString()) as { state: string };
  assert.equal(r2.state, 'error');
  const r3 = JSON.parse((await replayRequest(addr, { op: 'release', consumer_id: 'c99' }, 2000))!.toString()) as { state: string };
  assert.equal(r3.state, 'error');
  assert.ok((await probeReplayService(`tcp://127.0.0.1:${out}`, 1000)) !== null);
  await src.stop();
  assert.equal(await buf.stop('SIGTERM'), 0);
});
