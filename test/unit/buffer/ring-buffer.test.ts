import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RingBuffer } from '../../../src/buffer/ring-buffer.js';
import { storedBytes } from '../../../src/buffer/stored-message.js';
import { frameViews, packFrames } from '../../../src/transport/index.js';
import { stored, testMessage } from './helpers.js';

test('depth by count evicts the oldest', () => {
  const r = new RingBuffer({ maxMessages: 3 });
  for (let i = 0; i < 5; i++) r.push(stored(r.allocSeq(), 100 + i));
  assert.equal(r.depth, 3);
  assert.equal(r.oldest()?.pulseId, 102);
  assert.equal(r.newest()?.pulseId, 104);
  assert.equal(r.evicted, 2);
  assert.equal(r.oldestSeq, 2);
  assert.equal(r.get(1), undefined);
  assert.equal(r.get(4)?.pulseId, 104);
});

test('depth by age evicts on push and on evict(now) when the stream stops', () => {
  const r = new RingBuffer({ maxMessages: 100, maxAgeMs: 1000 });
  r.push(stored(0, 1, 0));
  r.push(stored(1, 2, 500));
  r.push(stored(2, 3, 1200)); // message 1 (t=0) is 1200 ms old now
  assert.deepEqual(
    r.select(null).map((m) => m.pulseId),
    [2, 3],
  );
  r.evict(2300);
  assert.deepEqual(
    r.select(null).map((m) => m.pulseId),
    [],
  );
  assert.equal(r.depth, 0);
  assert.equal(r.oldestSeq, 3);
});

test('depth by bytes keeps at least the newest message', () => {
  const one = storedBytes(stored(0, 0));
  const r = new RingBuffer({ maxMessages: 100, maxBytes: one * 2 });
  for (let i = 0; i < 5; i++) r.push(stored(i, i));
  assert.equal(r.depth, 2);
  assert.equal(r.bytes, one * 2);
  const tiny = new RingBuffer({ maxMessages: 100, maxBytes: 1 });
  tiny.push(stored(0, 0));
  tiny.push(stored(1, 1));
  assert.equal(tiny.depth, 1);
  assert.equal(tiny.newest()?.pulseId, 1);
});

test('whichever limit is hit first evicts', () => {
  const r = new RingBuffer({ maxMessages: 2, maxAgeMs: 10_000, maxBytes: 1e9 });
  for (let i = 0; i < 4; i++) r.push(stored(i, i, i));
  assert.equal(r.depth, 2);
});

test('select keeps arrival order and filters by pulse id (source restart)', () => {
  const r = new RingBuffer({ maxMessages: 10 });
  for (const p of [100, 101, 102, 5, 6, 103]) r.push(stored(r.allocSeq(), p));
  assert.deepEqual(
    r.select(101).map((m) => m.pulseId),
    [101, 102, 103],
  );
  assert.deepEqual(
    r.select(0).map((m) => m.pulseId),
    [100, 101, 102, 5, 6, 103],
  );
  assert.equal(r.minPulseId(), 5);
});

test('push checks the sequence number', () => {
  const r = new RingBuffer({ maxMessages: 2 });
  assert.throws(() => r.push(stored(5, 1)), RangeError);
  assert.throws(() => new RingBuffer({ maxMessages: 0 }), RangeError);
});

test('frames survive packing byte for byte', () => {
  const frames = testMessage(42, { channels: 5, withMissing: true });
  const views = frameViews(packFrames(frames));
  assert.equal(views.length, frames.length);
  for (let i = 0; i < frames.length; i++) assert.ok(views[i]!.equals(frames[i]!), `frame ${i}`);
});

test('memory per buffered 1000-channel message is at most 1.2 x payload', () => {
  const frames = testMessage(1, { channels: 1000 });
  const payload = frames.reduce((n, f) => n + f.length, 0);
  const p = packFrames(frames);
  const m = { seq: 0, pulseId: 1, globalTimestamp: null, arrivalMs: 0, ...p };
  // Accounted cost (payload + offset table + object overhead); bench/buffer.ts measures the real heap.
  assert.ok(storedBytes(m) <= 1.2 * payload, `${storedBytes(m)} bytes for ${payload} payload`);
});
