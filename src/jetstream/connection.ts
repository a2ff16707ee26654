// The one place that talks to NATS: a connection with JetStream on it, and the stream a buffer
// publishes into. The client reconnects by itself (to any server of the list); `connected`
// follows its status events so the buffer and writer can report it.
import { connect, headers, nanos, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import { DiscardPolicy, JetStreamApiError, jetstream, jetstreamManager, StorageType, type JetStreamClient, type JetStreamManager, type StreamInfo } from '@nats-io/jetstream';
import { BsreadError, errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { readPartHeaders } from './record.js';

export type StoredPart = { readonly pulseId: number; readonly part: number; readonly parts: number };

/** JetStream's "stream not found" API error code. */
const STREAM_NOT_FOUND = 10059;

export interface JetStreamConnectOptions {
  servers: readonly string[];
  /** Shown in the server's connection list. */
  name: string;
  log: Logger;
  /** How long the first connection may take (ms). */
  timeoutMs?: number;
}

export class JetStreamConnection {
  connected = true;
  /** Times the client lost its server. */
  disconnects = 0;
  private closed = false;

  private constructor(
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    private readonly log: Logger,
  ) {
    void this.followStatus();
  }

  /** Throws BsreadError BSREAD_ERR_JETSTREAM when no server of the list answers. */
  static async open(opts: JetStreamConnectOptions): Promise<JetStreamConnection> {
    let nc: NatsConnection;
    try {
      nc = await connect({
        servers: [...opts.servers],
        name: opts.name,
        timeout: opts.timeoutMs ?? 5000,
        // Never give up: the buffer keeps its ring and the writer its place while a server is away.
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
        // Notice a dead server in seconds, not minutes (the client default).
        pingInterval: 2000,
        maxPingOut: 3,
        // The client otherwise builds an Error (a stack trace) for every request and publish, in
        // case it fails: 7 % of the buffer's samples in the camera run. Our errors say what failed.
        noAsyncTraces: true,
      });
    } catch (e) {
      throw new BsreadError('BSREAD_ERR_JETSTREAM', `cannot reach a NATS server at ${opts.servers.join(', ')}: ${errorMessage(e)}`, { cause: e });
    }
    // No API check here: a cluster still electing its leader answers later, and the first real
    // request (stream lookup) says what is wrong.
    const jsm = await jetstreamManager(nc, { timeout: 5000, checkAPI: false });
    return new JetStreamConnection(nc, jetstream(nc, { timeout: 5000 }), jsm, opts.log);
  }

  private async followStatus(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (s.type === 'disconnect') {
        this.connected = false;
        this.disconnects++;
        this.log.warn({ server: s.server }, 'lost the NATS server; reconnecting');
      } else if (s.type === 'reconnect') {
        this.connected = true;
        this.log.info({ server: s.server }, 'reconnected to NATS');
      }
    }
  }

  /** The server's largest message (headers included). */
  get maxPayload(): number {
    return this.nc.info?.max_payload ?? 1024 * 1024;
  }

  /** Pulse id and part of the message stored at `seq`; null when it holds none (or no readable headers). */
  async storedPartAt(stream: string, seq: number): Promise<StoredPart | null> {
    const m = await this.jsm.streams.getMessage(stream, { seq });
    if (m === null) return null;
    const h = readPartHeaders((k) => m.header.get(k) || undefined);
    return typeof h === 'string' ? null : h;
  }

  get server(): string {
    return this.nc.getServer();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.connected = false;
    try {
      await this.nc.close();
    } catch {
      // closing anyway
    }
  }
}

export function makeHeaders(pairs: readonly [string, string][]): MsgHdrs {
  const h = headers();
  for (const [k, v] of pairs) h.set(k, v);
  return h;
}

export function isStreamNotFound(e: unknown): boolean {
  return e instanceof JetStreamApiError && e.code === STREAM_NOT_FOUND;
}

/**
 * The server's answer about the stream or its settings, which retrying cannot change (as opposed
 * to a lost connection, a timeout, or a cluster that is electing a leader or missing peers for
 * a moment).
 */
export function isLastingRefusal(e: unknown): boolean {
  if (!(e instanceof JetStreamApiError)) return false;
  if (e.status === 503) return false;
  return !/temporarily unavailable|insufficient resources|no suitable peers|not current/i.test(e.message);
}

/** What the buffer asks of its stream. */
export interface StreamSettings {
  name: string;
  subject: string;
  /** null: no age limit. */
  maxAgeMs: number | null;
  /** null: no byte limit. */
  maxBytes: number | null;
  replicas: number;
  /** How long JetStream remembers message ids (redundant buffers store each pulse once). */
  duplicateWindowMs: number;
}

export interface StreamCheck {
  readonly info: StreamInfo;
  readonly created: boolean;
  /** Settings of an existing stream that differ from the ones asked for (kept as they are). */
  readonly differences: string[];
}

function describe(s: StreamSettings): string {
  return `replicas ${s.replicas}, max_age ${s.maxAgeMs === null ? 'none' : `${s.maxAgeMs / 1000} s`}, max_bytes ${s.maxBytes ?? 'none'}`;
}

/**
 * Creates the stream if it is missing (file storage, discard old), or checks that an existing one
 * can take our messages. An existing stream is never recreated, changed or purged: differing
 * limits are reported and kept. Throws BsreadError BSREAD_ERR_JETSTREAM with the server's reason
 * when the stream cannot be created or used.
 */
export async function ensureStream(jsm: JetStreamManager, want: StreamSettings, partBytes: number): Promise<StreamCheck> {
  let info: StreamInfo | null = null;
  try {
    info = await jsm.streams.info(want.name);
  } catch (e) {
    if (!isStreamNotFound(e)) throw new BsreadError('BSREAD_ERR_JETSTREAM', `cannot look up JetStream stream ${want.name}: ${errorMessage(e)}`, { cause: e });
  }
  if (info === null) {
    const window = want.maxAgeMs === null ? want.duplicateWindowMs : Math.min(want.duplicateWindowMs, want.maxAgeMs);
    try {
      info = await jsm.streams.add({
        name: want.name,
        subjects: [want.subject],
        storage: StorageType.File,
        discard: DiscardPolicy.Old,
        max_age: want.maxAgeMs === null ? 0 : nanos(want.maxAgeMs),
        max_bytes: want.maxBytes ?? -1,
        num_replicas: want.replicas,
        duplicate_window: nanos(window),
        allow_direct: true,
      });
    } catch (e) {
      throw new BsreadError('BSREAD_ERR_JETSTREAM', `cannot create JetStream stream ${want.name} (${describe(want)}): the server says: ${errorMessage(e)}`, { cause: e });
    }
    return { info, created: true, differences: [] };
  }
  const c = info.config;
  if (!(c.subjects ?? []).includes(want.subject)) {
    throw new BsreadError(
      'BSREAD_ERR_JETSTREAM',
      `JetStream stream ${want.name} exists but does not take subject ${want.subject} (its subjects: ${(c.subjects ?? []).join(', ') || 'none'}); choose another --jetstream_stream`,
    );
  }
  if (c.max_msg_size !== undefined && c.max_msg_size > 0 && c.max_msg_size < partBytes + 1024) {
    throw new BsreadError('BSREAD_ERR_JETSTREAM', `JetStream stream ${want.name} takes messages of at most ${c.max_msg_size} bytes; it must take ${partBytes + 1024}`);
  }
  const differences: string[] = [];
  const age = c.max_age > 0 ? c.max_age / 1e6 : null;
  if (age !== want.maxAgeMs) differences.push(`max_age ${age === null ? 'none' : `${age / 1000} s`} (asked ${want.maxAgeMs === null ? 'none' : `${want.maxAgeMs / 1000} s`})`);
  const bytes = c.max_bytes > 0 ? c.max_bytes : null;
  if (bytes !== want.maxBytes) differences.push(`max_bytes ${bytes ?? 'none'} (asked ${want.maxBytes ?? 'none'})`);
  if (c.num_replicas !== want.replicas) differences.push(`replicas ${c.num_replicas} (asked ${want.replicas})`);
  if (c.storage !== StorageType.File) differences.push(`storage ${c.storage} (asked file)`);
  return { info, created: false, differences };
}
