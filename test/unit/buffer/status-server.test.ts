import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BufferStatus } from '../../../src/buffer/buffer-service.js';
import { buildStatusApp } from '../../../src/buffer/status-server.js';

const status: BufferStatus = {
  service: 'sf_bsread_buffer',
  uptime_s: 3,
  input: { address: 'tcp://a:1', mode: 'pull', received: 10, buffered: 9, not_data: 0, malformed: { bad_json: 1 }, oversized: 0, rate_hz: 100, last_pulse_id: 42 },
  buffer: { depth: 9, bytes: 900, oldest_pulse_id: 34, newest_pulse_id: 42, evicted: 0, max_messages: 100, max_seconds: null, max_bytes: null },
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
