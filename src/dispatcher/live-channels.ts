// The reply of the dispatcher's GET {base}/channels/live, checked and typed. The real dispatcher
// answers a list of backends, each with its channels as objects
//   [{"backend": "sf-databuffer", "channels": [{"name", "type", "shape", "modulo", "offset", "source"}, ...]}]
// older servers (and our embedded dispatcher before) gave the channels as bare name strings.
// Both are accepted; a field that is absent or of another type is left out (printed as "-").
import { BsreadError } from '../errors.js';

export interface LiveChannel {
  readonly backend: string | undefined;
  readonly name: string;
  readonly type: string | undefined;
  readonly shape: readonly number[] | undefined;
  readonly modulo: number | undefined;
  readonly offset: number | undefined;
  /** Where the dispatcher takes the channel from: an IOC's stream address or name. */
  readonly source: string | undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const int = (v: unknown): number | undefined => (typeof v === 'number' && Number.isSafeInteger(v) ? v : undefined);

function shapeOf(v: unknown): readonly number[] | undefined {
  if (Array.isArray(v) && v.every((x) => int(x) !== undefined && (x as number) >= 0)) return v as number[];
  // Some servers give a scalar's shape as a bare number.
  const n = int(v);
  return n !== undefined && n >= 0 ? [n] : undefined;
}

function shapeError(url: string, where: string, what: string): BsreadError {
  return new BsreadError(
    'BSREAD_ERR_DISPATCHER',
    `dispatcher GET ${url}: the reply is not a list of backends with their channels ` + `([{"backend": ..., "channels": [{"name": ...}, ...]}]): ${where} ${what}`,
  );
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  const text = JSON.stringify(v);
  return `${typeof v} ${text.length > 60 ? text.slice(0, 60) + '...' : text}`;
}

/**
 * Checks and flattens a parsed /channels/live reply, in the server's order. Throws
 * BsreadError('BSREAD_ERR_DISPATCHER') naming `url` and the first place that does not fit.
 */
export function parseLiveChannels(reply: unknown, url: string): LiveChannel[] {
  if (!Array.isArray(reply)) throw shapeError(url, 'the reply is', describe(reply));
  const out: LiveChannel[] = [];
  reply.forEach((b: unknown, bi) => {
    if (!isObject(b)) throw shapeError(url, `backend [${bi}] is`, describe(b));
    const channels = b['channels'];
    if (!Array.isArray(channels)) throw shapeError(url, `backend [${bi}] has "channels"`, channels === undefined ? 'missing' : `as ${describe(channels)}`);
    const backend = str(b['backend']);
    channels.forEach((c: unknown, ci) => {
      if (typeof c === 'string' && c !== '') {
        out.push({ backend, name: c, type: undefined, shape: undefined, modulo: undefined, offset: undefined, source: undefined });
        return;
      }
      if (!isObject(c) || typeof c['name'] !== 'string' || c['name'] === '') {
        throw shapeError(url, `channel [${ci}] of backend [${bi}] is`, isObject(c) ? 'an object without a "name" string' : describe(c));
      }
      out.push({
        backend,
        name: c['name'],
        type: str(c['type']),
        shape: shapeOf(c['shape']),
        modulo: int(c['modulo']),
        offset: int(c['offset']),
        source: str(c['source']),
      });
    });
  });
  return out;
}
