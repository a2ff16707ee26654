// The buffer's HTTP status: GET /status (JSON) and GET /metrics (Prometheus text).
import Fastify, { type FastifyInstance } from 'fastify';
import { BsreadError, errorMessage } from '../errors.js';
import type { BufferStatus } from './buffer-service.js';
import { renderMetrics } from './metrics.js';

/** The routes as a fastify app (not listening); tests use inject(). */
export function buildStatusApp(status: () => BufferStatus): FastifyInstance {
  const app = Fastify({ logger: false });
  app.get('/status', { schema: { response: { 200: { type: 'object', additionalProperties: true } } } }, async () => status());
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', 'text/plain; version=0.0.4; charset=utf-8');
    return renderMetrics(status());
  });
  return app;
}

export async function startStatusServer(status: () => BufferStatus, host: string, port: number): Promise<FastifyInstance> {
  const app = buildStatusApp(status);
  try {
    await app.listen({ host, port });
  } catch (e) {
    await app.close();
    throw new BsreadError('BSREAD_ERR_TRANSPORT', `cannot listen for HTTP status on ${host}:${port}: ${errorMessage(e)}`, { cause: e });
  }
  return app;
}
