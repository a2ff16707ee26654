import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BufferStatus } from '../../../src/buffer/buffer-service.js';
import { buildStatusApp } from '../../../src/buffer/status-server.js';
import { StatusHistory } from '../../../src/buffer/status-history.js';

const status: BufferStatus = {
  service: 'sf_bsread_buffer',
  uptime_s: 3,
  input: {
    address: 'tcp://a:1',
    mode: 'pull',
    received: 10,
    buffered: 9,
    not_data: 0,
    malformed: { bad_json: 1 },
    oversized: 0,
    reader: 'zmtp',
    protocol_errors: 0,
    last_protocol_error: null,
    rate_hz: 100,
    last_pulse_id: 42,
  },
  buffer: { depth: 9, seconds: 0.1, bytes: 900, oldest_pulse_id: 34, newest_pulse_id: 42, evicted: 0, max_messages: 100, max_seconds: null, max_bytes: null },
  output: { endpoint: 'tcp://127.0.0.1:8082', peers: 1, cursor: 9, nextPulseId: null, lag: 0, sent: 9, skipped: 0 },
  replay: {
    endpoint: 'tcp://127.0.0.1:8083',
    consumers: [
      {
        consumer_id: 'c1',
        stream: 'tcp://127.0.0.1:5',
        framing: 'packed',
        from_pulse_id: 30,
        peers: 1,
        queue_depth: 2,
        queue_bytes: 200,
        sent: 7,
        dropped: 3,
        gap: 4,
        last_sent_pulse_id: 40,
      },
    ],
    dropped: 3,
    idle_released: 0,
    bad_requests: 0,
  },
  analyzer: null,
  jetstream: null,
  dispatcher: null,
};

test('GET /status returns the status JSON; GET /metrics the Prometheus text', async () => {
  const app = buildStatusApp(() => status);
  try {
    const s = await app.inject({ method: 'GET', url: '/status' });
    assert.equal(s.statusCode, 200);
    assert.deepEqual(s.json(), status);
    const m = await app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(m.statusCode, 200);
    assert.match(m.headers['content-type'] as string, /^text\/plain; version=0\.0\.4/);
    assert.match(m.body, /^bsread_buffer_depth_messages 9$/m);
    assert.match(m.body, /^bsread_buffer_malformed_total\{kind="bad_json"\} 1$/m);
    assert.match(m.body, /^bsread_buffer_consumer_dropped_total\{consumer="c1"\} 3$/m);
    assert.doesNotMatch(m.body, /analyzer/);
  } finally {
    await app.close();
  }
});

test('GET / is the self-contained status page; GET /history returns the samples, ?since only later ones', async () => {
  const history = new StatusHistory(10);
  for (let i = 1; i <= 3; i++) history.push({ t: 1000 * i, rate_hz: 100, depth: 10 * i, bytes: 1000 * i });
  const app = buildStatusApp({ status: () => status, history: (since) => history.samples(since) });
  try {
    const page = await app.inject({ method: 'GET', url: '/' });
    assert.equal(page.statusCode, 200);
    assert.match(page.headers['content-type'] as string, /^text\/html; charset=utf-8/);
    assert.match(page.body, /<title>sf_bsread_buffer<\/title>/);
    // Nothing from elsewhere: no external script, style sheet or image.
    assert.doesNotMatch(page.body, /\b(src|href)="(https?:)?\/\//);
    assert.match(page.body, /getJson\("status"\)/);
    const all = await app.inject({ method: 'GET', url: '/history' });
    assert.deepEqual(all.json(), { interval_s: 1, samples: history.samples() });
    const later = await app.inject({ method: 'GET', url: '/history?since=2000' });
    assert.deepEqual(
      later.json<{ samples: { t: number }[] }>().samples.map((x) => x.t),
      [3000],
    );
    const bad = await app.inject({ method: 'GET', url: '/history?since=yesterday' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json<{ message: string }>().message, /since/);
  } finally {
    await app.close();
  }
});

test('a bare status function still works: /history is empty', async () => {
  const app = buildStatusApp(() => status);
  try {
    const h = await app.inject({ method: 'GET', url: '/history' });
    assert.deepEqual(h.json(), { interval_s: 1, samples: [] });
  } finally {
    await app.close();
  }
});
