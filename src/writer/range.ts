// Pulse-range decisions: pure functions, no I/O (tested in test/unit/writer/range.test.ts).
//
// A range has up to two start bounds and two stop bounds, as the original writer (§9.4):
//   start_pulse_id / start_timestamp: a message is too early when below either set start bound;
//   stop_pulse_id / stop_timestamp:   a message is too late when above either set stop bound.
// Both bounds are inclusive. Timestamps are float seconds (global_timestamp sec + ns·1e-9),
// compared with the wall clock of the writer host at start_now / stop_now.

export interface PulseRange {
  readonly startPulseId: number | null;
  readonly stopPulseId: number | null;
  /** Seconds since the epoch (start_now). */
  readonly startTime: number | null;
  /** Seconds since the epoch (stop_now). */
  readonly stopTime: number | null;
}

export const OPEN_RANGE: PulseRange = { startPulseId: null, stopPulseId: null, startTime: null, stopTime: null };

/** What the writer knows about one received message. */
export interface PulseInfo {
  readonly pulseId: number;
  /** global_timestamp in float seconds; null when the message has none. */
  readonly time: number | null;
}

/**
 * - early: before the start bound, discard;
 * - write: inside the range, write it;
 * - late: beyond the stop bound, discard; no later pulse can be in the range (acquisition over);
 * - done: the range was already complete before this message (it is not looked at).
 * A message whose pulse id is not above the last written one is `repeat` (duplicate or backward
 * pulse id): discarded, so the file holds each pulse at most once and in increasing order.
 */
export type RangeDecision = 'early' | 'write' | 'late' | 'done' | 'repeat';

/** What has been seen so far in the current acquisition. */
export interface RangeProgress {
  /** Highest pulse id received (written or not), null before the first message. */
  readonly lastSeenPulseId: number | null;
  /** global_timestamp of the last message received, null before the first. */
  readonly lastSeenTime: number | null;
  /** Highest pulse id written, null before the first write. */
  readonly lastWrittenPulseId: number | null;
}

export const NO_PROGRESS: RangeProgress = { lastSeenPulseId: null, lastSeenTime: null, lastWrittenPulseId: null };

function tooEarly(range: PulseRange, p: PulseInfo): boolean {
  if (range.startPulseId !== null && p.pulseId < range.startPulseId) return true;
  if (range.startTime !== null && p.time !== null && p.time < range.startTime) return true;
  return false;
}

function tooLate(range: PulseRange, p: PulseInfo): boolean {
  if (range.stopPulseId !== null && p.pulseId > range.stopPulseId) return true;
  if (range.stopTime !== null && p.time !== null && p.time > range.stopTime) return true;
  return false;
}

/** The decision for one received message. */
export function decide(range: PulseRange, progress: RangeProgress, pulse: PulseInfo): RangeDecision {
  if (isComplete(range, progress)) return 'done';
  if (tooLate(range, pulse)) return 'late';
  if (tooEarly(range, pulse)) return 'early';
  if (progress.lastWrittenPulseId !== null && pulse.pulseId <= progress.lastWrittenPulseId) return 'repeat';
  return 'write';
}

/**
 * True when no more pulses of the range can come: the last pulse seen is at or beyond the stop
 * pulse id (pulse ids only grow), or the last message seen is past the stop time.
 */
export function isComplete(range: PulseRange, progress: RangeProgress): boolean {
  if (range.stopPulseId !== null && progress.lastSeenPulseId !== null && progress.lastSeenPulseId >= range.stopPulseId) return true;
  if (range.stopTime !== null && progress.lastSeenTime !== null && progress.lastSeenTime > range.stopTime) return true;
  return false;
}

/** The progress after a message was received and decided on. */
export function advance(progress: RangeProgress, pulse: PulseInfo, decision: RangeDecision): RangeProgress {
  const lastSeenPulseId = progress.lastSeenPulseId === null ? pulse.pulseId : Math.max(progress.lastSeenPulseId, pulse.pulseId);
  return {
    lastSeenPulseId,
    lastSeenTime: pulse.time ?? progress.lastSeenTime,
    lastWrittenPulseId: decision === 'write' ? pulse.pulseId : progress.lastWrittenPulseId,
  };
}

/** Why a new bound is refused, or null when it fits. Messages name both values. */
export function checkBounds(range: PulseRange): string | null {
  if (range.startPulseId !== null && range.stopPulseId !== null && range.stopPulseId < range.startPulseId) {
    return `stop_pulse_id ${range.stopPulseId} is before start_pulse_id ${range.startPulseId}`;
  }
  if (range.startTime !== null && range.stopTime !== null && range.stopTime < range.startTime) {
    return `stop_timestamp ${range.stopTime} is before start_timestamp ${range.startTime}`;
  }
  return null;
}

/** The consistency summary of one finished acquisition (logged, in statistics, file attributes). */
export interface RangeSummary {
  readonly requestedStartPulseId: number | null;
  readonly requestedStopPulseId: number | null;
  readonly requestedStartTime: number | null;
  readonly requestedStopTime: number | null;
  readonly firstWrittenPulseId: number | null;
  readonly lastWrittenPulseId: number | null;
  readonly rowsWritten: number;
  /**
   * Pulse ids of the range without a message in the file: gaps between written pulses, plus,
   * for pulse-id bounds, the pulses between start and the first written one and between the
   * last written one and stop. A stream of channels with modulo > 1 counts its skipped ids too.
   */
  readonly missingPulseIds: number;
}

/**
 * The summary from the rows actually in the file. Written pulse ids are strictly increasing
 * (decide() discards repeats), so the gaps between them are (last - first + 1) - rows.
 */
export function summarize(range: PulseRange, first: number | null, last: number | null, rows: number): RangeSummary {
  let missing = 0;
  if (first !== null && last !== null) {
    missing = Math.max(0, last - first + 1 - rows);
    if (range.startPulseId !== null) missing += Math.max(0, first - range.startPulseId);
    if (range.stopPulseId !== null) missing += Math.max(0, range.stopPulseId - last);
  } else if (range.startPulseId !== null && range.stopPulseId !== null) {
    missing = range.stopPulseId - range.startPulseId + 1;
  }
  return {
    requestedStartPulseId: range.startPulseId,
    requestedStopPulseId: range.stopPulseId,
    requestedStartTime: range.startTime,
    requestedStopTime: range.stopTime,
    firstWrittenPulseId: first,
    lastWrittenPulseId: last,
    rowsWritten: rows,
    missingPulseIds: missing,
  };
}
