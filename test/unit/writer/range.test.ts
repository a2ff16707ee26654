// Pulse-range decisions without any I/O.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  advance,
  checkBounds,
  decide,
  isComplete,
  NO_PROGRESS,
  OPEN_RANGE,
  summarize,
  type PulseRange,
  type RangeDecision,
  type RangeProgress,
} from '../../../src/writer/range.js';

/** Feeds pulse ids through decide/advance and returns the decisions. */
function feed(range: PulseRange, ids: number[], times: (number | null)[] = []): { decisions: RangeDecision[]; progress: RangeProgress } {
  let progress = NO_PROGRESS;
  const decisions: RangeDecision[] = [];
  ids.forEach((pulseId, i) => {
    const pulse = { pulseId, time: times[i] ?? null };
    const d = decide(range, progress, pulse);
    decisions.push(d);
    progress = advance(progress, pulse, d);
  });
  return { decisions, progress };
}

test('start 3, stop 8 over pulses 0..9: 3..8 written, then the range is done', () => {
  const { decisions, progress } = feed({ ...OPEN_RANGE, startPulseId: 3, stopPulseId: 8 }, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(decisions, ['early', 'early', 'early', 'write', 'write', 'write', 'write', 'write', 'write', 'done']);
  assert.equal(progress.lastWrittenPulseId, 8);
  assert.equal(progress.lastSeenPulseId, 9);
});

test('the range is complete as soon as the stop pulse is seen', () => {
  const range = { ...OPEN_RANGE, startPulseId: 3, stopPulseId: 5 };
  const { progress } = feed(range, [3, 4]);
  assert.equal(isComplete(range, progress), false);
  const p2 = advance(progress, { pulseId: 5, time: null }, 'write');
  assert.equal(isComplete(range, p2), true);
  assert.equal(decide(range, p2, { pulseId: 6, time: null }), 'done');
});

test('bounds are inclusive; no stop means write forever', () => {
  assert.equal(decide({ ...OPEN_RANGE, startPulseId: 5, stopPulseId: 5 }, NO_PROGRESS, { pulseId: 5, time: null }), 'write');
  const { decisions } = feed({ ...OPEN_RANGE, startPulseId: 0 }, [0, 1, 1_000_000]);
  assert.deepEqual(decisions, ['write', 'write', 'write']);
});

test('repeated and backward pulse ids are not written twice', () => {
  const { decisions } = feed({ ...OPEN_RANGE, startPulseId: 10 }, [10, 11, 11, 9, 12]);
  assert.deepEqual(decisions, ['write', 'write', 'repeat', 'early', 'write']);
  const { decisions: d2 } = feed({ ...OPEN_RANGE, startPulseId: 10 }, [10, 12, 11, 13]);
  assert.deepEqual(d2, ['write', 'write', 'repeat', 'write']);
});

test('time bounds use global_timestamp, inclusive', () => {
  const range = { ...OPEN_RANGE, startTime: 100.5, stopTime: 101 };
  const { decisions } = feed(range, [1, 2, 3, 4], [100.4, 100.5, 101, 101.01]);
  assert.deepEqual(decisions, ['early', 'write', 'write', 'late']);
  assert.equal(isComplete(range, { lastSeenPulseId: 3, lastSeenTime: 101, lastWrittenPulseId: 3 }), false);
  assert.equal(isComplete(range, { lastSeenPulseId: 4, lastSeenTime: 101.01, lastWrittenPulseId: 3 }), true);
});

test('pulse and time bounds combine: either stop bound ends the range', () => {
  const range = { ...OPEN_RANGE, startTime: 0, stopPulseId: 3 };
  const { decisions } = feed(range, [1, 2, 3, 4], [1, 2, 3, 4]);
  assert.deepEqual(decisions, ['write', 'write', 'write', 'done']);
});

test('a stop already behind the last pulse seen completes the range at once', () => {
  const progress: RangeProgress = { lastSeenPulseId: 605, lastSeenTime: null, lastWrittenPulseId: 605 };
  assert.equal(isComplete({ ...OPEN_RANGE, startPulseId: 600, stopPulseId: 602 }, progress), true);
  assert.equal(isComplete({ ...OPEN_RANGE, startPulseId: 600, stopPulseId: 700 }, progress), false);
  assert.equal(isComplete({ ...OPEN_RANGE, startPulseId: 600 }, progress), false);
  assert.equal(isComplete({ ...OPEN_RANGE, stopPulseId: 1 }, NO_PROGRESS), false);
});

test('checkBounds names both values when stop is before start', () => {
  assert.equal(checkBounds({ ...OPEN_RANGE, startPulseId: 100, stopPulseId: 90 }), 'stop_pulse_id 90 is before start_pulse_id 100');
  assert.equal(checkBounds({ ...OPEN_RANGE, startPulseId: 100, stopPulseId: 100 }), null);
  assert.match(checkBounds({ ...OPEN_RANGE, startTime: 10, stopTime: 9 }) ?? '', /stop_timestamp 9 is before start_timestamp 10/);
  assert.equal(checkBounds(OPEN_RANGE), null);
});

test('summary: missing = gaps + leading + trailing pulses of the requested range', () => {
  const range = { ...OPEN_RANGE, startPulseId: 100, stopPulseId: 109 };
  assert.deepEqual(summarize(range, 100, 109, 10), {
    requestedStartPulseId: 100,
    requestedStopPulseId: 109,
    requestedStartTime: null,
    requestedStopTime: null,
    firstWrittenPulseId: 100,
    lastWrittenPulseId: 109,
    rowsWritten: 10,
    missingPulseIds: 0,
  });
  assert.equal(summarize(range, 102, 107, 5).missingPulseIds, 2 + 2 + 1);
  assert.equal(summarize(range, null, null, 0).missingPulseIds, 10);
  assert.equal(summarize({ ...OPEN_RANGE, startTime: 1 }, 5, 9, 5).missingPulseIds, 0);
  assert.equal(summarize({ ...OPEN_RANGE, startTime: 1 }, null, null, 0).missingPulseIds, 0);
});

test('a pulse past the stop is late when the stop pulse itself never came', () => {
  const { decisions } = feed({ ...OPEN_RANGE, startPulseId: 3, stopPulseId: 8 }, [6, 7, 9]);
  assert.deepEqual(decisions, ['write', 'write', 'late']);
});
