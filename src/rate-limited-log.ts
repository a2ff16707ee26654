// Logs the first event of each kind, then at most one summary per kind every intervalMs, so that a
// flood of bad input or stream anomalies cannot flood the log. DropCounter and the buffer's
// analyzer log through it.
import type { Logger } from './log.js';

export class RateLimitedLog<K extends string> {
  private readonly last = new Map<K, { at: number; reported: number; total: number }>();

  constructor(
    private readonly log: Logger,
    private readonly level: 'info' | 'warn',
    /** What the message says of an event of `kind`, e.g. "message dropped (bad_json)". */
    private readonly label: (kind: K) => string = (kind) => kind,
    private readonly intervalMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** One event; `detail` is logged for the first one of its kind and with later summaries. */
  event(kind: K, detail: string, extra: Record<string, unknown> = {}): void {
    const t = this.now();
    const s = this.last.get(kind);
    if (s === undefined) {
      this.last.set(kind, { at: t, reported: 1, total: 1 });
      this.log[this.level]({ kind, ...extra }, `${this.label(kind)}: ${detail}`);
      return;
    }
    s.total++;
    if (t - s.at >= this.intervalMs) {
      const since = s.total - s.reported;
      this.log[this.level]({ kind, total: s.total, since, ...extra }, `${this.label(kind)}: ${since} more since the last report; latest: ${detail}`);
      s.at = t;
      s.reported = s.total;
    }
  }

  /** Forget what was logged: the next event of each kind is logged again. */
  reset(): void {
    this.last.clear();
  }
}
