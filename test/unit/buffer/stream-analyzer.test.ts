import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StreamAnalyzer, type AnomalyKind } from '../../../src/buffer/stream-analyzer.js';

const NOW = 1_700_000_000_000;
const ts = { sec: NOW / 1000, ns: 0 };

test('gaps, duplicates, backward and zero pulse ids', () => {
  const seen: AnomalyKind[] = [];
  const a = new StreamAnalyzer({ onAnomaly: (k) => seen.push(k) });
  for (const p of [10, 11, 14, 14, 12, 0, 1]) a.observe(p, ts, NOW);
  const c = a.counters();
  assert.equal(c.messages, 7);
  assert.equal(c.gaps, 1);
  assert.equal(c.missing_pulses, 2);
  assert.equal(c.duplicated, 1);
  assert.equal(c.backward, 2); // 14 → 12, 12 → 0
  assert.equal(c.zero_pulse_id, 1);
  assert.equal(c.last_pulse_id, 1);
  assert.ok(seen.includes('pulse_gap') && seen.includes('pulse_zero'));
});

test('timestamps more than 10 minutes off the buffer clock, or absent', () => {
  const a = new StreamAnalyzer();
  a.observe(1, { sec: NOW / 1000 - 599, ns: 0 }, NOW);
  a.observe(2, { sec: NOW / 1000 - 601, ns: 0 }, NOW);
  a.observe(3, { sec: NOW / 1000 + 700, ns: 0 }, NOW);
  a.observe(4, null, NOW);
  assert.equal(a.counters().timestamp_off, 3);
});

test('missing channel values are counted per channel; malformed by kind', () => {
  const a = new StreamAnalyzer();
  a.observeMissingChannels(1, ['A']);
  a.observeMissingChannels(2, ['A', 'B']);
  a.observeMissingChannels(3, []);
  a.malformed('bad_json', 'x');
  a.malformed('bad_json', 'y');
  const c = a.counters();
  assert.deepEqual(c.missing_channel_values, { A: 2, B: 1 });
  assert.equal(c.messages_with_missing_channels, 2);
  assert.deepEqual(c.malformed, { bad_json: 2 });
});

test('the per-channel table is bounded', () => {
  const a = new StreamAnalyzer({ maxTrackedChannels: 2 });
  a.observeMissingChannels(1, ['A', 'B', 'C', 'D']);
  assert.deepEqual(a.counters().missing_channel_values, { A: 1, B: 1, '(other)': 2 });
});
