import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodePackedMessage, encodePackedMessage, parseHelloReply, parseReplayReply, parseReplayRequest } from '../../../src/replay/index.js';
import { packFrames } from '../../../src/transport/index.js';

const b = (s: string): Buffer => Buffer.from(s);

test('requests: hello, replay from X or null, release; errors never throw', () => {
  assert.deepEqual(parseReplayRequest(b('{"op":"hello"}')), { ok: true, request: { op: 'hello' } });
  assert.deepEqual(parseReplayRequest(b('{"op":"replay","from_pulse_id":5}')), { ok: true, request: { op: 'replay', fromPulseId: 5, framing: 'frames' } });
  assert.deepEqual(parseReplayRequest(b('{"op":"replay","from_pulse_id":null}')), { ok: true, request: { op: 'replay', fromPulseId: null, framing: 'frames' } });
  assert.deepEqual(parseReplayRequest(b('{"op":"replay","from_pulse_id":7,"framing":"packed"}')), {
    ok: true,
    request: { op: 'replay', fromPulseId: 7, framing: 'packed' },
  });
  const bad = parseReplayRequest(b('{"op":"replay","from_pulse_id":7,"framing":"zip"}'));
  assert.equal(bad.ok, false);
  assert.match(!bad.ok ? bad.error : '', /framing must be one of frames, packed/);
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

test('packed framing: encode then decode gives the original frames, empty ones included', () => {
  const frames = [Buffer.from('{"htype":"bsr_m-1.1"}'), Buffer.alloc(0), Buffer.from([1, 2, 3]), Buffer.from('x')];
  const packed = packFrames(frames);
  const wire = encodePackedMessage(packed.data, packed.offsets);
  assert.equal(wire.length, 2);
  // As a receiver gets it: copies at unaligned offsets.
  const odd = Buffer.alloc(wire[0].byteLength + 1);
  odd.set(wire[0], 1);
  const decoded = decodePackedMessage([odd.subarray(1), Buffer.from(wire[1])]);
  assert.ok(typeof decoded !== 'string');
  assert.equal(decoded.length, frames.length);
  assert.deepEqual(
    decoded.toArray().map((f) => Buffer.from(f).toString('hex')),
    frames.map((f) => f.toString('hex')),
  );
  assert.deepEqual(
    frames.map((_, k) => decoded.frameLength(k)),
    frames.map((f) => f.length),
  );
});

test('packed framing: every inconsistent message is refused with a reason, never thrown', () => {
  const u32 = (...v: number[]): Uint8Array => new Uint8Array(Uint32Array.from(v).buffer);
  const data = Buffer.from('abcdef');
  const cases: [Uint8Array[], RegExp][] = [
    [[u32(0, 6)], /2 frames, got 1/],
    [[u32(0, 6), data, data], /2 frames, got 3/],
    [[new Uint8Array(6), data], /offsets frame of 6 bytes/],
    [[u32(0), data], /offsets frame of 4 bytes/],
    [[u32(1, 6), data], /do not start at 0/],
    [[u32(0, 4, 2, 6), data], /out of order/],
    [[u32(0, 9), data], /past the data/],
    [[u32(0, 3), data], /end at 3, the data has 6/],
  ];
  for (const [frames, why] of cases) {
    const r = decodePackedMessage(frames);
    assert.equal(typeof r, 'string');
    assert.match(r as string, why);
  }
});
