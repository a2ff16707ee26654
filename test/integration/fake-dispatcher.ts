// A stand-in for PSI's dispatcher in the tests: a real HTTP server on 127.0.0.1 that records
// every request and answers what the test says, so tests can check what `bsread` sends
// (POST and DELETE bodies) and how it copes with what a real or a broken server replies.
import { createServer, type Server } from 'node:http';

export interface SeenRequest {
  method: string;
  /** Path and query, e.g. /sf-databuffer/stream. */
  url: string;
  contentType: string;
  body: string;
}

export interface FakeReply {
  status?: number;
  contentType?: string;
  body: string;
}

export type FakeHandler = (req: SeenRequest) => FakeReply;

export const json = (value: unknown, status = 200): FakeReply => ({ status, contentType: 'application/json', body: JSON.stringify(value) });

/** The real dispatcher's /channels/live: two backends, channels as objects with every field. */
export const REAL_LIVE_REPLY = [
  {
    backend: 'sf-databuffer',
    channels: [
      { name: 'SINEG01-DBPM340:X1', type: 'float64', shape: [1], modulo: 1, offset: 0, source: 'tcp://sf-dbpm-ioc-340:9999' },
      { name: 'S10BC01-DBPM410:Y1', type: 'float32', shape: [1], modulo: 10, offset: 0, source: 'tcp://sf-dbpm-ioc-410:9999' },
      { name: 'SARFE10-PBPG050:HAMP-INTENSITY-CAL', type: 'float64', shape: [1], modulo: 1, offset: 0, source: 'tcp://sarfe10-cpcl-pbpg050:9999' },
    ],
  },
  {
    backend: 'sf-imagebuffer',
    channels: [{ name: 'SLG-LCAM-C041:FPICTURE', type: 'uint16', shape: [1024, 1024], modulo: 1, offset: 0, source: 'tcp://slg-lcam-c041:9999' }],
  },
];

export class FakeDispatcher {
  readonly seen: SeenRequest[] = [];
  handler: FakeHandler = () => ({ status: 404, contentType: 'text/plain', body: 'not found' });

  private constructor(
    private readonly server: Server,
    /** Base URL with a backend path, as the real one has: http://127.0.0.1:PORT/sf-databuffer. */
    readonly baseUrl: string,
  ) {}

  static async start(): Promise<FakeDispatcher> {
    let self: FakeDispatcher | null = null;
    const server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (d: string) => (body += d));
      req.on('end', () => {
        const seen = { method: req.method ?? '', url: req.url ?? '', contentType: req.headers['content-type'] ?? '', body };
        self!.seen.push(seen);
        const r = self!.handler(seen);
        res.statusCode = r.status ?? 200;
        if (r.contentType !== undefined) res.setHeader('content-type', r.contentType);
        res.end(r.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    self = new FakeDispatcher(server, `http://127.0.0.1:${port}/sf-databuffer`);
    return self;
  }

  requests(method: string): SeenRequest[] {
    return this.seen.filter((r) => r.method === method);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
