// Prometheus text exposition format, version 0.0.4: the part the buffer's and the writer's
// /metrics share (HELP and TYPE lines, samples with labels, escaping, number spelling). Pure.

/** The content type of a /metrics reply. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type MetricType = 'counter' | 'gauge' | 'summary' | 'untyped';

export type Labels = Readonly<Record<string, string>>;

/** One sample: its labels and its value; a null value (not known yet) is left out. */
export type Sample = readonly [Labels, number | null];

/** A label value: backslash, double quote and line feed escaped. */
export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/** HELP text: backslash and line feed escaped (quotes stay as they are). */
export function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** A sample value as the format spells it: NaN, +Inf, -Inf, or the number. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function formatLabels(labels: Labels): string {
  const l = Object.entries(labels)
    .map(([k, x]) => `${k}="${escapeLabelValue(x)}"`)
    .join(',');
  return l === '' ? '' : `{${l}}`;
}

/** Collects metric families and renders them as one exposition text. */
export class PrometheusText {
  private readonly lines: string[] = [];

  /** A family: `# HELP`, `# TYPE`, then one line per sample with a value. */
  metric(name: string, type: MetricType, help: string, samples: readonly Sample[]): this {
    return this.family(
      name,
      type,
      help,
      samples.map(([labels, v]) => ['', labels, v]),
    );
  }

  /**
   * A family whose samples carry a suffix after the family's name (a summary's `_sum` and
   * `_count`): [suffix, labels, value].
   */
  family(name: string, type: MetricType, help: string, samples: readonly (readonly [string, Labels, number | null])[]): this {
    this.lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
    for (const [suffix, labels, v] of samples) {
      if (v === null) continue;
      this.lines.push(`${name}${suffix}${formatLabels(labels)} ${formatValue(v)}`);
    }
    return this;
  }

  /** The text: one line each, ending with a line feed. */
  toString(): string {
    return this.lines.join('\n') + '\n';
  }
}
