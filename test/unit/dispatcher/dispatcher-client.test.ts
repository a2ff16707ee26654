import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { after, test } from 'node:test';
import { DispatcherClient, streamRequestBody } from '../../../src/dispatcher/dispatcher-client.js';
import { BsreadError } from '../../../src/errors.js';
import { freePort } from '../../helpers/net.js';

interface Seen {
  method: string;
  url: string;
  contentType: string;
  body: string;
}

let handler: (req: Seen, res: ServerResponse) => void = (_r, res) => res.end();
const seen: Seen[] = [];
const server: Server = createServer((req: IncomingMessage, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (d: string) => (body += d));
  req.on('end', () => {
    const s = { method: req.method ?? '', url: req.url ?? '', contentType: String(req.headers['content-type']), body };
    seen.push(s);
    handler(s, res);
  });
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const port = (server.address() as { port: number }).port;
const base = `http://127.0.0.1:${port}/sf-databuffer`;
after(() => new Promise<void>((r) => server.close(() => r())));

const isDispatcherError = (re: RegExp) => (e: unknown) => e instanceof BsreadError && e.code === 'BSREAD_ERR_DISPATCHER' && re.test(e.message);

test('POST /stream with the §7.1 body; DELETE with the address as text', async () => {
  handler = (_r, res) => res.setHeader('content-type', 'application/json').end('{"stream": "tcp://127.0.0.1:9999", "configuration": {}}');
  const c = new DispatcherClient(base + '/');
  const stream = await c.requestStream([{ name: 'A' }, { name: 'B', modulo: 10, offset: 0 }]);
  assert.equal(stream, 'tcp://127.0.0.1:9999');
  const post = seen.at(-1)!;
  assert.equal(post.method, 'POST');
  assert.equal(post.url, '/sf-databuffer/stream');
  assert.equal(post.contentType, 'application/json');
  assert.deepEqual(JSON.parse(post.body), {
    channels: [{ name: 'A' }, { name: 'B', modulo: 10, offset: 0 }],
    streamType: 'pub_sub',
    verify: true,
    channelValidation: { inconsistency: 'adjust-individual' },
  });
  handler = (_r, res) => res.end('');
  await c.deleteStream(stream);
  const del = seen.at(-1)!;
  assert.equal(del.method, 'DELETE');
  assert.equal(del.contentType, 'text/plain');
  assert.equal(del.body, 'tcp://127.0.0.1:9999');
  assert.equal(streamRequestBody([{ name: 'A' }], { verify: false, streamType: 'push_pull' })['streamType'], 'push_pull');
});

test('HTTP 500 → error with status and text', async () => {
  handler = (_r, res) => {
    res.statusCode = 500;
    res.end('channel X unknown');
  };
  await assert.rejects(new DispatcherClient(base).requestStream([{ name: 'A' }]), isDispatcherError(/HTTP 500: channel X unknown/));
});

test('malformed JSON, reply without stream, stream not tcp', async () => {
  const c = new DispatcherClient(base);
  handler = (_r, res) => res.end('<html>');
  await assert.rejects(c.requestStream([{ name: 'A' }]), isDispatcherError(/not JSON/));
  handler = (_r, res) => res.end('{"configuration": {}}');
  await assert.rejects(c.requestStream([{ name: 'A' }]), isDispatcherError(/without a "stream"/));
  handler = (_r, res) => res.end('{"stream": "http://x:1"}');
  await assert.rejects(c.requestStream([{ name: 'A' }]), isDispatcherError(/not a tcp/));
});

test('liveChannels: GET {base}/channels/live without a body, checked and flattened', async () => {
  handler = (_r, res) =>
    res
      .setHeader('content-type', 'application/json')
      .end('[{"backend": "sf-databuffer", "channels": [{"name": "A", "type": "float64", "shape": [1], "modulo": 10, "offset": 0, "source": "tcp://ioc:9999"}, "B"]}]');
  const c = new DispatcherClient(base);
  const live = await c.liveChannels();
  assert.deepEqual(
    live.map((l) => [l.name, l.type, l.modulo, l.source]),
    [
      ['A', 'float64', 10, 'tcp://ioc:9999'],
      ['B', undefined, undefined, undefined],
    ],
  );
  const get = seen.at(-1)!;
  assert.equal(get.method, 'GET');
  assert.equal(get.url, '/sf-databuffer/channels/live');
  assert.equal(get.body, '');
  handler = (_r, res) => res.setHeader('content-type', 'text/html; charset=utf-8').end('<html>\n  <body>Sign in</body>\n</html>');
  await assert.rejects(c.liveChannels(), isDispatcherError(/GET .*\/sf-databuffer\/channels\/live replied with something that is not JSON \(text\/html\): <html> <body>Sign in/));
  handler = (_r, res) => {
    res.statusCode = 503;
    res.end('');
  };
  await assert.rejects(c.liveChannels(), isDispatcherError(/HTTP 503: \(empty body\)/));
  handler = (_r, res) => res.end('{"channels": []}');
  await assert.rejects(c.liveChannels(), isDispatcherError(/not a list of backends/));
});

test('connection refused and timeout', async () => {
  const dead = await freePort();
  await assert.rejects(new DispatcherClient(`http://127.0.0.1:${dead}`).requestStream([{ name: 'A' }]), isDispatcherError(/failed: .*ECONNREFUSED/));
  handler = () => {}; // never answers
  await assert.rejects(new DispatcherClient(base, 200).requestStream([{ name: 'A' }]), isDispatcherError(/no reply within 200 ms/));
  server.closeAllConnections();
});

test('bad URLs are argument errors', () => {
  assert.throws(() => new DispatcherClient('not a url'), /not a URL/);
  assert.throws(() => new DispatcherClient('ftp://x'), /http/);
});
