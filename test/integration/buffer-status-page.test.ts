// The buffer's status page (GET / on --status_port) in a real headless chromium, against a real
// sf_bsread_buffer fed at 100 Hz: the rendered depth, pulse-id range, rate, chart, consumers and
// analyzer, compared with the buffer's own /status.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { StreamReceiver } from '../../src/transport/index.js';
import { loadPage, screenshotPage, textById } from '../helpers/chromium.js';
import { freePort } from '../helpers/net.js';
import { stopAllPrograms } from '../helpers/process.js';
import { StreamSender } from '../helpers/stream-sender.js';
import { waitFor } from '../helpers/wait.js';
import { bufferStatus, startBuffer, testMessage } from '../unit/buffer/helpers.js';

const closers: (() => void)[] = [];
after(async () => {
  for (const c of closers) c();
  await stopAllPrograms();
});

interface HistoryJson {
  interval_s: number;
  samples: { t: number; rate_hz: number; depth: number; bytes: number }[];
}

async function history(port: number, since?: number): Promise<HistoryJson> {
  const r = await fetch(`http://127.0.0.1:${port}/history${since === undefined ? '' : `?since=${since}`}`);
  assert.equal(r.status, 200);
  return (await r.json()) as HistoryJson;
}

/** The coordinate pairs of a polyline's points attribute in the DOM dump. */
function polylinePoints(dom: string, id: string): [number, number][] {
  const m = new RegExp(`<polyline[^>]*\\bid="${id}"[^>]*>`).exec(dom);
  assert.ok(m, `no polyline ${id}`);
  const points = /\bpoints="([^"]*)"/.exec(m[0])?.[1] ?? '';
  return points
    .trim()
    .split(/\s+/)
    .filter((p) => p !== '')
    .map((p) => p.split(',').map(Number) as [number, number]);
}

test('the status page shows depth, pulse range, rate, a chart of the last seconds, consumers and the analyzer', { timeout: 120_000 }, async () => {
  const src = await StreamSender.bind({ address: 'tcp://127.0.0.1:0', mode: 'push', highWaterMark: 1000 });
  closers.push(() => src.close());
  const out = await freePort();
  const port = await freePort();
  const buf = await startBuffer([src.endpoint, '-o', String(out), '-b', '200', '--status_port', String(port), '--analyzer']);
  // A reader on the compatible output, so the page has a peer to show.
  const reader = new StreamReceiver({ address: `tcp://127.0.0.1:${out}`, mode: 'pull', receiveTimeoutMs: 100 });
  closers.push(() => reader.close());
  let reading = true;
  const drain = (async () => {
    while (reading) await reader.receive();
  })();

  // 100 Hz; every 50th pulse id is skipped (a gap for the analyzer), every 4th message lacks a value.
  let pulse = 20_000_000_000;
  let sent = 0;
  const feed = setInterval(() => {
    pulse += pulse % 50 === 49 ? 2 : 1;
    void src.send(testMessage(pulse, { channels: 4, withMissing: sent++ % 4 === 0 }));
  }, 10);
  closers.push(() => clearInterval(feed));

  await waitFor('5 s of history', async () => (await history(port)).samples.length >= 5, 20_000, 200);
  const opened = (await history(port)).samples;
  const before = await bufferStatus(port);
  const url = `http://127.0.0.1:${port}/`;
  const dom = await loadPage(url, 3000);
  const afterStatus = await bufferStatus(port);

  // Depth: the ring is full at 200 messages.
  assert.equal(before.buffer.depth, 200);
  assert.equal(textById(dom, 'depth-messages'), '200');
  const seconds = Number(textById(dom, 'depth-seconds'));
  assert.ok(seconds > 1 && seconds < 3.5, `depth ${seconds} s for 200 messages at 100 Hz`);
  assert.match(textById(dom, 'depth-bytes') ?? '', /^\d+(\.\d)? kB$/);

  // Pulse ids: between what /status said before and after the page loaded.
  const range = /^(\d+) … (\d+)$/.exec(textById(dom, 'pulse-range') ?? '');
  assert.ok(range, `pulse range "${textById(dom, 'pulse-range')}"`);
  const [oldest, newest] = [Number(range[1]), Number(range[2])];
  assert.ok(oldest >= before.buffer.oldest_pulse_id! && oldest <= afterStatus.buffer.oldest_pulse_id!, `oldest ${oldest}`);
  assert.ok(newest >= before.buffer.newest_pulse_id! && newest <= afterStatus.buffer.newest_pulse_id!, `newest ${newest}`);
  assert.ok(newest - oldest >= 199);

  // Rate: one the buffer measured while the page loaded (the test's 10 ms timer is not exact on a
  // shared machine, so not a fixed 100).
  const rate = Number(textById(dom, 'rate'));
  const measured = [before.input.rate_hz, afterStatus.input.rate_hz, ...(await history(port, opened.at(-1)!.t - 1)).samples.map((s) => s.rate_hz)];
  assert.ok(measured.includes(rate), `rate ${rate} Hz, measured ${measured.join(', ')}`);
  assert.ok(rate > 20, `rate ${rate} Hz`);

  // The chart: at least the history that existed when the page was opened, rate and depth alike,
  // inside the drawing area; the rate line sits high (about 100 of at most 1.1 × the maximum).
  const ratePoints = polylinePoints(dom, 'chart-rate');
  const depthPoints = polylinePoints(dom, 'chart-depth');
  assert.ok(ratePoints.length >= opened.length, `${ratePoints.length} chart points, ${opened.length} samples at opening`);
  assert.equal(depthPoints.length, ratePoints.length);
  for (const [x, y] of [...ratePoints, ...depthPoints]) assert.ok(x >= 40 && x <= 760 && y >= 10 && y <= 160, `point ${x},${y}`);
  assert.ok(ratePoints.at(-1)![1] < 60, `the last rate point at y=${ratePoints.at(-1)![1]}`);

  // Consumers, drops, analyzer.
  assert.match(textById(dom, 'output') ?? '', new RegExp(`^tcp://127\\.0\\.0\\.1:${out}: 1 reader\\(s\\)`));
  assert.equal(textById(dom, 'consumers'), 'no replay consumer');
  assert.equal(textById(dom, 'drops'), '0');
  const analyzer = textById(dom, 'analyzer-counters') ?? '';
  const missingPulses = Number(/missing pulse ids(\d+)/.exec(analyzer)?.[1]);
  assert.ok(missingPulses >= 4 && missingPulses <= afterStatus.analyzer!.missing_pulses, `missing pulse ids ${missingPulses}`);
  assert.match(textById(dom, 'worst-channels') ?? '', /^MISSING\d+$/);
  assert.match(dom, /<section[^>]*id="dispatcher-section"[^>]*hidden/);
  assert.match(dom, /<section[^>]*id="jetstream-section"[^>]*hidden/);
  assert.match(textById(dom, 'conn') ?? '', /^updated /);

  await screenshotPage(url, '/tmp/buffer-status-page.png', 3000, '1200,1100');

  clearInterval(feed);
  reading = false;
  await drain;
  assert.equal(await buf.stop('SIGTERM'), 0);
});

test('GET /history keeps the samples of a buffer that has been running: ?since returns only newer ones', { timeout: 60_000 }, async () => {
  const src = await StreamSender.bind({ address: 'tcp://127.0.0.1:0', mode: 'push', highWaterMark: 1000 });
  closers.push(() => src.close());
  const port = await freePort();
  const buf = await startBuffer([src.endpoint, '-o', String(await freePort()), '--status_port', String(port)]);
  for (let p = 1; p <= 30; p++) await src.send(testMessage(p));
  await waitFor('3 samples', async () => (await history(port)).samples.length >= 3, 10_000, 200);
  const h = await history(port);
  assert.equal(h.interval_s, 1);
  const ts = h.samples.map((s) => s.t);
  assert.deepEqual(
    ts,
    [...ts].sort((a, b) => a - b),
  );
  assert.equal(h.samples.at(-1)!.depth, 30);
  const last = ts.at(-1)!;
  await waitFor('a newer sample', async () => (await history(port, last)).samples.length >= 1, 5000, 200);
  const newer = await history(port, last);
  assert.ok(newer.samples.every((s) => s.t > last));
  assert.equal((await fetch(`http://127.0.0.1:${port}/history?since=-1`)).status, 400);
  assert.equal(await buf.stop('SIGTERM'), 0);
});
