// The REST layer through app.inject(): no port, the real Acquisition with in-memory fakes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ERROR_CODES } from '../../../src/errors.js';
import { buildWriterApp, parsePulseId } from '../../../src/writer/rest.js';
import { harness, message, PARAMETERS } from './acquisition-fakes.js';
import { waitFor } from '../../helpers/wait.js';

async function setup() {
  const h = harness();
  const app = await buildWriterApp({ control: h.acq });
  const call = async (method: 'GET' | 'PUT' | 'POST', url: string, payload?: string, headers: Record<string, string> = {}) => {
    const r = await app.inject({ method, url, payload, headers });
    return { http: r.statusCode, json: r.json() as { state: string; status: string; [k: string]: unknown } };
  };
  return { h, app, call };
}

test('status, parameters, statistics as the original', async () => {
  const { app, call } = await setup();
  assert.deepEqual((await call('GET', '/status')).json, { state: 'ok', status: 'waiting' });
  const empty = await call('POST', '/parameters', '{}', { 'content-type': 'application/json' });
  assert.equal(empty.http, 200);
  assert.equal(empty.json.state, 'error');
  assert.match(empty.json.status, /Missing mandatory parameters general\/created, general\/user, general\/process, general\/instrument/);
  const ok = await call('POST', '/parameters', JSON.stringify({ ...PARAMETERS, extra: 'x' }), { 'content-type': 'application/json' });
  assert.deepEqual(ok.json, { state: 'ok', status: 'waiting', parameters: { ...PARAMETERS, extra: 'x' } });
  const stats = (await call('GET', '/statistics')).json;
  assert.equal(stats.state, 'ok');
  const s = stats['statistics'] as Record<string, unknown>;
  for (const k of ['start_pulse_id', 'stop_pulse_id', 'start_timestamp', 'stop_timestamp', 'last_pulse_id', 'last_timestamp']) assert.ok(k in s, k);
  assert.equal(s['last_pulse_id'], -1);
  assert.equal(s['start_pulse_id'], null);
  for (const k of ['messages_received', 'messages_written', 'discarded_before_start', 'discarded_after_stop', 'malformed', 'missing_pulse_ids', 'last_error']) assert.ok(k in s, k);
  await app.close();
});

test('a full acquisition over REST: start, write, late stop; PUT replies are JSON', async () => {
  const { h, app, call } = await setup();
  const start = await call('PUT', '/start_pulse_id/100');
  assert.deepEqual(start.json, { state: 'ok', status: 'writing [pulse 100 .. no stop yet] to /dev/null' });
  assert.equal((await call('GET', '/status')).json.status, 'writing');
  const second = await call('PUT', '/start_pulse_id/200');
  assert.equal(second.json.state, 'error');
  assert.match(second.json.status, /cannot start: already writing \[pulse 100/);
  assert.match((await call('PUT', '/start_now')).json.status, /already writing/);
  const params = await call('POST', '/parameters', JSON.stringify(PARAMETERS));
  assert.equal(params.json.state, 'error');
  assert.match(params.json.status, /parameters cannot change while writing/);
  assert.equal((await call('PUT', '/stop_pulse_id/90')).json.status, 'stop_pulse_id 90 is before start_pulse_id 100');
  for (let p = 99; p <= 105; p++) h.sources[0]!.push(message(p));
  await waitFor('105', () => h.files[0]!.lastPulseId === 105);
  const stop = await call('PUT', '/stop_pulse_id/102');
  assert.equal(stop.json.state, 'ok');
  assert.match(stop.json.status, /3 rows after the stop removed; range complete/);
  await waitFor('finished', async () => (await call('GET', '/status')).json.status === 'finished');
  assert.deepEqual(h.files[0]!.pulses, [100, 101, 102]);
  const stats = (await call('GET', '/statistics')).json['statistics'] as Record<string, unknown>;
  assert.equal(stats['messages_written'], 3);
  assert.equal(stats['discarded_after_stop'], 3);
  assert.equal(stats['discarded_before_start'], 1);
  await app.close();
});

test('start_now with no body, an empty JSON body, {} and an output_file', async () => {
  for (const [payload, headers] of [
    [undefined, {}],
    ['', { 'content-type': 'application/json' }],
    ['{}', { 'content-type': 'application/json' }],
    ['{}', { 'content-type': 'application/x-www-form-urlencoded' }],
    ['null', { 'content-type': 'application/json' }],
  ] as [string | undefined, Record<string, string>][]) {
    const { h, app, call } = await setup();
    const r = await call('PUT', '/start_now', payload, headers);
    assert.equal(r.json.state, 'ok', `${JSON.stringify(payload)}: ${r.json.status}`);
    assert.equal(h.files[0]!.path, '/dev/null');
    await h.acq.shutdown('test');
    await app.close();
  }
  const { h, app, call } = await setup();
  const r = await call('PUT', '/start_now', JSON.stringify({ output_file: '/dev/null' }), { 'content-type': 'application/json' });
  assert.equal(r.json.state, 'ok');
  assert.equal(h.acq.statistics().persistent, true);
  await h.acq.shutdown('test');
  await app.close();
});

test('garbage ids, bodies and paths: state error (HTTP 200), unknown routes JSON 404', async () => {
  const { app, call } = await setup();
  const cases: ['GET' | 'PUT' | 'POST', string, string | undefined, RegExp][] = [
    ['PUT', '/start_pulse_id/abc', undefined, /start_pulse_id must be a non-negative integer, got "abc"/],
    ['PUT', '/start_pulse_id/1.5', undefined, /non-negative integer/],
    ['PUT', '/start_pulse_id/-1', undefined, /non-negative integer/],
    ['PUT', '/stop_pulse_id/1e3', undefined, /stop_pulse_id must be a non-negative integer/],
    ['PUT', '/start_pulse_id/9007199254740993', undefined, /too large/],
    ['PUT', '/start_pulse_id/%00', undefined, /non-negative integer/],
    ['POST', '/parameters', '{"a":', /request body is not valid JSON/],
    ['POST', '/parameters', '"text"', /invalid request body/],
    ['POST', '/parameters', '[]', /invalid request body/],
    ['POST', '/parameters', JSON.stringify({ ...PARAMETERS, 'general/user': 5 }), /must be string/],
    ['PUT', '/start_now', '{"output_file": 5}', /output_file must be string/],
    ['PUT', '/start_now', '{"output_file": ""}', /output_file/],
    ['PUT', '/start_now', '{"file": "/tmp/x.h5"}', /must NOT have additional properties/],
    ['PUT', '/start_now', '[1]', /invalid request body/],
    ['PUT', '/stop_now', 'garbage', /not valid JSON/],
  ];
  for (const [method, url, payload, pattern] of cases) {
    const r = await call(method, url, payload, payload === undefined ? {} : { 'content-type': 'application/json' });
    assert.equal(r.http, 200, `${method} ${url}`);
    assert.equal(r.json.state, 'error', `${method} ${url} ${payload}`);
    assert.match(r.json.status, pattern, `${method} ${url} ${payload}: ${r.json.status}`);
  }
  assert.equal((await call('GET', '/status')).json.status, 'waiting', 'nothing started by the garbage');
  for (const [method, url] of [
    ['GET', '/nothing'],
    ['PUT', '/start_pulse_id'],
    ['GET', '/start_pulse_id/3'],
    ['POST', '/status'],
    ['PUT', '/start_pulse_id/3/4'],
  ] as const) {
    const r = await call(method, url);
    assert.equal(r.http, 404, `${method} ${url}`);
    assert.equal(r.json.state, 'error');
    assert.match(r.json.status, /no route .*; routes: GET \/status/);
  }
  await app.close();
});

test('GET /stop replies after the file is closed; GET /kill replies, then asks for an immediate exit', async () => {
  const { h, app, call } = await setup();
  await call('PUT', '/start_pulse_id/0');
  for (let p = 0; p < 10; p++) h.sources[0]!.push(message(p));
  await waitFor('9', () => h.files[0]!.lastPulseId === 9);
  const r = await call('GET', '/stop');
  assert.deepEqual(r.json, { state: 'ok', status: 'stopped (GET /stop); file closed with 10 rows (pulses 0..9)' });
  assert.equal(h.files[0]!.closed, true);
  assert.deepEqual(await h.acq.exitRequested, { code: 0, reason: 'GET /stop', immediate: false });
  assert.equal((await call('PUT', '/start_pulse_id/0')).json.state, 'error', 'no start while shutting down');
  await app.close();
  const k = await setup();
  const kr = await k.call('GET', '/kill');
  assert.equal(kr.json.state, 'ok');
  assert.equal((await k.h.acq.exitRequested).immediate, true);
  await k.app.close();
});

test('OpenAPI description lists every route', async () => {
  const { app, call } = await setup();
  const r = await app.inject({ method: 'GET', url: '/openapi.json' });
  const doc = r.json() as { openapi: string; paths: Record<string, Record<string, unknown>> };
  assert.equal(doc.openapi, '3.0.3');
  for (const [path, method] of [
    ['/status', 'get'],
    ['/parameters', 'post'],
    ['/statistics', 'get'],
    ['/start_pulse_id/{id}', 'put'],
    ['/stop_pulse_id/{id}', 'put'],
    ['/start_now', 'put'],
    ['/stop_now', 'put'],
    ['/stop', 'get'],
    ['/kill', 'get'],
  ]) {
    assert.ok(doc.paths[path]?.[method] !== undefined, `${method} ${path}`);
  }
  void call;
  await app.close();
});

test('parsePulseId and the error codes the REST layer relies on', () => {
  assert.equal(parsePulseId('0', 'x'), 0);
  assert.equal(parsePulseId('18446744', 'x'), 18446744);
  assert.throws(() => parsePulseId('', 'x'), /x must be a non-negative integer/);
  assert.throws(() => parsePulseId(' 1', 'x'));
  for (const code of ['BSREAD_ERR_ACQUISITION_ACTIVE', 'BSREAD_ERR_INVALID_STATE', 'BSREAD_ERR_FILE_EXISTS', 'BSREAD_ERR_OUTPUT_PATH', 'BSREAD_ERR_INVALID_ARGUMENT']) {
    assert.ok(code in ERROR_CODES, code);
  }
});
