// The acquisition state machine with an in-memory source and file.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { validateParameters } from '../../../src/writer/acquisition.js';
import { harness, message, PARAMETERS } from './acquisition-fakes.js';
import { waitFor } from '../../helpers/wait.js';

test('start 3 / stop 8 (sent while pulse 6 goes out): exactly 3..8, then exit requested', async () => {
  const h = harness();
  await h.acq.execute({ kind: 'set_parameters', parameters: PARAMETERS });
  await h.acq.execute({ kind: 'start_pulse_id', pulseId: 3 });
  assert.equal(h.acq.status(), 'writing');
  assert.deepEqual(h.opened, [3]);
  const src = h.sources[0]!;
  for (let p = 0; p <= 6; p++) src.push(message(p));
  await waitFor('pulse 6 written', () => h.files[0]!.lastPulseId === 6);
  await h.acq.execute({ kind: 'stop_pulse_id', pulseId: 8 });
  for (let p = 7; p <= 9; p++) src.push(message(p));
  const exit = await h.acq.exitRequested;
  assert.deepEqual(exit, { code: 0, reason: 'single-use acquisition finished', immediate: false });
  assert.deepEqual(h.files[0]!.pulses, [3, 4, 5, 6, 7, 8]);
  assert.equal(h.files[0]!.closed, true);
  assert.deepEqual(h.files[0]!.parameters, PARAMETERS);
  assert.equal(h.acq.status(), 'finished');
  const s = h.acq.statistics();
  assert.equal(s.messages_written, 6);
  assert.equal(s.discarded_before_start, 3);
  assert.equal(s.missing_pulse_ids, 0);
  assert.equal(s.start_pulse_id, 3);
  assert.equal(s.stop_pulse_id, 8);
  assert.equal(s.last_pulse_id, 8);
  assert.equal(s.summary?.rowsWritten, 6);
  assert.equal(h.files[0]!.attributes['rows_written'], 6);
  assert.equal(h.files[0]!.attributes['requested_stop_pulse_id'], 8);
  assert.equal(src.closed, true);
});

test('late stop: rows past the stop are removed and the run ends at once', async () => {
  const h = harness();
  await h.acq.execute({ kind: 'start_pulse_id', pulseId: 600 });
  for (let p = 598; p <= 605; p++) h.sources[0]!.push(message(p));
  await waitFor('605 written', () => h.files[0]!.lastPulseId === 605);
  const r = await h.acq.execute({ kind: 'stop_pulse_id', pulseId: 602 });
  assert.match(r.status, /3 rows after the stop removed/);
  await h.acq.exitRequested;
  assert.deepEqual(h.files[0]!.pulses, [600, 601, 602]);
  const s = h.acq.statistics();
  assert.equal(s.messages_written, 3);
  assert.equal(s.discarded_after_stop, 3);
  assert.equal(s.discarded_before_start, 2);
});

test('stop after the stream went quiet ends the run when the last pulse is past it', async () => {
  const h = harness();
  await h.acq.execute({ kind: 'start_pulse_id', pulseId: 10 });
  for (let p = 10; p <= 20; p++) h.sources[0]!.push(message(p));
  await waitFor('20 written', () => h.files[0]!.lastPulseId === 20);
  await h.acq.execute({ kind: 'stop_pulse_id', pulseId: 20 });
  await h.acq.exitRequested;
  assert.equal(h.files[0]!.rows, 11);
});

test('a stop ahead of a quiet stream waits; a replay buffer past the stop ends it', async () => {
  const h = harness({ kind: 'replay' });
  await h.acq.execute({ kind: 'start_pulse_id', pulseId: 10 });
  for (let p = 10; p <= 15; p++) h.sources[0]!.push(message(p));
  await waitFor('15 written', () => h.files[0]!.lastPulseId === 15);
  await h.acq.execute({ kind: 'stop_pulse_id', pulseId: 18 });
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(h.acq.status(), 'writing', 'pulses 16..18 may still come');
  h.sources[0]!.newest = 25; // the buffer has them, but nothing arrives: dropped for us
  await h.acq.exitRequested;
  assert.deepEqual(h.files[0]!.pulses, [10, 11, 12, 13, 14, 15]);
  assert.equal(h.acq.statistics().missing_pulse_ids, 3);
});

test('missing pulse ids inside the range are counted; repeats are not written', async () => {
  const h = harness({ gap: 2 });
  await h.acq.execute({ kind: 'start_pulse_id', pulseId: 100 });
  for (const p of [102, 103, 103, 106, 104, 107]) h.sources[0]!.push(message(p));
  await waitFor('107 written', () => h.files[0]!.lastPulseId === 107);
  let s = h.acq.statistics();
  assert.equal(s.missing_pulse_ids, 2 + 2, 'two before the first, 104/105 between 103 and 106');
  assert.equal(s.discarded_repeated, 2);
  assert.equal(s.replay_gap, 2);
  await h.acq.execute({ kind: 'stop_pulse_id', pulseId: 110 });
  h.sources[0]!.push(message(111));
  await h.acq.exitRequested;
  s = h.acq.statistics();
  assert.equal(s.summary?.missingPulseIds, 2 + 2 + 3);
});

test('malformed messages are counted by kind and dropped; the writer goes on', async () => {
  const h = harness();
  await h.acq.execute({ kind: 'start_pulse_id', pulseId: 0 });
  const bad = message(1);
  h.sources[0]!.push([bad[0]!, Buffer.from('{not json')]);
  h.sources[0]!.push(bad.slice(0, 3));
  h.sources[0]!.push(message(2));
  await waitFor('2 written', () => h.files[0]!.lastPulseId === 2);
  const s = h.acq.statistics();
  assert.equal(s.malformed_total, 2);
  assert.equal(s.malformed['bad_json'], 1);
  assert.equal(s.malformed['frame_count'], 1);
  assert.equal(s.messages_received, 3);
  await h.acq.shutdown('test');
});

test('start_now / stop_now use global_timestamp; persistent mode keeps the process and resets state', async () => {
  const h = harness();
  const t0 = h.clock.ms / 1000;
  await h.acq.execute({ kind: 'start_now', outputFile: '/dev/null' });
  assert.deepEqual(h.opened, [null]);
  const src = h.sources[0]!;
  src.push(message(1, t0 - 0.5));
  src.push(message(2, t0 + 0.01));
  src.push(message(3, t0 + 0.02));
  await waitFor('3 written', () => h.files[0]!.lastPulseId === 3);
  h.clock.ms += 30;
  await h.acq.execute({ kind: 'stop_now' });
  src.push(message(4, t0 + 0.05));
  await waitFor('finished', () => h.acq.status() === 'finished');
  assert.deepEqual(h.files[0]!.pulses, [2, 3]);
  assert.equal(h.acq.statistics().discarded_before_start, 1);
  // persistent: no exit; a second run with fresh counters
  let exited = false;
  void h.acq.exitRequested.then(() => (exited = true));
  await h.acq.execute({ kind: 'start_now', outputFile: '/dev/null' });
  assert.equal(h.acq.statistics().messages_received, 0);
  assert.equal(h.acq.statistics().stop_timestamp, null, 'the stop of the last run does not carry over');
  h.sources[1]!.push(message(10, t0 + 1));
  await waitFor('10 written', () => h.files[1]!.lastPulseId === 10);
  await h.acq.execute({ kind: 'stop_now' });
  h.clock.ms += 5000;
  await waitFor('finished again (quiet after stop)', () => h.acq.status() === 'finished');
  assert.equal(exited, false);
});

test('refusals: second start, parameters while writing, stop before start, existing file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'acq-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const existing = join(dir, 'exists.h5');
  writeFileSync(existing, 'x');
  const h = harness({ output: existing });
  await assert.rejects(h.acq.execute({ kind: 'start_pulse_id', pulseId: 1 }), { code: 'BSREAD_ERR_FILE_EXISTS' });
  await h.acq.execute({ kind: 'stop_pulse_id', pulseId: 90 });
  await assert.rejects(
    h.acq.execute({ kind: 'start_now', outputFile: '/dev/null' }).then(() => h.acq.execute({ kind: 'start_pulse_id', pulseId: 1 })),
    {
      code: 'BSREAD_ERR_ACQUISITION_ACTIVE',
    },
  );
  await assert.rejects(h.acq.execute({ kind: 'set_parameters', parameters: PARAMETERS }), { code: 'BSREAD_ERR_ACQUISITION_ACTIVE' });
  await h.acq.shutdown('test');
  const h2 = harness();
  await h2.acq.execute({ kind: 'stop_pulse_id', pulseId: 90 });
  await assert.rejects(h2.acq.execute({ kind: 'start_pulse_id', pulseId: 100 }), { message: 'stop_pulse_id 90 is before start_pulse_id 100' });
  await h2.acq.execute({ kind: 'start_pulse_id', pulseId: 50 });
  await assert.rejects(h2.acq.execute({ kind: 'stop_pulse_id', pulseId: 40 }), { message: 'stop_pulse_id 40 is before start_pulse_id 50' });
  await h2.acq.shutdown('test');
  await assert.rejects(h2.acq.execute({ kind: 'start_pulse_id', pulseId: 1 }), { code: 'BSREAD_ERR_INVALID_STATE' });
});

test('a file error ends the run with status error and the last error; the process is not asked to exit', async () => {
  const h = harness();
  await h.acq.execute({ kind: 'start_pulse_id', pulseId: 0 });
  h.files[0]!.failOnPulse = 2;
  for (let p = 0; p < 5; p++) h.sources[0]!.push(message(p));
  await waitFor('error', () => h.acq.status() === 'error');
  assert.match(h.acq.statistics().last_error ?? '', /disk full/);
  assert.equal(h.files[0]!.closed, true);
  assert.deepEqual(h.files[0]!.pulses, [0, 1]);
  const r = await h.acq.shutdown('test');
  assert.match(r.status, /stopped/);
  assert.equal((await h.acq.exitRequested).code, 1);
});

test('shutdown while writing closes the file with everything received; kill flushes', async () => {
  const h = harness();
  await h.acq.execute({ kind: 'start_pulse_id', pulseId: 0 });
  for (let p = 0; p < 50; p++) h.sources[0]!.push(message(p));
  await waitFor('49 written', () => h.files[0]!.lastPulseId === 49);
  const r = await h.acq.shutdown('SIGTERM');
  assert.match(r.status, /50 rows \(pulses 0\.\.49\)/);
  assert.equal(h.files[0]!.closed, true);
  assert.equal((await h.acq.exitRequested).code, 0);
  const k = harness();
  await k.acq.execute({ kind: 'start_pulse_id', pulseId: 0 });
  k.acq.kill();
  assert.equal(k.files[0]!.flushes, 1);
  assert.equal((await k.acq.exitRequested).immediate, true);
  await k.acq.shutdown('end of test'); // the real program exits here; the test stops the loop
});

test('a backlog of queued messages does not starve timers and requests: the loop yields every few ms', async () => {
  const h = harness();
  await h.acq.execute({ kind: 'set_parameters', parameters: PARAMETERS });
  await h.acq.execute({ kind: 'start_pulse_id', pulseId: 0 });
  await h.acq.execute({ kind: 'stop_pulse_id', pulseId: 199 });
  const src = h.sources[0]!;
  await waitFor('file created', () => h.files[0] !== undefined);
  h.files[0]!.writeCostMs = 2;
  // Everything already queued: every receive() resolves at once, as from a source with a backlog.
  for (let p = 0; p < 200; p++) src.queue.push(message(p));
  let writtenWhenTimerRan: number | null = null;
  const file = h.files[0]!;
  // Armed at the first write, i.e. once the loop is working through the backlog.
  file.onWrite = () => {
    file.onWrite = undefined;
    setTimeout(() => (writtenWhenTimerRan = file.pulses.length), 0);
  };
  await h.acq.exitRequested;
  assert.equal(h.files[0]!.pulses.length, 200);
  assert.ok(writtenWhenTimerRan !== null && writtenWhenTimerRan < 100, `a 0 ms timer ran only after ${writtenWhenTimerRan} of 200 writes`);
});

test('validateParameters names the missing keys and refuses non-strings', () => {
  assert.throws(() => validateParameters({}), /Missing mandatory parameters general\/created, general\/user, general\/process, general\/instrument/);
  assert.throws(() => validateParameters({ 'general/created': 'a', 'general/user': 'b' }), /Missing mandatory parameters general\/process, general\/instrument/);
  assert.throws(() => validateParameters({ ...PARAMETERS, 'general/user': 5 }), /parameter general\/user must be a string, got number/);
  assert.deepEqual(validateParameters({ ...PARAMETERS, extra: 'kept' }), { ...PARAMETERS, extra: 'kept' });
});
