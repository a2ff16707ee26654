// How far an acquisition is: the fraction of its range handled, rates and the time left. Pure.
//
// The fraction counts pulse ids, not rows: (last pulse id handled - start + 1) / (stop - start + 1),
// clamped to 0..1, where "handled" is the highest pulse id received, written or not. A pulse id
// without a message (a gap) therefore counts once a later one arrives, and a range whose end is
// in the future advances at the machine's pulse rate. The time left (eta) is the pulse ids still
// to come divided by the rate at which the handled pulse id recently advanced: the replay speed
// for a range in the past, the machine's pulse rate for live data. A range bounded by times on
// both sides (start_now, stop_now) uses global timestamps the same way.

/** The `progress` object of /statistics. Null fields: not known (yet). */
export interface Progress {
  /** 0..1 of the range handled; null before the start and stop are known. */
  fraction: number | null;
  /** Rows written per second (recent; after the run: its mean). */
  rows_per_s: number | null;
  /** Seconds until the range is complete at the recent rate; 0 once complete. */
  eta_s: number | null;
  /** Messages received per second (recent; after the run: its mean). */
  received_per_s: number | null;
}

export const NO_PROGRESS_REPORT: Progress = { fraction: null, rows_per_s: null, eta_s: null, received_per_s: null };

export interface ProgressInput {
  /** The requested start pulse id, or for a time start the first written pulse id (null: none yet). */
  readonly startPulseId: number | null;
  readonly stopPulseId: number | null;
  readonly startTime: number | null;
  readonly stopTime: number | null;
  /** Highest pulse id received (null before the first message). */
  readonly lastPulseId: number | null;
  /** global_timestamp of the last message received, seconds. */
  readonly lastTime: number | null;
  /** No more pulses of the range can come. */
  readonly complete: boolean;
  readonly rowsPerS: number | null;
  readonly receivedPerS: number | null;
  /** How fast the handled pulse id advances (pulse ids per second). */
  readonly pulseIdsPerS: number | null;
}

const clamp01 = (x: number): number => Math.min(1, Math.max(0, x));

function fractionAndEta(p: ProgressInput): { fraction: number | null; eta: number | null } {
  if (p.startPulseId !== null && p.stopPulseId !== null) {
    const total = p.stopPulseId - p.startPulseId + 1;
    if (p.lastPulseId === null) return { fraction: p.complete ? 1 : 0, eta: p.complete ? 0 : null };
    const fraction = p.complete ? 1 : clamp01((p.lastPulseId - p.startPulseId + 1) / total);
    if (fraction === 1) return { fraction, eta: 0 };
    const left = p.stopPulseId - Math.max(p.lastPulseId, p.startPulseId - 1);
    const eta = p.pulseIdsPerS !== null && p.pulseIdsPerS > 0 ? left / p.pulseIdsPerS : null;
    return { fraction, eta };
  }
  if (p.startTime !== null && p.stopTime !== null && p.stopPulseId === null) {
    const span = p.stopTime - p.startTime;
    if (p.complete) return { fraction: 1, eta: 0 };
    if (p.lastTime === null || span <= 0) return { fraction: 0, eta: null };
    const fraction = clamp01((p.lastTime - p.startTime) / span);
    return { fraction, eta: fraction === 1 ? 0 : Math.max(0, p.stopTime - p.lastTime) };
  }
  return { fraction: null, eta: null };
}

/** The progress report for what is known now. */
export function computeProgress(p: ProgressInput): Progress {
  const { fraction, eta } = fractionAndEta(p);
  return { fraction, rows_per_s: p.rowsPerS, eta_s: eta, received_per_s: p.receivedPerS };
}

/** "42.0% (eta 12 s)": the progress in a few words, for the log. */
export function describeProgress(p: Progress): string {
  const pct = p.fraction === null ? 'range not known yet' : `${(p.fraction * 100).toFixed(1)}%`;
  const eta = p.eta_s === null ? '' : `, eta ${p.eta_s.toFixed(0)} s`;
  const rate = p.rows_per_s === null ? '' : `, ${p.rows_per_s.toFixed(1)} rows/s`;
  return `${pct}${rate}${eta}`;
}

/**
 * The rate of a growing count over a sliding window of recent samples. Samples closer than
 * `minSpacingMs` to the previous one replace it, so frequent callers keep the list short.
 */
export class RateWindow {
  private readonly times: number[] = [];
  private readonly values: number[] = [];

  constructor(
    private readonly windowMs = 5000,
    private readonly minSpacingMs = 100,
  ) {}

  add(tMs: number, value: number): void {
    const n = this.times.length;
    if (n > 1 && tMs - this.times[n - 2]! < this.minSpacingMs) {
      this.times[n - 1] = tMs;
      this.values[n - 1] = value;
    } else {
      this.times.push(tMs);
      this.values.push(value);
    }
    // Keep one sample at or before the window's start, so the rate spans the whole window.
    while (this.times.length > 2 && this.times[1]! <= tMs - this.windowMs) {
      this.times.shift();
      this.values.shift();
    }
  }

  /** Per second over the window; null with fewer than two samples or no time between them. */
  rate(): number | null {
    const n = this.times.length;
    if (n < 2) return null;
    const dt = (this.times[n - 1]! - this.times[0]!) / 1000;
    return dt > 0 ? (this.values[n - 1]! - this.values[0]!) / dt : null;
  }

  reset(): void {
    this.times.length = 0;
    this.values.length = 0;
  }
}
