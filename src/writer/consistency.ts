// The end-of-acquisition consistency summary beyond range.ts's counts: which pulse ids are
// missing (as ranges) and, per channel, how many rows had a value; and how it is stored in the
// file's root attributes. Pure.
import type { PulseRange, RangeSummary } from './range.js';

/** Inclusive [first, last] pulse ids. */
export type PulseIdRange = readonly [first: number, last: number];

/** How many missing ranges are listed (the count covers all of them). */
export const LISTED_MISSING_RANGES = 100;

/** The largest JSON text stored in one attribute (HDF5 keeps an attribute under 64 KiB). */
export const MAX_ATTRIBUTE_JSON_BYTES = 60_000;

export interface ConsistencySummary extends RangeSummary {
  /** The first LISTED_MISSING_RANGES ranges of missing pulse ids, in order. */
  readonly missingPulseIdRanges: PulseIdRange[];
  /** All ranges of missing pulse ids (the list above stops at LISTED_MISSING_RANGES). */
  readonly missingPulseIdRangeCount: number;
  /** Per channel, rows with a value (is_data_present 1); null when not known (no rows readable). */
  readonly channelRowsWithValue: Record<string, number> | null;
}

/**
 * The missing pulse ids of a range as ranges: before the first written pulse (for a pulse-id
 * start), between written pulses, after the last (for a pulse-id stop). `ids` are the written
 * pulse ids, strictly increasing. With nothing written and both pulse-id bounds, the whole range.
 */
export function missingRanges(
  range: Pick<PulseRange, 'startPulseId' | 'stopPulseId'>,
  ids: ArrayLike<number>,
  cap = LISTED_MISSING_RANGES,
): { ranges: PulseIdRange[]; count: number } {
  const ranges: PulseIdRange[] = [];
  let count = 0;
  const add = (first: number, last: number): void => {
    if (last < first) return;
    count++;
    if (ranges.length < cap) ranges.push([first, last]);
  };
  const n = ids.length;
  if (n === 0) {
    if (range.startPulseId !== null && range.stopPulseId !== null) add(range.startPulseId, range.stopPulseId);
    return { ranges, count };
  }
  if (range.startPulseId !== null) add(range.startPulseId, ids[0]! - 1);
  for (let i = 1; i < n; i++) {
    const prev = ids[i - 1]!;
    const cur = ids[i]!;
    if (cur > prev + 1) add(prev + 1, cur - 1);
  }
  if (range.stopPulseId !== null) add(ids[n - 1]! + 1, range.stopPulseId);
  return { ranges, count };
}

/** The summary with the missing ranges and the per-channel counts added. */
export function consistencySummary(base: RangeSummary, range: PulseRange, ids: ArrayLike<number> | null, channelRowsWithValue: Record<string, number> | null): ConsistencySummary {
  // Without the pulse ids (a file that cannot tell), only the edges of the range can be listed.
  const m = ids === null ? { ranges: [], count: 0 } : missingRanges(range, ids);
  return { ...base, missingPulseIdRanges: m.ranges, missingPulseIdRangeCount: m.count, channelRowsWithValue };
}

/**
 * The per-channel counts as one JSON attribute: every channel when it fits, otherwise only the
 * channels with fewer values than rows (as many as fit), `complete` false.
 */
export function channelCountsJson(counts: Record<string, number>, rows: number): { json: string; complete: boolean } {
  const all = JSON.stringify(counts);
  if (Buffer.byteLength(all) <= MAX_ATTRIBUTE_JSON_BYTES) return { json: all, complete: true };
  const partial: Record<string, number> = {};
  let bytes = 2;
  for (const [name, n] of Object.entries(counts)) {
    if (n >= rows) continue;
    const entry = Buffer.byteLength(JSON.stringify(name)) + String(n).length + 2;
    if (bytes + entry > MAX_ATTRIBUTE_JSON_BYTES) break;
    partial[name] = n;
    bytes += entry;
  }
  return { json: JSON.stringify(partial), complete: false };
}

/** The root attributes this module adds to the summary's (see summaryAttributes in acquisition.ts). */
export function consistencyAttributes(s: ConsistencySummary): Record<string, string | number> {
  const attrs: Record<string, string | number> = {
    missing_pulse_id_ranges: JSON.stringify(s.missingPulseIdRanges),
    missing_pulse_id_range_count: s.missingPulseIdRangeCount,
  };
  if (s.channelRowsWithValue !== null) {
    const c = channelCountsJson(s.channelRowsWithValue, s.rowsWritten);
    attrs['channel_rows_with_value'] = c.json;
    attrs['channel_rows_with_value_complete'] = c.complete ? 1 : 0;
  }
  return attrs;
}
