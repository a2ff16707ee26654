// GET /metrics and GET / through app.inject(), with the real Acquisition and in-memory fakes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildWriterApp } from '../../../src/writer/rest.js';
import { harness, message } from './acquisition-fakes.js';
import { waitFor } from '../../helpers/wait.js';

test('/metrics follows the acquisition: state gauge, counts and progress while writing', async () => {
  const h = harness();
  const app = await buildWriterApp({ control: h.acq });
  const idle = await app.inject({ method: 'GET', url: '/metrics' });
  assert.equal(idle.statusCode, 200);
  assert.equal(idle.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
  assert.match(idle.body, /^bsread_writer_state\{state="waiting"\} 1$/m);
  await h.acq.execute({ kind: 'start_pulse_id', pulseId: 10 });
  await h.acq.execute({ kind: 'stop_pulse_id', pulseId: 29 });
  for (let p = 5; p <= 19; p++) if (p !== 12) h.sources[0]!.push(message(p));
  await waitFor('19 written', () => h.files[0]!.lastPulseId === 19);
  const body = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  assert.match(body, /^bsread_writer_state\{state="writing"\} 1$/m);
  assert.match(body, /^bsread_writer_messages_received_total 14$/m);
  assert.match(body, /^bsread_writer_messages_written_total 9$/m);
  assert.match(body, /^bsread_writer_discarded_total\{reason="before_start"\} 5$/m);
  assert.match(body, /^bsread_writer_missing_pulse_ids 1$/m);
  assert.match(body, /^bsread_writer_progress_ratio 0.5$/m);
  await h.acq.shutdown('end of test');
  assert.match((await app.inject({ method: 'GET', url: '/metrics' })).body, /^bsread_writer_state\{state="finished"\} 1$/m);
  await app.close();
});

test('GET / is the self-contained status page; the JSON routes are unchanged', async () => {
  const h = harness();
  const app = await buildWriterApp({ control: h.acq });
  const r = await app.inject({ method: 'GET', url: '/' });
  assert.equal(r.statusCode, 200);
  assert.match(r.headers['content-type'] as string, /^text\/html/);
  assert.match(r.body, /^<!doctype html>/);
  for (const id of ['state', 'start-pulse-id', 'stop-pulse-id', 'progress-bar', 'progress-text', 'received-rate', 'written-rate', 'output-file', 'last-error']) {
    assert.match(r.body, new RegExp(`id="${id}"`), id);
  }
  assert.match(r.body, /fetch\(path/);
  assert.doesNotMatch(r.body, /https?:\/\//, 'no address outside the writer');
  assert.deepEqual((await app.inject({ method: 'GET', url: '/status' })).json(), { state: 'ok', status: 'waiting' });
  assert.equal((await app.inject({ method: 'GET', url: '/nothing' })).statusCode, 404);
  await app.close();
});
