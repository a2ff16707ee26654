import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseJetStreamAddress, parseServerList, subjectOf } from '../../../src/jetstream/index.js';

test('a writer stream address names servers and a stream', () => {
  assert.deepEqual(parseJetStreamAddress('nats://127.0.0.1:4222/CAM-1'), { servers: ['127.0.0.1:4222'], stream: 'CAM-1' });
  assert.deepEqual(parseJetStreamAddress('nats://h1:4222,h2:4223,nats://h3:4224/S_1'), { servers: ['h1:4222', 'h2:4223', 'h3:4224'], stream: 'S_1' });
  assert.equal(subjectOf('S_1'), 'bsread.S_1');
});

test('bad addresses say what is wrong', () => {
  assert.throws(() => parseJetStreamAddress('nats://127.0.0.1:4222'), /names no stream/);
  assert.throws(() => parseJetStreamAddress('nats://127.0.0.1:4222/'), /not usable/);
  assert.throws(() => parseJetStreamAddress('nats://127.0.0.1:4222/a.b'), /not usable/);
  assert.throws(() => parseJetStreamAddress('nats://127.0.0.1/S'), /not HOST:PORT/);
  assert.throws(() => parseJetStreamAddress('nats://127.0.0.1:70000/S'), /out of range/);
  assert.throws(() => parseJetStreamAddress('nats://a:1,,b:2/S'), /empty server/);
  assert.throws(() => parseServerList('127.0.0.1:4222'), /must start with nats:\/\//);
});
