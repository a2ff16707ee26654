// Logs the first event of each kind, then at most one summary per kind every intervalMs.
import type { Logger } from '../log.js';

export class RateLimitedLog<K extends string> {
  private readonly last = new Map<K, { at: number; count: number; total: number }>();

  constructor(
    private readonly log: Logger,
    private readonly level: 'info' | 'warn',
    private readonly intervalMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  event(kind: K, detail: string): void {
    const t = this.now();
    const s = this.last.get(kind);
    if (s === undefined) {
      this.last.set(kind, { at: t, count: 1, total: 1 });
      this.log[this.level]({ kind }, `${kind}: ${detail}`);
      return;
    }
    s.total++;
    if (t - s.at >= this.intervalMs) {
      this.log[this.level]({ kind, total: s.total, since: s.total - s.count }, `${kind}: ${s.total - s.count} more since last report; latest: ${detail}`);
      s.at = t;
      s.count = s.total;
    }
  }
}
