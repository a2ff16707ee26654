// Where the recent past lives in NATS JetStream, as users write it:
//   writer:  nats://HOST:PORT[,HOST:PORT...]/NAME   (a stream address)
//   buffer:  --jetstream nats://HOST:PORT[,nats://HOST:PORT...]  --jetstream_stream NAME
// Pure: parsing and checking only.
import { BsreadError } from '../errors.js';

export interface JetStreamAddress {
  /** host:port of every server given, in order (the client picks any and fails over). */
  readonly servers: readonly string[];
  readonly stream: string;
}

/** NATS stream names may not hold '.', '*', '>', whitespace or path separators; we also keep them short and plain. */
const STREAM_NAME = /^[A-Za-z0-9_-]{1,64}$/;

function invalid(message: string): BsreadError {
  return new BsreadError('BSREAD_ERR_INVALID_ARGUMENT', message);
}

export function isNatsAddress(address: string): boolean {
  return address.startsWith('nats://');
}

export function checkStreamName(name: string, what = 'the stream name'): string {
  if (!STREAM_NAME.test(name)) {
    throw invalid(`${what} ${JSON.stringify(name)} is not usable: use 1 to 64 letters, digits, '_' or '-'`);
  }
  return name;
}

function parseServer(item: string, what: string): string {
  const s = item.trim().replace(/^nats:\/\//, '');
  const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(s);
  if (m === null) throw invalid(`${what}: ${JSON.stringify(item)} is not HOST:PORT`);
  const port = Number(m[2]);
  if (port < 1 || port > 65535) throw invalid(`${what}: port ${port} in ${JSON.stringify(item)} is out of range 1..65535`);
  return `${m[1]}:${port}`;
}

/** A comma-separated server list, each `nats://HOST:PORT` or `HOST:PORT`. */
export function parseServerList(list: string, what = '--jetstream'): string[] {
  if (!list.startsWith('nats://')) throw invalid(`${what} ${JSON.stringify(list)} must start with nats://`);
  const items = list.split(',');
  if (items.some((i) => i.trim() === '')) throw invalid(`${what} ${JSON.stringify(list)} has an empty server`);
  return items.map((i) => parseServer(i, what));
}

/** `nats://HOST:PORT[,HOST:PORT...]/NAME`: the servers and the stream. */
export function parseJetStreamAddress(address: string, what = 'stream_address'): JetStreamAddress {
  if (!isNatsAddress(address)) throw invalid(`${what} ${JSON.stringify(address)} must start with nats://`);
  const slash = address.lastIndexOf('/');
  if (slash < 'nats://'.length || address.endsWith(':') || /:\d+$/.test(address))
    throw invalid(`${what} ${JSON.stringify(address)} names no stream: write nats://HOST:PORT/STREAM`);
  const servers = parseServerList(address.slice(0, slash), what);
  const stream = checkStreamName(address.slice(slash + 1), `${what}: the stream name`);
  return { servers, stream };
}

/** The subject a buffer publishes a stream's messages on. */
export function subjectOf(stream: string): string {
  return `bsread.${stream}`;
}
