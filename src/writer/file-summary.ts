// A summary of a SwissFEL-layout file (§8.1), read back through our HDF5 layer: channels, rows
// with a value per channel, pulse range, missing pulses (also as ranges). Used by the demo and
// `bsread h5summary`.
import { statSync } from 'node:fs';
import { H5File } from '../h5/index.js';
import { missingRanges, type PulseIdRange } from './consistency.js';

export interface ChannelSummary {
  name: string;
  rows: number;
  /** Rows with a value (is_data_present = 1). */
  present: number;
  /** Type and shape of `data` as stored, e.g. "uint16 (201, 1024, 1024)"; null without data. */
  data: string | null;
  /** Earlier incarnations after definition changes: data(1), data(2), ... */
  earlier: string[];
}

export interface FileSummary {
  path: string;
  bytes: number;
  general: Record<string, string>;
  attributes: Record<string, unknown>;
  channels: ChannelSummary[];
  /** Rows per channel (the same for every channel). */
  rows: number;
  firstPulseId: number | null;
  lastPulseId: number | null;
  /** Pulse ids between first and last for which no channel had a value. */
  missingPulseIds: number;
  /** Those pulse ids as ranges (the first 100), and how many ranges in all. */
  missingPulseIdRanges: PulseIdRange[];
  missingPulseIdRangeCount: number;
}

/** is_data_present as 0/1 per row, or null when it cannot be read as uint8. */
function presentFlags(file: H5File, path: string): Uint8Array | null {
  const d = file.read(path);
  return d.type === 'uint8' && Buffer.isBuffer(d.data) ? d.data : null;
}

function pulseIds(file: H5File, path: string): bigint[] | null {
  const d = file.read(path);
  if (d.type !== 'int64' || !Buffer.isBuffer(d.data)) return null;
  const b = d.data;
  const out: bigint[] = [];
  for (let off = 0; off + 8 <= b.length; off += 8) out.push(b.readBigInt64LE(off));
  return out;
}

export function summarizeSwissFelFile(path: string): FileSummary {
  const file = H5File.openReadOnly(path);
  try {
    const general: Record<string, string> = {};
    if (file.exists('/general')) {
      for (const key of file.listGroup('/general')) {
        const d = file.read(`/general/${key}`);
        general[key] = Array.isArray(d.data) ? String(d.data[0] ?? '') : '';
      }
    }
    const attributes: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(file.attributes('/'))) attributes[k] = typeof v === 'bigint' ? Number(v) : v;
    const channels: ChannelSummary[] = [];
    const seen = new Set<bigint>();
    let rows = 0;
    if (file.exists('/data')) {
      for (const name of file.listGroup('/data')) {
        const base = `/data/${name}`;
        const members = file.listGroup(base);
        const ids = members.includes('pulse_id') ? pulseIds(file, `${base}/pulse_id`) : null;
        const flags = members.includes('is_data_present') ? presentFlags(file, `${base}/is_data_present`) : null;
        // Every row carries its pulse id; is_data_present tells which rows have a value.
        let present = 0;
        (ids ?? []).forEach((id, k) => {
          if (flags?.[k] === 1) {
            present++;
            seen.add(id);
          }
        });
        rows = Math.max(rows, ids?.length ?? 0);
        const describe = (p: string) => {
          const info = file.info(p);
          return `${info.type} (${info.shape.join(', ')})`;
        };
        channels.push({
          name,
          rows: ids?.length ?? 0,
          present,
          data: members.includes('data') ? describe(`${base}/data`) : null,
          earlier: members.filter((m) => /^data\(\d+\)$/.test(m)).sort(),
        });
      }
    }
    const sorted = [...seen].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const first = sorted.length > 0 ? Number(sorted[0]) : null;
    const last = sorted.length > 0 ? Number(sorted[sorted.length - 1]) : null;
    const gaps = missingRanges({ startPulseId: null, stopPulseId: null }, sorted.map(Number));
    return {
      path,
      bytes: statSync(path).size,
      general,
      attributes,
      channels,
      rows,
      firstPulseId: first,
      lastPulseId: last,
      missingPulseIds: first === null || last === null ? 0 : last - first + 1 - sorted.length,
      missingPulseIdRanges: gaps.ranges,
      missingPulseIdRangeCount: gaps.count,
    };
  } finally {
    file.close();
  }
}
