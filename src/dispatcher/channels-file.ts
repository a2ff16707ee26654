// The -c CHANNELS_FILE of the old buffer (§7.2), both generations: JSON {"channels": [...]} whose
// entries are names or {name, modulo?, offset?} objects; otherwise plain text, one channel per
// line, trimmed, with empty lines and lines starting with '#' skipped. Pure parsing plus a reader.
import { readFile } from 'node:fs/promises';
import { BsreadError, errorMessage } from '../errors.js';

export interface ChannelRequest {
  readonly name: string;
  readonly modulo?: number;
  readonly offset?: number;
}

function fail(source: string, text: string): never {
  throw new BsreadError('BSREAD_ERR_CHANNELS_FILE', `channels file ${source}: ${text}`);
}

// Control characters (NUL, tabs inside a name, escape sequences) never occur in a channel name;
// a file that has them is binary or corrupt, and must not be sent to the dispatcher as names.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

function checkName(name: string, where: string, source: string): string {
  const bad = CONTROL.exec(name);
  if (bad !== null) {
    fail(source, `${where} contains the control character U+${bad[0].charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()}; is this a text file of channel names?`);
  }
  return name;
}

function parseEntry(v: unknown, i: number, source: string): ChannelRequest {
  if (typeof v === 'string') {
    if (v.trim().length === 0) fail(source, `channel ${i + 1} has an empty name`);
    return { name: checkName(v, `channel ${i + 1}`, source) };
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    fail(source, `channel ${i + 1} must be a name or an object {"name": ..., "modulo": ..., "offset": ...}`);
  }
  const o = v as Record<string, unknown>;
  const name = o['name'];
  if (typeof name !== 'string' || name.trim().length === 0) fail(source, `channel ${i + 1} has no non-empty "name"`);
  checkName(name, `channel ${i + 1}`, source);
  const out: { name: string; modulo?: number; offset?: number } = { name };
  const modulo = o['modulo'];
  if (modulo !== undefined && modulo !== null) {
    if (typeof modulo !== 'number' || !Number.isSafeInteger(modulo) || modulo < 1) {
      fail(source, `channel ${name}: modulo must be an integer >= 1, got ${JSON.stringify(modulo)}`);
    }
    out.modulo = modulo;
  }
  const offset = o['offset'];
  if (offset !== undefined && offset !== null) {
    if (typeof offset !== 'number' || !Number.isSafeInteger(offset)) {
      fail(source, `channel ${name}: offset must be an integer, got ${JSON.stringify(offset)}`);
    }
    out.offset = offset;
  }
  return out;
}

/** Parses the text of a channels file. Throws BsreadError('BSREAD_ERR_CHANNELS_FILE') with the reason. */
export function parseChannelsFile(text: string, source = '(text)'): ChannelRequest[] {
  const trimmed = text.trim();
  let channels: ChannelRequest[];
  let json: unknown = undefined;
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      json = JSON.parse(trimmed);
    } catch (e) {
      fail(source, `looks like JSON but does not parse: ${errorMessage(e)}`);
    }
  }
  if (json !== undefined) {
    const list = Array.isArray(json) ? undefined : (json as Record<string, unknown>)['channels'];
    if (!Array.isArray(list)) fail(source, 'JSON must be an object with a "channels" array');
    channels = list.map((v, i) => parseEntry(v, i, source));
  } else {
    channels = text
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l.length > 0 && !l.startsWith('#'))
      .map((name, i) => ({ name: checkName(name, `line ${i + 1} of the channel names`, source) }));
  }
  if (channels.length === 0) fail(source, 'no channels listed');
  return channels;
}

export async function readChannelsFile(path: string): Promise<ChannelRequest[]> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new BsreadError('BSREAD_ERR_CHANNELS_FILE', `cannot read channels file ${path}: ${errorMessage(e)}`, { cause: e });
  }
  let text: string;
  try {
    // Strict decoding: a binary file must not turn into replacement characters that look like names.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    fail(path, 'is not UTF-8 text; is this a text file of channel names?');
  }
  return parseChannelsFile(text, path);
}
