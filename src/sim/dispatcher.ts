// An embedded dispatcher (protocol §7.1): the parts of PSI's dispatcher REST API that the buffer
// and bsread_python use. POST /stream starts a simulated stream of exactly the requested channels
// (values from the catalogue profile, so they are predictMessage's values), DELETE /stream stops
// it, GET /channels/live and GET /streams list. One fastify app; tests use it in-process.
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { BsreadError, errorMessage } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import type { ChannelRequest } from '../dispatcher/channels-file.js';
import type { ChannelDef } from '../bsread/index.js';
import { buildProfile, defaultChannelSpecs, selectChannels, type SimProfile } from './profile.js';
import { definitionAt, pulseIdAt } from './values.js';
import { Simulator } from './simulator.js';

export type StreamType = 'pub_sub' | 'push_pull';

export interface DispatcherOptions {
  /** Channels that exist (default: the built-in catalogue, camera included). */
  readonly catalogue?: SimProfile;
  /** Messages per second of every stream (default: the catalogue's rate, 100). */
  readonly rate?: number;
  /** Interface the streams bind on (default 127.0.0.1). */
  readonly streamHost?: string;
  readonly log?: Logger;
}

export interface StreamInfo {
  readonly stream: string;
  readonly streamType: StreamType;
  readonly channels: readonly string[];
  readonly sent: number;
  readonly firstPulseId: number;
}

interface ActiveStream {
  readonly sim: Simulator;
  readonly streamType: StreamType;
  readonly profile: SimProfile;
}

type ChannelEntry = string | { name: string; modulo?: number; offset?: number };

interface StreamRequestBody {
  channels: ChannelEntry[];
  streamType?: StreamType;
  verify?: boolean;
  compression?: string;
}

const streamBodySchema = {
  type: 'object',
  required: ['channels'],
  properties: {
    channels: {
      type: 'array',
      minItems: 1,
      maxItems: 10000,
      items: {
        anyOf: [
          { type: 'string', minLength: 1, maxLength: 256 },
          {
            type: 'object',
            required: ['name'],
            properties: {
              name: { type: 'string', minLength: 1, maxLength: 256 },
              modulo: { type: 'integer', minimum: 1, maximum: 1000000000 },
              offset: { type: 'integer', minimum: 0, maximum: 1000000000 },
            },
          },
        ],
      },
    },
    streamType: { type: 'string', enum: ['pub_sub', 'push_pull'] },
    verify: { type: 'boolean' },
    channelValidation: { type: 'object' },
    compression: { type: 'string', enum: ['none', 'bitshuffle_lz4', 'lz4'] },
  },
} as const;

/** The backend name GET /channels/live reports, as the real SwissFEL dispatcher's. */
export const LIVE_BACKEND = 'sf-databuffer';

/**
 * A channel as the real dispatcher lists it in GET /channels/live: type, shape, modulo and offset
 * of its current definition; `source` is the name of the (simulated) IOC, the device part of the
 * channel name before the first ':'. It is not an address: the embedded dispatcher's streams
 * come only from POST /stream.
 */
export function liveChannelOf(def: ChannelDef): { name: string; type: string; shape: number[]; modulo: number; offset: number; source: string } {
  const colon = def.name.indexOf(':');
  return { name: def.name, type: def.type, shape: [...def.shape], modulo: def.modulo, offset: def.offset, source: colon > 0 ? def.name.slice(0, colon) : def.name };
}

function httpError(reply: FastifyReply, status: number, message: string, extra: Record<string, unknown> = {}): FastifyReply {
  const error = status === 404 ? 'Not Found' : status === 400 ? 'Bad Request' : 'Internal Server Error';
  return reply.code(status).send({ statusCode: status, error, message, ...extra });
}

export class SimDispatcher {
  readonly app: FastifyInstance;
  readonly catalogue: SimProfile;
  private readonly streams = new Map<string, ActiveStream>();
  private readonly log: Logger;
  private readonly rate: number;
  private readonly streamHost: string;
  private closing = false;

  constructor(opts: DispatcherOptions = {}) {
    this.catalogue = opts.catalogue ?? buildProfile({ channels: defaultChannelSpecs({ camera: true }) }, 'catalogue');
    this.rate = opts.rate ?? this.catalogue.rate;
    this.streamHost = opts.streamHost ?? '127.0.0.1';
    this.log = opts.log ?? silentLogger();
    this.app = Fastify({ logger: false, bodyLimit: 4 * 1024 * 1024 });
    this.routes();
  }

  /** Listens on host:port (port 0: a free one) and returns the base URL, e.g. http://127.0.0.1:8080. */
  async start(opts: { port?: number; host?: string } = {}): Promise<string> {
    const host = opts.host ?? '127.0.0.1';
    await this.app.listen({ port: opts.port ?? 0, host });
    const addr = this.app.server.address();
    const port = typeof addr === 'object' && addr !== null ? addr.port : (opts.port ?? 0);
    return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  }

  /** What GET /streams shows. */
  listStreams(): StreamInfo[] {
    return [...this.streams.entries()].map(([stream, s]) => ({
      stream,
      streamType: s.streamType,
      channels: s.profile.channels.map((c) => c.name),
      sent: s.sim.stats().sent,
      firstPulseId: s.sim.firstPulseId,
    }));
  }

  /** Starts a stream of exactly these channels; throws BSREAD_ERR_INVALID_ARGUMENT for unknown channels. */
  async openStream(channels: readonly ChannelRequest[], streamType: StreamType = 'pub_sub', forceUncompressed = false): Promise<{ stream: string; profile: SimProfile }> {
    if (this.closing) throw new BsreadError('BSREAD_ERR_INVALID_STATE', 'the dispatcher is shutting down', { httpStatus: 503 });
    const profile = selectChannels(this.catalogue, channels, { unknown: 'error', forceUncompressed });
    const sim = await Simulator.start({
      profile,
      address: `tcp://${this.streamHost}:0`,
      mode: streamType === 'pub_sub' ? 'pub' : 'push',
      rate: this.rate,
      skipWhenNoneDue: true,
      log: this.log,
    });
    this.streams.set(sim.endpoint, { sim, streamType, profile });
    sim.done.catch((e: unknown) => this.log.error({ err: e, stream: sim.endpoint }, `stream ${sim.endpoint} failed: ${errorMessage(e)}`));
    this.log.info({ stream: sim.endpoint, streamType, channels: profile.channels.length }, `stream ${sim.endpoint} opened`);
    return { stream: sim.endpoint, profile };
  }

  /** Stops a stream; false when there is no such stream. */
  async closeStream(stream: string): Promise<boolean> {
    const s = this.streams.get(stream);
    if (s === undefined) return false;
    this.streams.delete(stream);
    await s.sim.stop();
    this.log.info({ stream }, `stream ${stream} closed`);
    return true;
  }

  /** Stops every stream and the HTTP server. Idempotent. */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all([...this.streams.keys()].map((k) => this.closeStream(k)));
    await this.app.close();
  }

  private routes(): void {
    const app = this.app;

    app.post<{ Body: StreamRequestBody }>('/stream', { schema: { body: streamBodySchema } }, async (req, reply) => {
      const body = req.body;
      const requests: ChannelRequest[] = body.channels.map((c) =>
        typeof c === 'string' ? { name: c } : { name: c.name, ...(c.modulo !== undefined ? { modulo: c.modulo } : {}), ...(c.offset !== undefined ? { offset: c.offset } : {}) },
      );
      const known = new Set(this.catalogue.channels.map((c) => c.name));
      const unknown = requests.map((r) => r.name).filter((n) => !known.has(n));
      if (unknown.length > 0) {
        return httpError(reply, 400, `Unknown channels: ${unknown.join(', ')}`, { unknownChannels: unknown });
      }
      const streamType = body.streamType ?? 'pub_sub';
      let opened: { stream: string; profile: SimProfile };
      try {
        opened = await this.openStream(requests, streamType, body.compression === 'none');
      } catch (e) {
        const status = e instanceof BsreadError ? e.httpStatus : 500;
        return httpError(reply, status, errorMessage(e));
      }
      const configuration = {
        streamType,
        compression: body.compression ?? null,
        channels: opened.profile.channels.map((c) => {
          const d = c.segments[0]!.def;
          return { name: d.name, type: d.type, shape: [...d.shape], encoding: d.encoding, compression: d.compression, modulo: d.modulo, offset: d.offset };
        }),
      };
      return reply.send({ stream: opened.stream, configuration });
    });

    app.delete<{ Body: unknown }>('/stream', async (req, reply) => {
      let stream: unknown = req.body;
      if (typeof stream === 'object' && stream !== null && 'stream' in stream) stream = (stream as { stream: unknown }).stream;
      if (typeof stream !== 'string' || stream.trim() === '') {
        return httpError(reply, 400, 'body must be the stream address (text/plain), e.g. tcp://127.0.0.1:40000');
      }
      const address = stream.trim();
      if (!(await this.closeStream(address))) return httpError(reply, 404, `no stream ${address}`);
      return reply.send({ stream: address, deleted: true });
    });

    app.get('/streams', async () => this.listStreams());

    app.get('/channels/live', async () => {
      // A profile may change a channel's definition over time: list the one in force now.
      const now = pulseIdAt(Date.now());
      return [{ backend: LIVE_BACKEND, channels: this.catalogue.channels.map((_c, i) => liveChannelOf(definitionAt(this.catalogue, i, now))) }];
    });
  }
}
