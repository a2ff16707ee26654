// GET / of the real writer process in a real browser (Debian's chromium, headless): the page's
// script fills in state, range, progress and counts from /status and /statistics.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadPage, textById } from '../helpers/chromium.js';
import type { StreamSender } from '../helpers/stream-sender.js';
import { stopAllPrograms } from '../helpers/process.js';
import { waitFor } from '../helpers/wait.js';
import { nowStamp, rest, sender, startWriter, testMessage } from './writer-helpers.js';

const senders: StreamSender[] = [];
const dir = mkdtempSync(join(tmpdir(), 'writer-page-'));
after(async () => {
  for (const s of senders) s.close();
  await stopAllPrograms();
  rmSync(dir, { recursive: true, force: true });
});

const lastPulse = async (port: number): Promise<number> => ((await rest(port, 'GET', '/statistics')).json['statistics'] as { last_pulse_id: number }).last_pulse_id;

/** The value attribute of the page's <progress> bar, or null. */
function progressValue(dom: string): number | null {
  const m = /<progress[^>]*\bid="progress-bar"[^>]*>/.exec(dom);
  const v = m === null ? null : /\bvalue="([^"]*)"/.exec(m[0]);
  return v === null || v === undefined ? null : Number(v[1]);
}

test('status page mid-acquisition: writing, the range, 50 % and the counts', async () => {
  const src = await sender();
  senders.push(src);
  const path = join(dir, 'mid.h5');
  const w = await startWriter(src.endpoint, path);
  const html = await fetch(`http://127.0.0.1:${w.port}/`);
  assert.equal(html.status, 200);
  assert.match(html.headers.get('content-type') ?? '', /^text\/html/);
  const source = await html.text();
  assert.doesNotMatch(source, /(src|href)="(https?:)?\/\//, 'nothing loaded from elsewhere');

  const waiting = await loadPage(`http://127.0.0.1:${w.port}/`);
  assert.equal(textById(waiting, 'state'), 'waiting');
  assert.equal(textById(waiting, 'start-pulse-id'), 'not set');

  assert.equal((await w.call('PUT', '/start_pulse_id/1000')).state, 'ok');
  assert.equal((await w.call('PUT', '/stop_pulse_id/1299')).state, 'ok');
  for (let p = 1000; p <= 1149; p++) await src.send(testMessage(p));
  await waitFor('1149 seen', async () => (await lastPulse(w.port)) === 1149);

  const dom = await loadPage(`http://127.0.0.1:${w.port}/`);
  assert.equal(textById(dom, 'state'), 'writing');
  assert.equal(textById(dom, 'start-pulse-id'), '1000');
  assert.equal(textById(dom, 'stop-pulse-id'), '1299');
  assert.equal(textById(dom, 'last-pulse-id'), '1149');
  assert.equal(textById(dom, 'progress-text'), '50.0 %');
  assert.equal(progressValue(dom), 0.5);
  assert.equal(textById(dom, 'received'), '150');
  assert.equal(textById(dom, 'written'), '150');
  assert.equal(textById(dom, 'missing'), '0');
  assert.equal(textById(dom, 'output-file'), path);
  assert.equal(textById(dom, 'last-error'), 'none');
  assert.match(textById(dom, 'connection') ?? '', /^updated /);

  for (let p = 1150; p <= 1299; p++) await src.send(testMessage(p));
  assert.equal(await w.proc.exited, 0);
});

test('status page after the acquisition (persistent mode): finished, 100 %, the summary with its missing range', async () => {
  const src = await sender();
  senders.push(src);
  const path = join(dir, 'after.h5');
  const w = await startWriter(src.endpoint, path);
  assert.equal((await w.call('PUT', '/stop_pulse_id/2099')).state, 'ok');
  assert.equal((await rest(w.port, 'PUT', '/start_now', JSON.stringify({ output_file: path }))).json.state, 'ok');
  for (let p = 2000; p <= 2099; p++) if (p !== 2010 && p !== 2011) await src.send(testMessage(p, nowStamp()));
  await waitFor('finished', async () => (await w.call('GET', '/status')).status === 'finished', 10_000);

  const dom = await loadPage(`http://127.0.0.1:${w.port}/`);
  assert.equal(textById(dom, 'state'), 'finished');
  assert.equal(textById(dom, 'start-pulse-id'), 'time start');
  assert.equal(textById(dom, 'stop-pulse-id'), '2099');
  assert.equal(textById(dom, 'progress-text'), '100.0 %');
  assert.equal(progressValue(dom), 1);
  assert.equal(textById(dom, 'written'), '98');
  assert.equal(textById(dom, 'missing'), '2');
  assert.equal(textById(dom, 'eta'), '0.0 s');
  assert.match(textById(dom, 'output-file') ?? '', new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(persistent\\)$`));
  assert.equal(textById(dom, 'summary'), '98 rows, pulses 2000 .. 2099, 2 missing pulse ids in 1 range');
  assert.equal(textById(dom, 'missing-ranges'), 'missing: 2010..2011');
  assert.match(dom, /SCALAR<\/td><td class="num">98 of 98 rows with a value/);
  assert.match(dom, /ALWAYS_MISSING<\/td><td class="num">0 of 98 rows with a value/);
  assert.equal((await w.call('GET', '/stop')).state, 'ok');
  assert.equal(await w.proc.exited, 0);
});
