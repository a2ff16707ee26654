import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_HISTORY_SAMPLES, StatusHistory, type HistorySample } from '../../../src/buffer/status-history.js';

const sample = (t: number): HistorySample => ({ t, rate_hz: t / 10, depth: t, bytes: 100 * t });

test('an empty history has no samples', () => {
  const h = new StatusHistory(4);
  assert.equal(h.size, 0);
  assert.deepEqual(h.samples(), []);
  assert.deepEqual(h.samples(0), []);
});

test('samples come back oldest first until the ring is full', () => {
  const h = new StatusHistory(4);
  for (const t of [1, 2, 3]) h.push(sample(t));
  assert.equal(h.size, 3);
  assert.deepEqual(
    h.samples().map((s) => s.t),
    [1, 2, 3],
  );
  assert.deepEqual(h.samples()[1], sample(2));
});

test('a full ring drops the oldest sample per new one and keeps the order across the wrap', () => {
  const h = new StatusHistory(4);
  for (let t = 1; t <= 11; t++) h.push(sample(t));
  assert.equal(h.size, 4);
  assert.deepEqual(
    h.samples().map((s) => s.t),
    [8, 9, 10, 11],
  );
});

test('samples(since) returns only samples taken after that time', () => {
  const h = new StatusHistory(5);
  for (let t = 1; t <= 7; t++) h.push(sample(t * 1000));
  assert.deepEqual(
    h.samples(5000).map((s) => s.t),
    [6000, 7000],
  );
  assert.deepEqual(h.samples(7000), []);
  assert.deepEqual(
    h.samples(0).map((s) => s.t),
    [3000, 4000, 5000, 6000, 7000],
  );
});

test('the default keeps 10 minutes at one sample a second; a bad capacity is refused', () => {
  const h = new StatusHistory();
  assert.equal(h.capacity, DEFAULT_HISTORY_SAMPLES);
  assert.equal(DEFAULT_HISTORY_SAMPLES, 600);
  for (let t = 0; t < 1000; t++) h.push(sample(t));
  assert.equal(h.samples().length, 600);
  assert.equal(h.samples()[0]!.t, 400);
  assert.throws(() => new StatusHistory(0), RangeError);
  assert.throws(() => new StatusHistory(2.5), RangeError);
});
