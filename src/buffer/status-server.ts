// The buffer's HTTP status: GET / (the status page), GET /status (JSON), GET /history (the last
// minutes of rate and depth, for the page's chart) and GET /metrics (Prometheus text).
import Fastify, { type FastifyInstance } from 'fastify';
import { BsreadError, errorMessage } from '../errors.js';
import type { BufferStatus } from './buffer-service.js';
import { renderMetrics } from './metrics.js';
import type { HistorySample } from './status-history.js';
import { STATUS_PAGE_HTML } from './status-page.js';

/** What the routes read. A bare function is the status alone (no history: /history is empty). */
export interface StatusSource {
  status(): BufferStatus;
  /** Samples oldest first; with sinceMs only those taken after it. */
  history(sinceMs?: number): HistorySample[];
}

/** The body of GET /history. */
export interface HistoryReply {
  /** Seconds between samples. */
  interval_s: number;
  samples: HistorySample[];
}

const historyQuerySchema = {
  type: 'object',
  properties: { since: { type: 'number', minimum: 0 } },
  additionalProperties: false,
} as const;

/** The routes as a fastify app (not listening); tests use inject(). */
export function buildStatusApp(source: StatusSource | (() => BufferStatus)): FastifyInstance {
  const src: StatusSource = typeof source === 'function' ? { status: source, history: () => [] } : source;
  const app = Fastify({ logger: false });
  app.get('/', async (_req, reply) => {
    reply.header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store');
    return STATUS_PAGE_HTML;
  });
  app.get('/status', { schema: { response: { 200: { type: 'object', additionalProperties: true } } } }, async () => src.status());
  app.get<{ Querystring: { since?: number } }>('/history', { schema: { querystring: historyQuerySchema } }, async (req): Promise<HistoryReply> => {
    return { interval_s: 1, samples: src.history(req.query.since) };
  });
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', 'text/plain; version=0.0.4; charset=utf-8');
    return renderMetrics(src.status());
  });
  return app;
}

export async function startStatusServer(source: StatusSource | (() => BufferStatus), host: string, port: number): Promise<FastifyInstance> {
  const app = buildStatusApp(source);
  try {
    await app.listen({ host, port });
  } catch (e) {
    await app.close();
    throw new BsreadError('BSREAD_ERR_TRANSPORT', `cannot listen for HTTP status on ${host}:${port}: ${errorMessage(e)}`, { cause: e });
  }
  return app;
}
