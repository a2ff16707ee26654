// GET /metrics of the real writer process: parsed as Prometheus text (format 0.0.4) by a small
// parser here, and its values checked against /statistics.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { StreamSender } from '../helpers/stream-sender.js';
import { stopAllPrograms } from '../helpers/process.js';
import { waitFor } from '../helpers/wait.js';
import { nowStamp, rest, sender, startWriter, testMessage, type Writer } from './writer-helpers.js';
import type { WriterStatistics } from '../../src/writer/acquisition.js';

const senders: StreamSender[] = [];
const dir = mkdtempSync(join(tmpdir(), 'writer-metrics-'));
after(async () => {
  for (const s of senders) s.close();
  await stopAllPrograms();
  rmSync(dir, { recursive: true, force: true });
});

interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * Every line is a `# HELP`/`# TYPE` comment or `name{labels} value`; every sample's family has a
 * TYPE before it; values are numbers. Throws on anything else.
 */
function parsePrometheus(text: string): { samples: PromSample[]; types: Map<string, string> } {
  assert.ok(text.endsWith('\n'), 'ends with a line feed');
  const types = new Map<string, string>();
  const samples: PromSample[] = [];
  for (const line of text.slice(0, -1).split('\n')) {
    const comment = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (comment !== null) {
      if (comment[1] === 'TYPE') {
        assert.match(comment[3]!, /^(counter|gauge|summary|histogram|untyped)$/, line);
        types.set(comment[2]!, comment[3]!);
      }
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m !== null, `not a comment or a sample: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    const body = m[2] ?? '';
    const labelRe = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/gy;
    let consumed = 0;
    for (let l = labelRe.exec(body); l !== null; l = labelRe.exec(body)) {
      labels[l[1]!] = l[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
      consumed = labelRe.lastIndex;
    }
    assert.equal(consumed, body.length, `labels of ${line}`);
    const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
    assert.ok(m[3] === 'NaN' || !Number.isNaN(value), `numeric value: ${line}`);
    const family = [...types.keys()].find((f) => m[1] === f || (types.get(f) === 'summary' && (m[1] === `${f}_sum` || m[1] === `${f}_count`)));
    assert.ok(family !== undefined, `# TYPE before ${m[1]}`);
    samples.push({ name: m[1]!, labels, value });
  }
  return { samples, types };
}

async function metrics(w: Writer): Promise<{ samples: PromSample[]; types: Map<string, string>; contentType: string | null }> {
  const r = await fetch(`http://127.0.0.1:${w.port}/metrics`);
  assert.equal(r.status, 200);
  return { ...parsePrometheus(await r.text()), contentType: r.headers.get('content-type') };
}

function value(samples: PromSample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v) && Object.keys(s.labels).length === Object.keys(labels).length)?.value;
}

/** /statistics as the writer declares it (the JSON of WriterStatistics). */
type Statistics = WriterStatistics;

test('/metrics is Prometheus text; state, counts by reason and kind, progress, rates and flushes match /statistics', async () => {
  const src = await sender();
  senders.push(src);
  const path = join(dir, 'metrics.h5');
  const w = await startWriter(src.endpoint, path);

  const idle = await metrics(w);
  assert.equal(idle.contentType, 'text/plain; version=0.0.4; charset=utf-8');
  for (const s of idle.samples) assert.match(s.name, /^bsread_writer_/);
  assert.equal(value(idle.samples, 'bsread_writer_state', { state: 'waiting' }), 1);
  for (const other of ['writing', 'finished', 'error']) assert.equal(value(idle.samples, 'bsread_writer_state', { state: other }), 0);
  assert.equal(value(idle.samples, 'bsread_writer_progress_ratio'), undefined, 'no range: no progress sample');
  assert.equal(idle.types.get('bsread_writer_messages_received_total'), 'counter');

  // Persistent mode (start_now with an output_file): the process stays up after the range.
  assert.equal((await w.call('PUT', '/stop_pulse_id/5099')).state, 'ok');
  assert.equal((await rest(w.port, 'PUT', '/start_now', JSON.stringify({ output_file: path }))).json.state, 'ok');
  await src.send(testMessage(4990, nowStamp(-60_000))); // before the start time: discarded
  await src.send([Buffer.from('this is not a bsread main header')]); // malformed
  for (let p = 5000; p <= 5049; p++) {
    if (p === 5010 || p === 5011) continue; // two missing pulse ids
    await src.send(testMessage(p, nowStamp()));
  }
  await waitFor('5049 written', async () => ((await w.call('GET', '/statistics'))['statistics'] as Statistics).last_pulse_id === 5049);
  const writing = await metrics(w);
  assert.equal(value(writing.samples, 'bsread_writer_state', { state: 'writing' }), 1);
  assert.equal(value(writing.samples, 'bsread_writer_progress_ratio'), 0.5);
  assert.equal(value(writing.samples, 'bsread_writer_missing_pulse_ids'), 2);

  for (let p = 5050; p <= 5099; p++) await src.send(testMessage(p, nowStamp()));
  await waitFor('finished', async () => (await w.call('GET', '/status')).status === 'finished', 10_000);
  // After the acquisition nothing changes: both replies describe the same state.
  const done = await metrics(w);
  const s = (await w.call('GET', '/statistics'))['statistics'] as Statistics;
  const v = (name: string, labels: Record<string, string> = {}): number | undefined => value(done.samples, name, labels);
  assert.equal(v('bsread_writer_state', { state: 'finished' }), 1);
  assert.equal(v('bsread_writer_state', { state: 'writing' }), 0);
  assert.equal(v('bsread_writer_messages_received_total'), s.messages_received);
  assert.equal(s.messages_received, 1 + 1 + 98);
  assert.equal(v('bsread_writer_messages_written_total'), s.messages_written);
  assert.equal(s.messages_written, 98);
  assert.equal(v('bsread_writer_discarded_total', { reason: 'before_start' }), s.discarded_before_start);
  assert.equal(s.discarded_before_start, 1);
  assert.equal(v('bsread_writer_discarded_total', { reason: 'after_stop' }), s.discarded_after_stop);
  assert.equal(v('bsread_writer_discarded_total', { reason: 'repeated' }), s.discarded_repeated);
  const malformed = Object.fromEntries(done.samples.filter((x) => x.name === 'bsread_writer_malformed_total').map((x) => [x.labels['kind'], x.value]));
  assert.deepEqual(malformed, s.malformed);
  assert.equal(
    Object.values(s.malformed).reduce((a, b) => a + b, 0),
    1,
    JSON.stringify(s.malformed),
  );
  assert.equal(v('bsread_writer_missing_pulse_ids'), s.missing_pulse_ids);
  assert.equal(s.missing_pulse_ids, 2);
  assert.equal(v('bsread_writer_progress_ratio'), 1);
  assert.equal(v('bsread_writer_eta_seconds'), 0);
  assert.equal(v('bsread_writer_rows_per_second'), s.progress.rows_per_s);
  assert.ok(s.progress.rows_per_s! > 0);
  assert.equal(v('bsread_writer_received_per_second'), s.progress.received_per_s);
  assert.equal(v('bsread_writer_stop_pulse_id'), 5099);
  assert.equal(v('bsread_writer_last_pulse_id'), s.last_pulse_id);
  assert.equal(v('bsread_writer_flushes_total'), s.flushes.count);
  assert.equal(v('bsread_writer_flush_seconds_total'), s.flushes.total_seconds);
  assert.equal(v('bsread_writer_last_flush_seconds'), s.flushes.last_seconds ?? undefined, 'null in statistics: no sample');
  assert.equal(v('bsread_writer_last_run_failed'), 0);
  assert.equal((await w.call('GET', '/stop')).state, 'ok');
  assert.equal(await w.proc.exited, 0);
});

test('/metrics and / are in /openapi.json; other routes unchanged', async () => {
  const src = await sender();
  senders.push(src);
  const w = await startWriter(src.endpoint, '/dev/null');
  const api = (await (await fetch(`http://127.0.0.1:${w.port}/openapi.json`)).json()) as {
    paths: Record<string, Record<string, { responses: Record<string, { content: Record<string, unknown> }> }>>;
  };
  assert.ok('text/plain' in api.paths['/metrics']!['get']!.responses['200']!.content);
  assert.ok('text/html' in api.paths['/']!['get']!.responses['200']!.content);
  assert.ok('application/json' in api.paths['/statistics']!['get']!.responses['200']!.content);
  assert.deepEqual(await w.call('GET', '/status'), { state: 'ok', status: 'waiting' });
  assert.equal((await rest(w.port, 'GET', '/nope')).http, 404);
  await w.proc.stop();
});
