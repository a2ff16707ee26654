import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseHelloReply, parseReplayReply, parseReplayRequest } from '../../../src/buffer/replay-messages.js';

const b = (s: string): Buffer => Buffer.from(s);

test('requests: hello, replay from X or null, release; errors never throw', () => {
  assert.deepEqual(parseReplayRequest(b('{"op":"hello"}')), { ok: true, request: { op: 'hello' } });
  assert.deepEqual(parseReplayRequest(b('{"op":"replay","from_pulse_id":5}')), { ok: true, request: { op: 'replay', fromPulseId: 5 } });
  assert.deepEqual(parseReplayRequest(b('{"op":"replay","from_pulse_id":null}')), { ok: true, request: { op: 'replay', fromPulseId: null } });
  assert.deepEqual(parseReplayRequest(b('{"op":"release","consumer_id":"c1"}')), { ok: true, request: { op: 'release', consumerId: 'c1' } });
  for (const bad of ['{', '[]', '{"op":"x"}', '{"op":"replay","from_pulse_id":-1}', '{"op":"replay","from_pulse_id":1.5}', '{"op":"replay"}', '{"op":"release"}']) {
    assert.equal(parseReplayRequest(b(bad)).ok, false, bad);
  }
});

test('replies: only our hello is accepted; replay replies are checked', () => {
  assert.ok(parseHelloReply(b('{"state":"ok","service":"sf_bsread_buffer","protocol":1,"oldest_pulse_id":null,"newest_pulse_id":null,"depth":0}')));
  assert.equal(parseHelloReply(b('{"state":"ok","service":"other"}')), null);
  assert.equal(parseHelloReply(b('garbage')), null);
  assert.equal(parseHelloReply(undefined), null);
  const ok = parseReplayReply(b('{"state":"ok","stream":"tcp://0.0.0.0:5","port":5,"consumer_id":"c1","first_pulse_id":3,"oldest_pulse_id":3,"gap":0}'));
  assert.ok(!('error' in ok) && ok.port === 5);
  assert.deepEqual(parseReplayReply(b('{"state":"error","error":"nope"}')), { error: 'nope' });
  assert.ok('error' in parseReplayReply(b('{"state":"ok","stream":"x","consumer_id":"c1","gap":0}')));
});
