// The writer's progress report and consistency summary against the real process: a test sender
// at a steady rate, /statistics sampled while it writes, the file's root attributes read back
// with h5py.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { encodeMessage } from '../../src/bsread/index.js';
import type { StreamSender } from '../helpers/stream-sender.js';
import { h5py } from '../helpers/h5py.js';
import { stopAllPrograms } from '../helpers/process.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { nowStamp, rest, sender, startWriter, testMessage, type Writer } from './writer-helpers.js';

const senders: StreamSender[] = [];
const dir = mkdtempSync(join(tmpdir(), 'writer-progress-'));
after(async () => {
  for (const s of senders) s.close();
  await stopAllPrograms();
  rmSync(dir, { recursive: true, force: true });
});

async function newSender(): Promise<StreamSender> {
  const s = await sender();
  senders.push(s);
  return s;
}

interface Progress {
  fraction: number | null;
  rows_per_s: number | null;
  eta_s: number | null;
  received_per_s: number | null;
}
interface Statistics {
  last_pulse_id: number;
  messages_written: number;
  progress: Progress;
  flushes: { count: number; total_seconds: number; last_seconds: number | null };
  missing_pulse_ids: number;
  summary: {
    rowsWritten: number;
    missingPulseIds: number;
    missingPulseIdRanges: [number, number][];
    missingPulseIdRangeCount: number;
    channelRowsWithValue: Record<string, number> | null;
  } | null;
}

async function statistics(w: Writer): Promise<{ status: string; s: Statistics }> {
  const r = await rest(w.port, 'GET', '/statistics');
  return { status: r.json.status, s: r.json['statistics'] as Statistics };
}

test('progress: null before the start, then 0 → 1 over a 300-pulse range sent at 100 Hz; fraction and eta agree with the pulse ids', async () => {
  const src = await newSender();
  const path = join(dir, 'progress.h5');
  const w = await startWriter(src.endpoint, path);
  const waiting = await statistics(w);
  assert.deepEqual(waiting.s.progress, { fraction: null, rows_per_s: null, eta_s: null, received_per_s: null }, 'waiting: nothing known');
  // The stop applies to the next start; start_now with an output_file keeps the process up after the range.
  assert.equal((await w.call('PUT', '/stop_pulse_id/1299')).state, 'ok');
  const started = await rest(w.port, 'PUT', '/start_now', JSON.stringify({ output_file: path }));
  assert.equal(started.json.state, 'ok', started.json.status);
  const beforeFirst = await statistics(w);
  assert.equal(beforeFirst.status, 'writing');
  assert.equal(beforeFirst.s.progress.fraction, null, 'start_now before the first message: the start pulse is not known');
  assert.equal(beforeFirst.s.progress.eta_s, null);

  // 300 pulses, 10 every 100 ms, while /statistics is sampled.
  let sending = true;
  const samples: Statistics[] = [];
  const sampler = (async () => {
    while (sending) {
      samples.push((await statistics(w)).s);
      await sleep(80);
    }
  })();
  for (let p = 1000; p <= 1299; p += 10) {
    for (let q = p; q < p + 10; q++) await src.send(testMessage(q, nowStamp()));
    await sleep(100);
  }
  await waitFor('range finished', async () => (await statistics(w)).status === 'finished', 10_000);
  sending = false;
  await sampler;
  const end = await statistics(w);

  const known = samples.filter((s) => s.progress.fraction !== null);
  assert.ok(known.length >= 10, `fractions sampled while writing: ${known.length}`);
  for (let i = 1; i < known.length; i++) {
    assert.ok(known[i]!.progress.fraction! >= known[i - 1]!.progress.fraction!, `non-decreasing: ${known.map((s) => s.progress.fraction).join(' ')}`);
  }
  const between = known.filter((s) => s.progress.fraction! > 0 && s.progress.fraction! < 1);
  assert.ok(between.length >= 5, `fractions strictly between 0 and 1: ${between.length}`);
  for (const s of between) {
    // The same reply: the fraction is the handled pulse ids of the range 1000..1299.
    assert.ok(Math.abs(s.progress.fraction! - (s.last_pulse_id - 1000 + 1) / 300) < 1e-9, `fraction ${s.progress.fraction} at pulse ${s.last_pulse_id}`);
  }
  const mid = between.filter((s) => s.progress.eta_s !== null && s.progress.rows_per_s !== null);
  assert.ok(mid.length > 0, 'eta and rows/s known while writing');
  const m = mid[Math.floor(mid.length / 2)]!;
  // 100 Hz: 300 - handled pulses left at roughly 100 per second (generous: a shared machine).
  const expectedEta = (1299 - m.last_pulse_id) / 100;
  assert.ok(m.progress.eta_s! > expectedEta / 3 && m.progress.eta_s! < expectedEta * 3 + 1, `eta ${m.progress.eta_s} s, ~${expectedEta} s expected`);
  assert.ok(m.progress.rows_per_s! > 30 && m.progress.rows_per_s! < 300, `rows/s ${m.progress.rows_per_s}`);

  assert.equal(end.status, 'finished');
  assert.equal(end.s.progress.fraction, 1);
  assert.equal(end.s.progress.eta_s, 0);
  assert.equal(end.s.messages_written, 300);
  assert.ok(end.s.progress.rows_per_s! > 30 && end.s.progress.rows_per_s! < 300, `mean rows/s of the run: ${end.s.progress.rows_per_s}`);
  // 3 s of writing with the default 1-s flush interval: the periodic flushes were timed.
  assert.ok(end.s.flushes.count >= 2 && end.s.flushes.total_seconds > 0 && end.s.flushes.last_seconds! > 0, JSON.stringify(end.s.flushes));
  assert.equal((await w.call('GET', '/stop')).state, 'ok');
  assert.equal(await w.proc.exited, 0);
});

test('progress with start_pulse_id: null until the stop is known, 0 before the first message, in the log at the end', async () => {
  const src = await newSender();
  const w = await startWriter(src.endpoint, join(dir, 'progress2.h5'));
  assert.equal((await w.call('PUT', '/start_pulse_id/2000')).state, 'ok');
  assert.equal((await statistics(w)).s.progress.fraction, null, 'no stop pulse yet');
  await src.send(testMessage(1990)); // before the start: handled, the range not begun
  await waitFor('1990 seen', async () => (await statistics(w)).s.last_pulse_id === 1990);
  assert.equal((await statistics(w)).s.progress.fraction, null);
  assert.equal((await w.call('PUT', '/stop_pulse_id/2099')).state, 'ok');
  assert.equal((await statistics(w)).s.progress.fraction, 0, 'range known, nothing of it handled');
  for (let p = 2000; p <= 2049; p++) await src.send(testMessage(p));
  await waitFor('2049 seen', async () => (await statistics(w)).s.last_pulse_id === 2049);
  assert.equal((await statistics(w)).s.progress.fraction, 0.5);
  for (let p = 2050; p <= 2099; p++) await src.send(testMessage(p));
  assert.equal(await w.proc.exited, 0);
  const finished = w.proc
    .stderr()
    .split('\n')
    .filter((l) => l.includes('"acquisition finished"'))
    .map((l) => JSON.parse(l) as { progress: Progress });
  assert.equal(finished.length, 1, w.proc.stderr());
  assert.equal(finished[0]!.progress.fraction, 1);
  assert.equal(finished[0]!.progress.eta_s, 0);
});

/** SCALAR always; EVEN only in even pulses (absent from the header otherwise); THIRD null when pulse % 3 == 0. */
function gappyMessage(pulseId: number): Buffer[] {
  const channels = [
    { def: { name: 'SCALAR', type: 'float64' as const }, value: pulseId * 1.5 },
    { def: { name: 'THIRD', type: 'int32' as const }, value: pulseId % 3 === 0 ? null : pulseId },
  ];
  if (pulseId % 2 === 0) channels.push({ def: { name: 'EVEN', type: 'float64' as const }, value: pulseId * 2 });
  return encodeMessage({ pulseId, globalTimestamp: nowStamp(), channels });
}

test('summary: missing pulse ids as ranges and rows with a value per channel, in statistics.summary and the root attributes', async () => {
  const src = await newSender();
  const path = join(dir, 'summary.h5');
  const w = await startWriter(src.endpoint, path);
  assert.equal((await w.call('PUT', '/stop_pulse_id/199')).state, 'ok');
  assert.equal((await rest(w.port, 'PUT', '/start_now', JSON.stringify({ output_file: path }))).json.state, 'ok');
  const sent: number[] = [];
  for (let p = 100; p <= 200; p++) {
    if (p === 120 || (p >= 150 && p <= 154) || p === 198 || p === 199) continue;
    sent.push(p);
  }
  for (const p of sent) await src.send(gappyMessage(p));
  await waitFor('finished', async () => (await statistics(w)).status === 'finished', 10_000);
  const written = sent.filter((p) => p <= 199);
  const s = (await statistics(w)).s;
  assert.ok(s.summary !== null);
  assert.equal(s.summary.rowsWritten, written.length);
  assert.deepEqual(s.summary.missingPulseIdRanges, [
    [120, 120],
    [150, 154],
    [198, 199],
  ]);
  assert.equal(s.summary.missingPulseIdRangeCount, 3);
  assert.equal(s.summary.missingPulseIds, 1 + 5 + 2);
  const expected = {
    SCALAR: written.length,
    THIRD: written.filter((p) => p % 3 !== 0).length,
    EVEN: written.filter((p) => p % 2 === 0).length,
  };
  assert.deepEqual(s.summary.channelRowsWithValue, expected);
  assert.equal((await w.call('GET', '/stop')).state, 'ok');
  assert.equal(await w.proc.exited, 0);

  const f = await h5py<{ attrs: Record<string, unknown>; present: Record<string, number> }>(
    path,
    `
f = h5py.File(path, "r")
a = f.attrs
result = {
  "attrs": {
    "ranges": json.loads(a["missing_pulse_id_ranges"]),
    "range_count": int(a["missing_pulse_id_range_count"]),
    "missing": int(a["missing_pulse_ids"]),
    "rows": int(a["rows_written"]),
    "counts": json.loads(a["channel_rows_with_value"]),
    "complete": int(a["channel_rows_with_value_complete"]),
  },
  "present": {k: int(f["/data"][k]["is_data_present"][:].sum()) for k in f["/data"].keys()},
}
`,
  );
  assert.deepEqual(f.attrs, {
    ranges: [
      [120, 120],
      [150, 154],
      [198, 199],
    ],
    range_count: 3,
    missing: 8,
    rows: written.length,
    counts: expected,
    complete: 1,
  });
  assert.deepEqual(f.present, expected, 'the counts are what is_data_present says');
});
