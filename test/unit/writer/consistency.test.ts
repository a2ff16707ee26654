// Missing pulse-id ranges and the per-channel counts as root attributes (src/writer/consistency.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { channelCountsJson, consistencyAttributes, consistencySummary, missingRanges, MAX_ATTRIBUTE_JSON_BYTES } from '../../../src/writer/consistency.js';
import { summarize } from '../../../src/writer/range.js';

const pulses = { startPulseId: 10, stopPulseId: 30 };

test('missing ranges: before the first, between, after the last written pulse', () => {
  assert.deepEqual(missingRanges(pulses, [12, 13, 14, 17, 20, 28]), {
    ranges: [
      [10, 11],
      [15, 16],
      [18, 19],
      [21, 27],
      [29, 30],
    ],
    count: 5,
  });
  assert.deepEqual(missingRanges(pulses, [10, 11, 30]), { ranges: [[12, 29]], count: 1 });
  assert.deepEqual(missingRanges(pulses, []), { ranges: [[10, 30]], count: 1 }, 'nothing written: the whole range');
  assert.deepEqual(missingRanges({ startPulseId: null, stopPulseId: null }, [5, 7]), { ranges: [[6, 6]], count: 1 }, 'time bounds: only the gaps between rows');
  assert.deepEqual(missingRanges({ startPulseId: null, stopPulseId: null }, []), { ranges: [], count: 0 });
});

test('missing ranges: the list stops at the cap, the count does not; the total agrees with summarize', () => {
  const ids = Array.from({ length: 500 }, (_, i) => 1000 + 2 * i); // every other pulse id
  const m = missingRanges({ startPulseId: 1000, stopPulseId: 1998 }, ids, 100);
  assert.equal(m.ranges.length, 100);
  assert.equal(m.count, 499);
  assert.deepEqual(m.ranges[0], [1001, 1001]);
  assert.deepEqual(m.ranges[99], [1199, 1199]);
  const range = { startPulseId: 1000, stopPulseId: 1998, startTime: null, stopTime: null };
  const s = consistencySummary(summarize(range, 1000, 1998, 500), range, ids, { A: 500 });
  assert.equal(s.missingPulseIds, 499);
  assert.equal(s.missingPulseIdRangeCount, 499);
  assert.equal(s.missingPulseIdRanges.length, 100);
});

test('root attributes: ranges and counts as JSON text; counts too long for an attribute keep the incomplete channels', () => {
  const range = { startPulseId: 10, stopPulseId: 14, startTime: null, stopTime: null };
  const s = consistencySummary(summarize(range, 10, 14, 4), range, [10, 11, 13, 14], { A: 4, B: 1 });
  assert.deepEqual(consistencyAttributes(s), {
    missing_pulse_id_ranges: '[[12,12]]',
    missing_pulse_id_range_count: 1,
    channel_rows_with_value: '{"A":4,"B":1}',
    channel_rows_with_value_complete: 1,
  });
  const unknown = consistencySummary(summarize(range, 10, 14, 4), range, null, null);
  assert.deepEqual(consistencyAttributes(unknown), { missing_pulse_id_ranges: '[]', missing_pulse_id_range_count: 0 });

  const many: Record<string, number> = {};
  for (let i = 0; i < 5000; i++) many[`SARFE10-PSSS059:CHANNEL-WITH-A-LONG-NAME-${i}`] = i % 100 === 0 ? 7 : 10;
  const c = channelCountsJson(many, 10);
  assert.equal(c.complete, false);
  assert.ok(Buffer.byteLength(c.json) <= MAX_ATTRIBUTE_JSON_BYTES);
  const kept = JSON.parse(c.json) as Record<string, number>;
  assert.equal(Object.keys(kept).length, 50, 'the 50 channels with fewer values than rows');
  assert.ok(Object.values(kept).every((n) => n === 7));
});
