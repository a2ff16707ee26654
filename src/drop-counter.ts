// Counts dropped inputs by kind and logs them through a RateLimitedLog (the first of each kind,
// then at most one summary per kind every intervalMs).
import type { Logger } from './log.js';
import { RateLimitedLog } from './rate-limited-log.js';

export class DropCounter<K extends string> {
  private readonly counts = new Map<K, number>();
  private readonly logged: RateLimitedLog<K>;

  constructor(log: Logger, what: string, intervalMs = 10_000, now: () => number = Date.now) {
    this.logged = new RateLimitedLog<K>(log, 'warn', (kind) => `${what} dropped (${kind})`, intervalMs, now);
  }

  /** Count one drop of `kind`; `detail` is logged for the first one and in later summaries. */
  add(kind: K, detail: string, extra: Record<string, unknown> = {}): void {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
    this.logged.event(kind, detail, extra);
  }

  get(kind: K): number {
    return this.counts.get(kind) ?? 0;
  }

  total(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c;
    return n;
  }

  /** All counts by kind, for statistics replies. */
  toJSON(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  reset(): void {
    this.counts.clear();
    this.logged.reset();
  }
}
