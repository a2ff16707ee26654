// The readable form of one message for `bsread receive` (without --json): a line for the
// message, then one line per channel with its type, shape and value (long arrays shortened).
import { MalformedMessageError } from '../errors.js';
import type { BsreadMessage, ChannelValue } from '../bsread/index.js';

const MAX_ELEMENTS = 6;

function formatNumber(v: number | bigint): string {
  return typeof v === 'bigint' ? v.toString() : String(v);
}

export function formatValue(v: ChannelValue | null): string {
  if (v === null) return '(missing)';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'bigint') return formatNumber(v);
  const shown: string[] = [];
  const n = Math.min(v.data.length, MAX_ELEMENTS);
  for (let i = 0; i < n; i++) shown.push(formatNumber(v.data[i] as number | bigint));
  const more = v.data.length > MAX_ELEMENTS ? `, ... (${v.data.length} elements)` : '';
  return `[${shown.join(', ')}${more}]`;
}

function isoTime(sec: number, ns: number): string {
  const d = new Date(sec * 1000);
  if (Number.isNaN(d.getTime())) return `${sec}.${String(ns).padStart(9, '0')}`;
  return d.toISOString().replace(/\.\d{3}Z$/, `.${String(ns).padStart(9, '0')}Z`);
}

/** `only`: the names of the channels to show (absent or empty: all). */
export function formatMessageTable(msg: BsreadMessage, only?: ReadonlySet<string>): string {
  const ts = msg.globalTimestamp;
  const shown = (name: string): boolean => only === undefined || only.size === 0 || only.has(name);
  const count = msg.channels.filter((c) => shown(c.name)).length;
  const of = count === msg.channelCount ? '' : ` of ${msg.channelCount}`;
  const lines = [`pulse_id ${msg.pulseId}  ${ts ? isoTime(ts.sec, ts.ns) : '(no timestamp)'}  ${count}${of} channels`];
  const width = Math.min(48, Math.max(8, ...msg.channels.filter((c) => shown(c.name)).map((c) => c.name.length)));
  for (let i = 0; i < msg.channelCount; i++) {
    const entry = msg.entry(i);
    if (!shown(entry.name)) continue;
    let type = '?';
    let text: string;
    try {
      const def = msg.def(i);
      type = `${def.type}${JSON.stringify(def.shape)}${def.compression === 'none' ? '' : ' ' + def.compression}`;
      text = formatValue(msg.value(i));
    } catch (e) {
      if (!(e instanceof MalformedMessageError)) throw e;
      text = `(error: ${e.message})`;
    }
    lines.push(`  ${entry.name.padEnd(width)}  ${type.padEnd(20)}  ${text}`);
  }
  return lines.join('\n');
}
