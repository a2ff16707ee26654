// The dispatcher REST client (§7.1): request a stream for a channel list, delete it on exit,
// list the live channels. Node's global fetch with a timeout; every failure becomes
// BsreadError('BSREAD_ERR_DISPATCHER').
import { BsreadError, errorMessage } from '../errors.js';
import { parseStreamAddress } from '../transport/index.js';
import type { ChannelRequest } from './channels-file.js';
import { parseLiveChannels, type LiveChannel } from './live-channels.js';

export const DEFAULT_DISPATCHER_URL = 'https://dispatcher-api.psi.ch/sf-databuffer';

/** The environment variable `bsread` reads the dispatcher's base URL from when --base_url is not given. */
export const DISPATCHER_URL_ENV = 'BSREAD_DISPATCHER_URL';

/** The base URL to use: the option, else $BSREAD_DISPATCHER_URL (when not empty), else the default. */
export function resolveDispatcherUrl(option: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (option !== undefined) return option;
  const fromEnv = env[DISPATCHER_URL_ENV]?.trim();
  return fromEnv ? fromEnv : DEFAULT_DISPATCHER_URL;
}

export type StreamType = 'pub_sub' | 'push_pull';

export interface StreamRequestOptions {
  streamType?: StreamType;
  /** Default true; false also sets channelValidation.inconsistency to keep-as-is (as BP does). */
  verify?: boolean;
}

/** The body of POST {base}/stream (exported for tests). */
export function streamRequestBody(channels: readonly ChannelRequest[], opts: StreamRequestOptions = {}): Record<string, unknown> {
  const verify = opts.verify ?? true;
  return {
    channels: channels.map((c) => ({ name: c.name, ...(c.modulo !== undefined ? { modulo: c.modulo } : {}), ...(c.offset !== undefined ? { offset: c.offset } : {}) })),
    streamType: opts.streamType ?? 'pub_sub',
    verify,
    channelValidation: { inconsistency: verify ? 'adjust-individual' : 'keep-as-is' },
  };
}

export class DispatcherClient {
  readonly baseUrl: string;

  constructor(
    baseUrl: string = DEFAULT_DISPATCHER_URL,
    private readonly timeoutMs = 10_000,
  ) {
    let u: URL;
    try {
      u = new URL(baseUrl);
    } catch {
      throw new BsreadError('BSREAD_ERR_INVALID_ARGUMENT', `dispatcher URL "${baseUrl}" is not a URL`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      throw new BsreadError('BSREAD_ERR_INVALID_ARGUMENT', `dispatcher URL "${baseUrl}" must be http:// or https://`);
    }
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  private async call(method: string, path: string, body?: { text: string; contentType: string }): Promise<{ status: number; text: string; contentType: string }> {
    const url = `${this.baseUrl}${path}`;
    let res: Response;
    try {
      const init: RequestInit = body === undefined ? { method } : { method, headers: { 'content-type': body.contentType }, body: body.text };
      res = await fetch(url, { ...init, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (e) {
      const cause = (e as { cause?: unknown }).cause;
      const why = (e as Error).name === 'TimeoutError' ? `no reply within ${this.timeoutMs} ms` : cause !== undefined ? errorMessage(cause) : errorMessage(e);
      throw new BsreadError('BSREAD_ERR_DISPATCHER', `dispatcher ${method} ${url} failed: ${why}`, { cause: e });
    }
    let text: string;
    try {
      text = await res.text();
    } catch (e) {
      throw new BsreadError('BSREAD_ERR_DISPATCHER', `dispatcher ${method} ${url}: reading the reply failed: ${errorMessage(e)}`, { cause: e });
    }
    return { status: res.status, text, contentType: res.headers.get('content-type') ?? '' };
  }

  /** POST {base}/stream; returns the stream address (tcp://host:port) to connect to. */
  async requestStream(channels: readonly ChannelRequest[], opts: StreamRequestOptions = {}): Promise<string> {
    const url = `${this.baseUrl}/stream`;
    const { status, text } = await this.call('POST', '/stream', { text: JSON.stringify(streamRequestBody(channels, opts)), contentType: 'application/json' });
    if (status >= 400) {
      throw new BsreadError('BSREAD_ERR_DISPATCHER', `dispatcher POST ${url} refused the stream: HTTP ${status}: ${text.slice(0, 500)}`);
    }
    let reply: unknown;
    try {
      reply = JSON.parse(text);
    } catch {
      throw new BsreadError('BSREAD_ERR_DISPATCHER', `dispatcher POST ${url} replied with something that is not JSON: ${text.slice(0, 200)}`);
    }
    const stream = typeof reply === 'object' && reply !== null ? (reply as Record<string, unknown>)['stream'] : undefined;
    if (typeof stream !== 'string') {
      throw new BsreadError('BSREAD_ERR_DISPATCHER', `dispatcher POST ${url} replied without a "stream" address: ${text.slice(0, 200)}`);
    }
    try {
      const a = parseStreamAddress(stream, 'dispatcher stream address');
      if (!('host' in a)) throw new Error('not tcp');
    } catch {
      throw new BsreadError('BSREAD_ERR_DISPATCHER', `dispatcher POST ${url} replied with stream "${stream}", not a tcp://HOST:PORT address`);
    }
    return stream;
  }

  /** DELETE {base}/stream with the address as text body. */
  async deleteStream(stream: string): Promise<void> {
    const { status, text } = await this.call('DELETE', '/stream', { text: stream, contentType: 'text/plain' });
    if (status >= 400) {
      throw new BsreadError('BSREAD_ERR_DISPATCHER', `dispatcher DELETE ${this.baseUrl}/stream for ${stream}: HTTP ${status}: ${text.slice(0, 300)}`);
    }
  }

  /** GET {base}/channels/live: every live channel of every backend, checked (see live-channels.ts). */
  async liveChannels(): Promise<LiveChannel[]> {
    const url = `${this.baseUrl}/channels/live`;
    const { status, text, contentType } = await this.call('GET', '/channels/live');
    if (status >= 400) {
      throw new BsreadError('BSREAD_ERR_DISPATCHER', `dispatcher GET ${url} failed: HTTP ${status}: ${oneLine(text, 300)}`);
    }
    let reply: unknown;
    try {
      reply = JSON.parse(text);
    } catch {
      const kind = contentType ? ` (${contentType.split(';')[0]})` : '';
      throw new BsreadError('BSREAD_ERR_DISPATCHER', `dispatcher GET ${url} replied with something that is not JSON${kind}: ${oneLine(text, 200)}`);
    }
    return parseLiveChannels(reply, url);
  }
}

/** A reply's start for an error message: whitespace runs folded, cut at `max` characters. */
function oneLine(text: string, max: number): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max)}...` : t === '' ? '(empty body)' : t;
}
