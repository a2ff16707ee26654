// One row of the benchmark table: our figure against a baseline measured in the same run.
export interface BenchRow {
  /** What is measured, e.g. "bitshuffle_lz4 decode 2048x2048 uint16". */
  measure: string;
  /** Our figure (higher is better), in `unit`. */
  ours: number;
  /** The baseline's figure in the same unit, measured in the same run. */
  baseline: number;
  /** What the baseline is, e.g. "memcpy of the same bytes". */
  baselineName: string;
  unit: string;
  /** The goal, in words, e.g. ">= 1 GB/s" or ">= 80% of baseline". */
  goal: string;
  /** Whether the goal is met (the bench decides; nothing fails on it). */
  met: boolean;
}

export interface BenchOptions {
  quick: boolean;
}

export type Bench = (opts: BenchOptions) => Promise<BenchRow[]>;

function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 100) return n.toFixed(0);
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

export function formatTable(rows: BenchRow[]): string {
  const header = ['measure', 'ours', 'baseline', 'unit', 'ratio', 'goal', 'met', 'baseline is'];
  const body = rows.map((r) => [
    r.measure,
    fmt(r.ours),
    fmt(r.baseline),
    r.unit,
    r.baseline > 0 ? `${fmt((100 * r.ours) / r.baseline)}%` : '-',
    r.goal,
    r.met ? 'yes' : 'NO',
    r.baselineName,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => '| ' + cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ') + ' |';
  return [line(header), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...body.map(line)].join('\n');
}

/** Runs `fn` repeatedly for at least `minMs` and returns operations per second. */
export function opsPerSecond(fn: () => void, minMs: number): number {
  fn(); // warm up
  let n = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < minMs) {
    fn();
    n++;
    elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  }
  return (n * 1000) / elapsed;
}
