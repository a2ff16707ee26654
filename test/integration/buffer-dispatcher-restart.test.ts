// sf_bsread_buffer -c against the embedded dispatcher (SimDispatcher, in this process): a stream
// that ends (deleted through the dispatcher's REST, or the dispatcher stopped and restarted on
// the same port) is requested again; a dispatcher that answers HTTP 500 meanwhile is retried
// with backoff while the buffer keeps running and keeps what it holds.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SimDispatcher } from '../../src/sim/index.js';
import { loadPage, textById } from '../helpers/chromium.js';
import { freePort } from '../helpers/net.js';
import { stopAllPrograms } from '../helpers/process.js';
import { waitFor } from '../helpers/wait.js';
import { startBuffer } from '../unit/buffer/helpers.js';
import type { DispatcherStreamStatus } from '../../src/buffer/dispatcher-stream.js';

const dir = await mkdtemp(join(tmpdir(), 'buffer-dispatcher-restart-'));
const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of closers) await c();
  await stopAllPrograms();
  await rm(dir, { recursive: true, force: true });
});

/** 100 Hz scalar channels of the embedded dispatcher's catalogue (no camera). */
const CHANNELS = ['SARFE10-PBPG050:HAMP-INTENSITY-CAL', 'SINEG01-DBPM340:X1', 'SINEG01-DBPM340:Q1'];

type DispatcherState = DispatcherStreamStatus;

interface Status {
  input: { address: string; received: number };
  buffer: { depth: number; oldest_pulse_id: number | null; newest_pulse_id: number | null };
  analyzer: { missing_pulses: number; gaps: number; stream_re_requests: number };
  dispatcher: DispatcherState;
}

async function status(port: number): Promise<Status> {
  const r = await fetch(`http://127.0.0.1:${port}/status`, { signal: AbortSignal.timeout(2000) });
  assert.equal(r.status, 200);
  return (await r.json()) as Status;
}

async function startDispatcher(port = 0): Promise<{ d: SimDispatcher; url: string }> {
  const d = new SimDispatcher();
  const url = await d.start({ port });
  closers.push(() => d.close());
  return { d, url };
}

async function startBufferOn(url: string, name: string): Promise<{ statusPort: number; stop: () => Promise<number | string> }> {
  const file = join(dir, name);
  await writeFile(file, CHANNELS.join('\n') + '\n');
  const statusPort = await freePort();
  const buf = await startBuffer(['-c', file, '--dispatcher_url', url, '-o', String(await freePort()), '--status_port', String(statusPort), '--analyzer', '-b', '100000']);
  return { statusPort, stop: () => buf.stop('SIGTERM') };
}

test('a stream deleted at the dispatcher is requested again; the analyzer counts the pulse ids missed meanwhile', { timeout: 90_000 }, async () => {
  const { d, url } = await startDispatcher();
  const buf = await startBufferOn(url, 'delete.txt');
  const first = await waitFor('100 messages', async () => ((await status(buf.statusPort)).input.received >= 100 ? status(buf.statusPort) : null), 20_000, 100);
  assert.equal(first.dispatcher.state, 'connected');
  assert.equal(first.dispatcher.requests, 1);
  assert.equal(first.dispatcher.re_requests, 0);
  assert.equal(first.dispatcher.url, url);
  const old = first.dispatcher.stream;
  assert.deepEqual(
    d.listStreams().map((s) => s.stream),
    [old],
  );
  assert.equal(first.input.address, old);

  const deletedAt = Date.now();
  const del = await fetch(`${url}/stream`, { method: 'DELETE', headers: { 'content-type': 'text/plain' }, body: old });
  assert.equal(del.status, 200);
  const missingBefore = (await status(buf.statusPort)).analyzer.missing_pulses;

  const again = await waitFor(
    'the stream requested again and 100 more messages',
    async () => {
      const s = await status(buf.statusPort);
      return s.dispatcher.re_requests === 1 && s.dispatcher.state === 'connected' && s.input.received >= first.input.received + 100 ? s : null;
    },
    30_000,
    100,
  );
  const fresh = again.dispatcher.stream;
  assert.notEqual(fresh, old);
  assert.equal(again.input.address, fresh);
  assert.equal(again.dispatcher.requests, 2);
  assert.equal(again.dispatcher.failed_requests, 0);
  assert.match(again.dispatcher.last_loss ?? '', /connection refused/);
  assert.deepEqual(
    d.listStreams().map((s) => s.stream),
    [fresh],
    'the dispatcher runs the new stream only',
  );
  // Pulse ids follow the wall clock at 100 Hz: at least those of the time between the DELETE and
  // the new connection are missing, counted as one gap.
  const awayMs = Date.parse(again.dispatcher.since) - deletedAt;
  assert.ok(awayMs >= 2000, `away ${awayMs} ms: a lost port is taken as lost after 2 s of quiet at the earliest`);
  const missing = again.analyzer.missing_pulses - missingBefore;
  assert.ok(missing >= Math.floor(awayMs / 10) - 10, `${missing} pulse ids counted missing for ${awayMs} ms away`);
  assert.ok(missing <= Math.ceil((Date.now() - deletedAt) / 10) + 10, `${missing} pulse ids missing is more than the time away`);
  assert.equal(again.analyzer.stream_re_requests, 1);

  // /metrics has the dispatcher series, in step with /status.
  const metrics = await (await fetch(`http://127.0.0.1:${buf.statusPort}/metrics`)).text();
  assert.match(metrics, /^bsread_buffer_dispatcher_re_requests_total 1$/m);
  assert.match(metrics, /^bsread_buffer_dispatcher_requests_total 2$/m);
  assert.match(metrics, /^bsread_buffer_dispatcher_connected 1$/m);

  assert.equal(await buf.stop(), 0);
  assert.deepEqual(d.listStreams(), [], 'SIGTERM deleted the stream requested last');
});

test('dispatcher stopped, HTTP 500 for a while, restarted on the same port: retried with backoff, data flows again', { timeout: 120_000 }, async () => {
  const first = await startDispatcher();
  const port = Number(new URL(first.url).port);
  const buf = await startBufferOn(first.url, 'restart.txt');
  await waitFor('100 messages', async () => (await status(buf.statusPort)).input.received >= 100, 20_000, 100);

  await first.d.close();
  // In its place, a dispatcher that refuses every request.
  const refusals: number[] = [];
  const refusing: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.method === 'POST') refusals.push(Date.now());
      res.statusCode = 500;
      res.end('backend unavailable');
    });
  });
  await new Promise<void>((r) => refusing.listen(port, '127.0.0.1', r));
  const closeRefusing = (): Promise<void> =>
    new Promise<void>((r) => {
      refusing.closeAllConnections();
      refusing.close(() => r());
    });
  closers.push(async () => {
    if (refusing.listening) await closeRefusing();
  });

  const waiting = await waitFor(
    'three refused requests',
    async () => {
      const s = await status(buf.statusPort);
      return s.dispatcher.failed_requests >= 3 && s.dispatcher.state === 'waiting' ? s : null;
    },
    30_000,
    100,
  );
  assert.match(waiting.dispatcher.last_error ?? '', /refused the stream: HTTP 500: backend unavailable/);
  assert.equal(waiting.dispatcher.re_requests, 1);
  assert.ok(waiting.dispatcher.next_request_s !== null && waiting.dispatcher.next_request_s <= 8);
  // The ring keeps what it had while the stream is away.
  assert.ok(waiting.buffer.depth >= 100, `depth ${waiting.buffer.depth}`);
  // Backoff: 1 s, then 2 s, then 4 s between requests (housekeeping ticks once a second).
  assert.ok(refusals.length >= 3);
  const gaps = refusals.slice(1).map((t, i) => t - refusals[i]!);
  assert.ok(gaps[0]! >= 900 && gaps[0]! < 2500, `first retry after ${gaps[0]} ms`);
  assert.ok(gaps[1]! >= 1900 && gaps[1]! < 3500, `second retry after ${gaps[1]} ms`);
  // The status page says so.
  const dom = await loadPage(`http://127.0.0.1:${buf.statusPort}/`, 2000);
  assert.match(textById(dom, 'dispatcher-state') ?? '', /^(waiting|requesting)$/);
  assert.equal(textById(dom, 'dispatcher-re-requests'), '1');
  assert.equal(textById(dom, 'dispatcher-url'), first.url);
  assert.match(textById(dom, 'dispatcher-error') ?? '', /HTTP 500: backend unavailable/);
  assert.ok(Number(textById(dom, 'dispatcher-failed')) >= 3);
  assert.doesNotMatch(dom, /<section[^>]*id="dispatcher-section"[^>]*hidden/);

  await closeRefusing();
  const second = await startDispatcher(port);
  const back = await waitFor(
    'the restarted dispatcher streaming to the buffer',
    async () => {
      const s = await status(buf.statusPort);
      return s.dispatcher.state === 'connected' && second.d.listStreams().length === 1 && second.d.listStreams()[0]!.sent > 0 && s.input.address === s.dispatcher.stream ? s : null;
    },
    30_000,
    100,
  );
  const receivedBack = back.input.received;
  await waitFor('100 more messages', async () => (await status(buf.statusPort)).input.received >= receivedBack + 100, 20_000, 100);
  const end = await status(buf.statusPort);
  assert.equal(end.dispatcher.stream, second.d.listStreams()[0]!.stream);
  assert.equal(end.dispatcher.re_requests, 1);
  assert.equal(end.dispatcher.failed_requests, refusals.length, 'every refused POST counted (the DELETE of the old stream is not a request)');
  assert.equal(end.dispatcher.requests, 1 + refusals.length + 1);
  assert.ok(end.analyzer.gaps >= 1);

  assert.equal(await buf.stop(), 0);
  assert.deepEqual(second.d.listStreams(), []);
});
