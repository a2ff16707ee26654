// The dispatcher stream watcher with a fake dispatcher, a fake port probe and a fake clock.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffMs, DispatcherStream, quietLimitMs, type StreamRequester } from '../../../src/buffer/dispatcher-stream.js';
import type { ProbeResult } from '../../../src/transport/tcp-probe.js';
import { silentLogger } from '../../../src/log.js';

class FakeDispatcher implements StreamRequester {
  readonly baseUrl = 'http://127.0.0.1:1/sf';
  posts = 0;
  deletes: string[] = [];
  /** Errors the next POSTs throw, in order; then streams tcp://127.0.0.1:(5000 + n). */
  failures: string[] = [];
  async requestStream(): Promise<string> {
    this.posts++;
    const f = this.failures.shift();
    if (f !== undefined) throw new Error(f);
    return `tcp://127.0.0.1:${5000 + this.posts}`;
  }
  async deleteStream(stream: string): Promise<void> {
    this.deletes.push(stream);
  }
}

function setup(probeResult: ProbeResult = 'refused') {
  const clock = { t: 1_000_000 };
  const d = new FakeDispatcher();
  const connected: string[] = [];
  const lost: string[] = [];
  const probes: string[] = [];
  const probe = { result: probeResult };
  const w = new DispatcherStream({
    client: d,
    channels: [{ name: 'A' }],
    streamType: 'pub_sub',
    stream: 'tcp://127.0.0.1:5000',
    log: silentLogger(),
    connect: (a) => connected.push(a),
    onLost: (r) => lost.push(r),
    probe: async (a) => {
      probes.push(a);
      return probe.result;
    },
    now: () => clock.t,
  });
  /** Advances the clock in 1 s ticks, checking after each, as the buffer's housekeeping does. */
  const tick = async (seconds: number, messageEverySeconds = 0): Promise<void> => {
    for (let i = 1; i <= seconds; i++) {
      clock.t += 1000;
      if (messageEverySeconds > 0 && i % messageEverySeconds === 0) w.messageArrived(clock.t);
      await w.check();
    }
  };
  return { clock, d, w, connected, lost, probes, probe, tick };
}

test('backoff doubles from 1 s up to 30 s; the quiet limit grows with the longest interval', () => {
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6, 7, 50].map((n) => backoffMs(n)),
    [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000],
  );
  assert.equal(quietLimitMs(0), 30_000);
  assert.equal(quietLimitMs(10), 30_000);
  assert.equal(quietLimitMs(10_000), 100_000);
  assert.equal(quietLimitMs(3_600_000), 600_000);
});

test('a stream with messages is left alone: no probe, no request', async () => {
  const s = setup();
  await s.tick(120, 1);
  assert.deepEqual(s.probes, []);
  assert.equal(s.d.posts, 0);
  assert.equal(s.w.status().state, 'connected');
  assert.equal(s.w.status().requests, 1);
});

test('a port that refuses twice makes the stream lost: old one deleted, requested again, input connected', async () => {
  const s = setup();
  s.w.messageArrived(s.clock.t);
  await s.tick(1);
  assert.equal(s.probes.length, 0, 'no probe before 2 s of quiet');
  await s.tick(1);
  assert.equal(s.probes.length, 1);
  assert.equal(s.d.posts, 0, 'one refusal is not enough');
  await s.tick(1);
  assert.equal(s.d.posts, 1);
  assert.deepEqual(s.d.deletes, ['tcp://127.0.0.1:5000']);
  assert.deepEqual(s.connected, ['tcp://127.0.0.1:5001']);
  assert.equal(s.lost.length, 1);
  assert.match(s.lost[0]!, /connection refused/);
  const st = s.w.status();
  assert.equal(st.state, 'connected');
  assert.equal(st.stream, 'tcp://127.0.0.1:5001');
  assert.equal(st.requests, 2);
  assert.equal(st.re_requests, 1);
  assert.equal(st.failed_requests, 0);
  assert.match(st.last_loss!, /refused/);
  assert.equal(st.url, 'http://127.0.0.1:1/sf');
});

test('a message between two refusals keeps the stream', async () => {
  const s = setup();
  await s.tick(2);
  assert.equal(s.probes.length, 1);
  s.w.messageArrived(s.clock.t);
  await s.tick(2); // one more refusal, but the one before the message no longer counts
  assert.equal(s.probes.length, 2);
  assert.equal(s.d.posts, 0);
  assert.equal(s.w.status().state, 'connected');
});

test('a port that accepts: the stream is lost only after the quiet limit (30 s)', async () => {
  const s = setup('open');
  s.w.messageArrived(s.clock.t);
  await s.tick(29);
  assert.equal(s.d.posts, 0);
  assert.ok(s.probes.length >= 20);
  await s.tick(1);
  assert.equal(s.d.posts, 1);
  assert.match(s.lost[0]!, /no message for 30 s/);
  assert.equal(s.w.status().state, 'connected');
});

test('streams lost without a single message: requested after the backoff, each given twice as long', async () => {
  const s = setup('open');
  await s.tick(5, 1);
  await s.tick(30); // the source stops: lost after 30 s of quiet, requested at once
  assert.equal(s.d.posts, 1);
  assert.equal(s.w.status().quiet_limit_s, 30, 'the stream before had messages: the usual limit');
  await s.tick(30); // the new stream never sent anything: lost, the next request after 1 s
  assert.equal(s.d.posts, 1);
  let st = s.w.status();
  assert.equal(st.state, 'waiting');
  assert.match(st.last_error!, /delivered no message/);
  assert.equal(st.quiet_limit_s, 60);
  await s.tick(1);
  assert.equal(s.d.posts, 2);
  await s.tick(59);
  assert.equal(s.d.posts, 2);
  await s.tick(1 + 2); // lost after 60 s, requested 2 s later
  assert.equal(s.d.posts, 3);
  assert.equal(s.w.status().quiet_limit_s, 120);
  for (const [limit, backoff] of [
    [120, 4],
    [240, 8],
    [480, 16],
  ] as const)
    await s.tick(limit + backoff);
  assert.equal(s.d.posts, 6);
  st = s.w.status();
  assert.equal(st.quiet_limit_s, 600);
  assert.equal(st.re_requests, 6);
  assert.equal(st.failed_requests, 0);
  s.w.messageArrived(s.clock.t); // the source is back: the usual limit again
  assert.equal(s.w.status().quiet_limit_s, 30);
});

test('an address nobody serves is not requested every 3 s: backoff while streams stay empty', async () => {
  const s = setup('refused');
  await s.tick(3); // the start stream: lost without a message, next request after 1 s
  assert.equal(s.d.posts, 0);
  await s.tick(1);
  assert.equal(s.d.posts, 1);
  await s.tick(3 + 2);
  assert.equal(s.d.posts, 2);
  await s.tick(3 + 3);
  assert.equal(s.d.posts, 2, 'the third wait is 4 s');
  await s.tick(1);
  assert.equal(s.d.posts, 3);
});

test('slow channels (a message every 10 s) raise the limits: probed after 20 s of quiet, lost after 100 s', async () => {
  const s = setup('open');
  await s.tick(60, 10);
  assert.equal(s.w.status().quiet_limit_s, 100);
  const before = s.probes.length; // while waiting for the very first message, the 2 s rule applies
  await s.tick(19);
  assert.equal(s.probes.length, before);
  await s.tick(1);
  assert.equal(s.probes.length, before + 1);
  await s.tick(79);
  assert.equal(s.d.posts, 0);
  await s.tick(1);
  assert.equal(s.d.posts, 1);
  assert.match(s.lost[0]!, /no message for 100 s/);
});

test('a refusing dispatcher: waiting with backoff 1, 2, 4 s, then connected; the counters say so', async () => {
  const s = setup();
  s.w.messageArrived(s.clock.t);
  s.d.failures = ['HTTP 500: down', 'HTTP 500: down', 'ECONNREFUSED'];
  await s.tick(3); // lost at 3 s, the first request fails
  let st = s.w.status();
  assert.equal(st.state, 'waiting');
  assert.equal(st.last_error, 'request failed: HTTP 500: down');
  assert.equal(st.next_request_s, 1);
  assert.equal(s.d.posts, 1);
  await s.tick(1); // 1 s later: second request, fails, waits 2 s
  assert.equal(s.d.posts, 2);
  await s.tick(1);
  assert.equal(s.d.posts, 2);
  await s.tick(1); // third, fails, waits 4 s
  assert.equal(s.d.posts, 3);
  assert.equal(s.w.status().last_error, 'request failed: ECONNREFUSED');
  await s.tick(3);
  assert.equal(s.d.posts, 3);
  await s.tick(1);
  assert.equal(s.d.posts, 4);
  st = s.w.status();
  assert.equal(st.state, 'connected');
  assert.equal(st.requests, 5);
  assert.equal(st.failed_requests, 3);
  assert.equal(st.re_requests, 1);
  assert.deepEqual(s.connected, ['tcp://127.0.0.1:5004']);
  assert.deepEqual(s.d.deletes, ['tcp://127.0.0.1:5000'], 'the old stream is deleted once');
});

test('the old stream sending again while the buffer waits to request a new one is kept', async () => {
  const s = setup('open');
  s.w.messageArrived(s.clock.t);
  s.d.failures = ['ECONNREFUSED'];
  await s.tick(30);
  assert.equal(s.w.status().state, 'waiting');
  s.w.messageArrived(s.clock.t);
  const st = s.w.status();
  assert.equal(st.state, 'connected');
  assert.equal(st.stream, 'tcp://127.0.0.1:5000');
  await s.tick(5, 1);
  assert.equal(s.d.posts, 1, 'no further request');
  s.w.stop();
  await s.w.remove();
  assert.deepEqual(s.d.deletes, ['tcp://127.0.0.1:5000', 'tcp://127.0.0.1:5000'], 'deleted when lost, and again at the end');
});

test('a new address the input cannot use is deleted again and counts as a failure', async () => {
  const s = setup();
  let refuse = true;
  const w = new DispatcherStream({
    client: s.d,
    channels: [{ name: 'A' }],
    streamType: 'push_pull',
    stream: 'tcp://127.0.0.1:5000',
    log: silentLogger(),
    connect: () => {
      if (refuse) throw new Error('cannot connect');
    },
    probe: async () => 'refused',
    now: () => s.clock.t,
  });
  w.messageArrived(s.clock.t);
  for (let i = 0; i < 3; i++) {
    s.clock.t += 1000;
    await w.check();
  }
  assert.equal(w.status().state, 'waiting');
  assert.equal(w.status().last_error, 'request failed: cannot connect');
  assert.deepEqual(s.d.deletes, ['tcp://127.0.0.1:5000', 'tcp://127.0.0.1:5001']);
  refuse = false;
  s.clock.t += 1000;
  await w.check();
  assert.equal(w.status().state, 'connected');
  assert.equal(w.status().stream, 'tcp://127.0.0.1:5002');
});

test('remove() deletes the stream in use once; after stop() nothing is probed or requested', async () => {
  const s = setup();
  s.w.stop();
  await s.tick(60);
  assert.deepEqual(s.probes, []);
  assert.equal(s.d.posts, 0);
  await s.w.remove();
  await s.w.remove();
  assert.deepEqual(s.d.deletes, ['tcp://127.0.0.1:5000']);
});
