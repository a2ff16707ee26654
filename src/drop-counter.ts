// Counts dropped inputs by kind and logs the first of each kind, then at most one summary per
// kind every `intervalMs`, so a flood of bad messages cannot flood the log.
import type { Logger } from './log.js';

export class DropCounter<K extends string> {
  private readonly counts = new Map<K, number>();
  private readonly lastLogged = new Map<K, { at: number; count: number }>();

  constructor(
    private readonly log: Logger,
    private readonly what: string,
    private readonly intervalMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Count one drop of `kind`; `detail` is logged for the first one and in later summaries. */
  add(kind: K, detail: string, extra: Record<string, unknown> = {}): void {
    const count = (this.counts.get(kind) ?? 0) + 1;
    this.counts.set(kind, count);
    const last = this.lastLogged.get(kind);
    const t = this.now();
    if (last === undefined) {
      this.log.warn({ kind, ...extra }, `${this.what} dropped (${kind}): ${detail}`);
      this.lastLogged.set(kind, { at: t, count });
    } else if (t - last.at >= this.intervalMs) {
      this.log.warn({ kind, count, since: count - last.count, ...extra }, `${this.what} dropped (${kind}) ${count - last.count} more times; latest: ${detail}`);
      this.lastLogged.set(kind, { at: t, count });
    }
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
    this.lastLogged.clear();
  }
}
