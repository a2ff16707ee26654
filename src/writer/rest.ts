// The writer's REST API (§9.3), as one fastify plugin: each route turns its request into a
// WriterCommand for the AcquisitionControl it was given. Routes never touch HDF5 or ZeroMQ.
//
// Replies are the original's: {"state":"ok"|"error","status":...}. Errors are HTTP 200 with
// state "error", as the original (DAQ scripts check `state`, not the HTTP code); only unknown
// routes answer 404 (with the same JSON shape). PUT routes answer {"state":"ok","status":<what
// happened>} where the original sent an empty body.
import Fastify, { type FastifySchema, type FastifyError, type FastifyInstance, type FastifyPluginAsync, type FastifyReply, type FastifyRequest } from 'fastify';
import { BsreadError, errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { PROMETHEUS_CONTENT_TYPE } from '../prometheus-text.js';
import { MANDATORY_PARAMETERS, type AcquisitionControl, type WriterCommand } from './acquisition.js';
import { renderWriterMetrics } from './metrics.js';
import { STATUS_PAGE_HTML } from './status-page.js';

export interface WriterRestOptions {
  control: AcquisitionControl;
  log?: Logger;
}

export interface OkReply {
  state: 'ok';
  status: string;
  [extra: string]: unknown;
}
export interface ErrorReply {
  state: 'error';
  status: string;
}

const okErrorReply = {
  type: 'object',
  required: ['state', 'status'],
  properties: { state: { type: 'string', enum: ['ok', 'error'] }, status: { type: 'string' } },
  additionalProperties: true,
} as const;

const pulseIdParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', description: 'pulse id, a non-negative base-10 integer' } },
} as const;

interface RouteDoc {
  method: 'GET' | 'PUT' | 'POST';
  url: string;
  summary: string;
  schema: { params?: object; body?: object };
  /** A reply that is not the JSON {"state","status"} object: its content type. */
  produces?: string;
}

const ROUTES: RouteDoc[] = [
  { method: 'GET', url: '/status', summary: 'writer status: waiting, writing, finished or error', schema: {} },
  {
    method: 'POST',
    url: '/parameters',
    summary: `parameters stored in /general (all values strings; mandatory: ${MANDATORY_PARAMETERS.join(', ')}); only while not writing`,
    schema: {
      body: {
        type: 'object',
        additionalProperties: { type: 'string' },
        description: 'e.g. {"general/created":"2024-01-01","general/user":"p12345","general/process":"daq","general/instrument":"alvra"}',
      },
    },
  },
  { method: 'GET', url: '/statistics', summary: 'range, last pulse seen, counters of received/written/discarded/malformed/missing pulses, last error, summary', schema: {} },
  {
    method: 'PUT',
    url: '/start_pulse_id/:id',
    summary: 'start writing at this pulse id (inclusive); from the buffer, past pulses are replayed',
    schema: { params: pulseIdParams },
  },
  { method: 'PUT', url: '/stop_pulse_id/:id', summary: 'stop after this pulse id (inclusive); rows already written past it are removed', schema: { params: pulseIdParams } },
  {
    method: 'PUT',
    url: '/start_now',
    summary: 'start writing messages with global_timestamp >= now; body optional; with output_file: persistent mode (process stays up)',
    schema: { body: { type: ['object', 'null'], properties: { output_file: { type: 'string', minLength: 1 } }, additionalProperties: false } },
  },
  { method: 'PUT', url: '/stop_now', summary: 'stop after messages with global_timestamp <= now', schema: {} },
  { method: 'GET', url: '/stop', summary: 'stop receiving, write what was received, close the file, reply, exit 0', schema: {} },
  { method: 'GET', url: '/kill', summary: 'reply, then exit at once (the file keeps what was flushed, at most ~1 s old)', schema: {} },
  { method: 'GET', url: '/openapi.json', summary: 'this description', schema: {} },
  {
    method: 'GET',
    url: '/metrics',
    summary: 'Prometheus text format 0.0.4: bsread_writer_* (state, received, written, discarded, malformed by kind, missing pulse ids, rates, progress, flush time)',
    schema: {},
    produces: PROMETHEUS_CONTENT_TYPE,
  },
  {
    method: 'GET',
    url: '/',
    summary: 'status page (HTML) for operators: state, range, progress bar, rates, counts, output file, last error; refreshes itself every second',
    schema: {},
    produces: 'text/html; charset=utf-8',
  },
];

function routeDoc(method: string, url: string): RouteDoc {
  const r = ROUTES.find((x) => x.method === method && x.url === url);
  if (r === undefined) throw new Error(`no route ${method} ${url} in ROUTES`);
  return r;
}

/** The OpenAPI 3 description served at GET /openapi.json. */
export function openApiDocument(): object {
  const paths: Record<string, Record<string, object>> = {};
  for (const r of ROUTES) {
    const path = r.url.replace(/:(\w+)/g, '{$1}');
    const reply =
      r.produces === undefined
        ? {
            description: 'always HTTP 200: {"state":"ok",...} on success, {"state":"error","status":"<message>"} on any error (as the original writer)',
            content: { 'application/json': { schema: okErrorReply } },
          }
        : { description: r.summary, content: { [r.produces.split(';')[0]!]: { schema: { type: 'string' } } } };
    const op: Record<string, unknown> = { summary: r.summary, responses: { '200': reply } };
    if (r.schema.params !== undefined) {
      op['parameters'] = [{ name: 'id', in: 'path', required: true, schema: { type: 'integer', minimum: 0 } }];
    }
    if (r.schema.body !== undefined) {
      op['requestBody'] = { required: r.url === '/parameters', content: { 'application/json': { schema: r.schema.body } } };
    }
    (paths[path] ??= {})[r.method.toLowerCase()] = op;
  }
  return {
    openapi: '3.0.3',
    info: {
      title: 'sf_bsread_writer REST API',
      version: '1',
      description: 'Replies {"state":"ok"|"error","status":...}; errors are HTTP 200 with state "error"; unknown routes 404.',
    },
    paths,
  };
}

/** Parses a pulse id path segment: base-10, non-negative, safe integer. */
export function parsePulseId(text: string, what: string): number {
  if (!/^\d{1,16}$/.test(text)) {
    throw new BsreadError('BSREAD_ERR_INVALID_ARGUMENT', `${what} must be a non-negative integer, got ${JSON.stringify(text)}`);
  }
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new BsreadError('BSREAD_ERR_INVALID_ARGUMENT', `${what} ${text} is too large`);
  return n;
}

function errorText(err: FastifyError): string {
  if (err.validation !== undefined) return `invalid request ${err.validationContext ?? ''}: ${err.message}`;
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return 'request body too large';
  return errorMessage(err);
}

const writerRest: FastifyPluginAsync<WriterRestOptions> = async (app, opts) => {
  const { control } = opts;

  // Bodies: JSON whatever the content-type says (curl -d sends form-urlencoded); empty = none.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 1 << 20 }, (_req: FastifyRequest, body: string | Buffer, done: (err: Error | null, body?: unknown) => void) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') {
      done(null, null);
      return;
    }
    try {
      done(null, JSON.parse(text) as unknown);
    } catch (e) {
      done(new BsreadError('BSREAD_ERR_INVALID_ARGUMENT', `request body is not valid JSON: ${errorMessage(e)}`));
    }
  });

  app.setErrorHandler((err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    const status = errorText(err);
    if (!(err instanceof BsreadError) && err.validation === undefined && err.statusCode === undefined) {
      opts.log?.error({ err: errorMessage(err), url: req.url }, 'unexpected error in a REST handler');
    } else {
      opts.log?.warn({ url: req.url, method: req.method }, `request refused: ${status}`);
    }
    const out: ErrorReply = { state: 'error', status };
    void reply.code(200).send(out);
  });

  app.setNotFoundHandler((req: FastifyRequest, reply: FastifyReply) => {
    const known = ROUTES.map((r) => `${r.method} ${r.url.replace(':id', '<id>')}`).join(', ');
    const out: ErrorReply = { state: 'error', status: `no route ${req.method} ${req.url}; routes: ${known}` };
    void reply.code(404).send(out);
  });

  const run = async (command: WriterCommand): Promise<OkReply> => ({ state: 'ok', status: (await control.execute(command)).status });
  const doc = (url: string, method: RouteDoc['method']): { schema: FastifySchema } => {
    const r = ROUTES.find((x) => x.url === url && x.method === method)!;
    return { schema: { ...r.schema, description: r.summary, response: { 200: okErrorReply } } as FastifySchema };
  };

  app.get('/status', doc('/status', 'GET'), async (): Promise<OkReply> => ({ state: 'ok', status: control.status() }));

  app.post<{ Body: Record<string, unknown> }>('/parameters', doc('/parameters', 'POST'), async (req): Promise<OkReply> => {
    const body = req.body ?? {};
    await control.execute({ kind: 'set_parameters', parameters: body });
    return { state: 'ok', status: control.status(), parameters: control.parameters() };
  });

  app.get('/statistics', { schema: { description: routeDoc('GET', '/statistics').summary } as FastifySchema }, async (): Promise<OkReply> => ({
    state: 'ok',
    status: control.status(),
    statistics: control.statistics(),
  }));

  app.put<{ Params: { id: string } }>('/start_pulse_id/:id', doc('/start_pulse_id/:id', 'PUT'), (req) =>
    run({ kind: 'start_pulse_id', pulseId: parsePulseId(req.params.id, 'start_pulse_id') }),
  );
  app.put<{ Params: { id: string } }>('/stop_pulse_id/:id', doc('/stop_pulse_id/:id', 'PUT'), (req) =>
    run({ kind: 'stop_pulse_id', pulseId: parsePulseId(req.params.id, 'stop_pulse_id') }),
  );
  app.put<{ Body: { output_file?: string } | null }>('/start_now', doc('/start_now', 'PUT'), (req) => run({ kind: 'start_now', outputFile: req.body?.output_file ?? null }));
  app.put('/stop_now', doc('/stop_now', 'PUT'), () => run({ kind: 'stop_now' }));

  app.get('/stop', doc('/stop', 'GET'), async (): Promise<OkReply> => {
    const r = await control.shutdown('GET /stop');
    return { state: 'ok', status: r.status };
  });

  app.get('/kill', doc('/kill', 'GET'), async (_req, reply): Promise<OkReply> => {
    let killed = false;
    const killOnce = (): void => {
      if (killed) return;
      killed = true;
      control.kill();
    };
    // Exit only once the reply is out (or the client has gone).
    reply.raw.once('finish', killOnce);
    reply.raw.once('close', killOnce);
    return { state: 'ok', status: 'killed: exiting now without closing the file (it holds what was flushed, at most ~1 s old)' };
  });

  app.get('/openapi.json', { schema: { description: 'OpenAPI description' } as FastifySchema }, async () => openApiDocument());

  app.get('/metrics', { schema: { description: routeDoc('GET', '/metrics').summary } as FastifySchema }, async (_req, reply) => {
    void reply.header('content-type', PROMETHEUS_CONTENT_TYPE);
    return renderWriterMetrics(control.status(), control.statistics());
  });

  app.get('/', { schema: { description: routeDoc('GET', '/').summary } as FastifySchema }, async (_req, reply) => {
    void reply.header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store');
    return STATUS_PAGE_HTML;
  });
};

// Like fastify-plugin: the routes, parsers and handlers apply to the instance registering it.
(writerRest as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;

export const writerRestPlugin = writerRest;

/**
 * The writer's REST app, not listening yet (tests use inject()). Types are not coerced
 * (a number is not a string parameter) and unknown keys are not silently removed.
 */
export async function buildWriterApp(opts: WriterRestOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: true } },
  });
  await app.register(writerRestPlugin, opts);
  await app.ready();
  return app;
}
