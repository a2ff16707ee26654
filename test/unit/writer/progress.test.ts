// computeProgress and RateWindow (src/writer/progress.ts), and the progress line the acquisition
// logs while writing.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pino } from 'pino';
import { Acquisition, type CreateFileOptions } from '../../../src/writer/acquisition.js';
import { computeProgress, describeProgress, RateWindow, type ProgressInput } from '../../../src/writer/progress.js';
import { waitFor } from '../../helpers/wait.js';
import { FakeFile, FakeSource, message } from './acquisition-fakes.js';

const base: ProgressInput = {
  startPulseId: 100,
  stopPulseId: 199,
  startTime: null,
  stopTime: null,
  lastPulseId: null,
  lastTime: null,
  complete: false,
  rowsPerS: null,
  receivedPerS: null,
  pulseIdsPerS: null,
};

test('fraction counts pulse ids of the range handled, clamped; eta from the pulse-id rate', () => {
  assert.deepEqual(computeProgress(base), { fraction: 0, rows_per_s: null, eta_s: null, received_per_s: null });
  assert.equal(computeProgress({ ...base, lastPulseId: 50 }).fraction, 0, 'before the start: 0, not negative');
  assert.equal(computeProgress({ ...base, lastPulseId: 149, pulseIdsPerS: 100 }).fraction, 0.5);
  assert.equal(computeProgress({ ...base, lastPulseId: 149, pulseIdsPerS: 100 }).eta_s, 0.5);
  assert.equal(computeProgress({ ...base, lastPulseId: 50, pulseIdsPerS: 100 }).eta_s, 1, 'the whole range still to come');
  assert.equal(computeProgress({ ...base, lastPulseId: 149, pulseIdsPerS: 0 }).eta_s, null, 'no rate: no eta');
  assert.deepEqual(computeProgress({ ...base, lastPulseId: 250, rowsPerS: 90, complete: true }), { fraction: 1, rows_per_s: 90, eta_s: 0, received_per_s: null });
  assert.equal(computeProgress({ ...base, lastPulseId: 199 }).eta_s, 0);
});

test('fraction is null while the start or the stop pulse is unknown; a time range uses timestamps', () => {
  assert.equal(computeProgress({ ...base, startPulseId: null, lastPulseId: 150 }).fraction, null, 'start_now before the first written pulse');
  assert.equal(computeProgress({ ...base, stopPulseId: null, lastPulseId: 150 }).fraction, null, 'no stop yet');
  assert.equal(computeProgress({ ...base, stopPulseId: null, lastPulseId: 150, pulseIdsPerS: 100 }).eta_s, null);
  const t: ProgressInput = { ...base, startPulseId: null, stopPulseId: null, startTime: 1000, stopTime: 1010 };
  assert.deepEqual(computeProgress(t), { fraction: 0, rows_per_s: null, eta_s: null, received_per_s: null });
  assert.deepEqual(computeProgress({ ...t, lastTime: 1004 }), { fraction: 0.4, rows_per_s: null, eta_s: 6, received_per_s: null });
  assert.equal(computeProgress({ ...t, lastTime: 1004, complete: true }).fraction, 1);
});

test('describeProgress: one short text for the log', () => {
  assert.equal(describeProgress({ fraction: 0.4215, rows_per_s: 99.94, eta_s: 12.4, received_per_s: 100 }), '42.1%, 99.9 rows/s, eta 12 s');
  assert.equal(describeProgress({ fraction: null, rows_per_s: null, eta_s: null, received_per_s: null }), 'range not known yet');
});

test('RateWindow: rate over the recent window, close samples merged, old ones dropped', () => {
  const r = new RateWindow(1000, 100);
  assert.equal(r.rate(), null);
  r.add(0, 0);
  assert.equal(r.rate(), null, 'one sample');
  r.add(500, 50);
  assert.equal(r.rate(), 100);
  r.add(520, 52); // replaces the 500 ms sample
  assert.equal(r.rate(), 100);
  for (let t = 600; t <= 3000; t += 200) r.add(t, t / 10);
  assert.equal(r.rate(), 100);
  r.add(3200, 340); // 200 per s for the last 200 ms: the window's rate lies between the two
  const rate = r.rate()!;
  assert.ok(rate > 100 && rate < 200, `rate ${rate}`);
  r.reset();
  assert.equal(r.rate(), null);
});

test('the acquisition logs one progress line while writing (every progressLogMs)', async () => {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  const source = new FakeSource('pull', 0);
  let file: FakeFile | null = null;
  const acq = new Acquisition({
    openSource: async () => source,
    createFile: (o: CreateFileOptions) => (file = new FakeFile(o.path, o.parameters)),
    defaultOutputFile: '/dev/null',
    overwrite: false,
    log: pino({ level: 'info' }, sink),
    progressLogMs: 40,
  });
  await acq.execute({ kind: 'start_pulse_id', pulseId: 10 });
  await acq.execute({ kind: 'stop_pulse_id', pulseId: 19 });
  for (let p = 10; p <= 14; p++) source.push(message(p));
  await waitFor('a progress line', () => lines.some((l) => String(l['msg']).startsWith('progress: 50.0%')));
  const line = lines.find((l) => String(l['msg']).startsWith('progress: 50.0%'))!;
  assert.equal((line['progress'] as { fraction: number }).fraction, 0.5);
  assert.equal(line['last_pulse_id'], 14);
  assert.equal(line['messages_written'], 5);
  for (let p = 15; p <= 19; p++) source.push(message(p));
  await acq.exitRequested;
  assert.deepEqual(file!.pulses, [10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
  const count = lines.filter((l) => String(l['msg']).startsWith('progress')).length;
  await new Promise((r) => setTimeout(r, 120));
  assert.equal(lines.filter((l) => String(l['msg']).startsWith('progress')).length, count, 'no progress lines after the run');
});
