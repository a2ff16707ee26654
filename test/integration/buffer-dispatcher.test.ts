// sf_bsread_buffer -c CHANNELS_FILE against an embedded test dispatcher (HTTP on 127.0.0.1 that
// binds a real PUB/PUSH source per stream) and against dispatchers that fail.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { StreamReceiver } from '../../src/transport/index.js';
import { StreamSender } from '../helpers/stream-sender.js';
import { freePort } from '../helpers/net.js';
import { runProgram, stopAllPrograms } from '../helpers/process.js';
import { waitFor } from '../helpers/wait.js';
import { pulseIdOf, startBuffer, testMessage } from '../unit/buffer/helpers.js';

const dir = await mkdtemp(join(tmpdir(), 'buffer-dispatcher-'));
const closers: (() => void | Promise<void>)[] = [];
after(async () => {
  for (const c of closers) await c();
  await stopAllPrograms();
  await rm(dir, { recursive: true, force: true });
});

interface TestDispatcher {
  url: string;
  posts: Record<string, unknown>[];
  deletes: string[];
  streams: string[];
}

/** POST /stream binds a PUB (or PUSH) source sending every 10 ms and returns its address; DELETE stops it. */
async function testDispatcher(reply?: (res: import('node:http').ServerResponse) => void): Promise<TestDispatcher> {
  const d: TestDispatcher = { url: '', posts: [], deletes: [], streams: [] };
  const senders = new Map<string, { stop: () => void }>();
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (x: string) => (body += x));
    req.on('end', () => {
      void (async () => {
        if (req.url !== '/sf-databuffer/stream') return void res.writeHead(404).end();
        if (req.method === 'DELETE') {
          d.deletes.push(body);
          senders.get(body)?.stop();
          return void res.end('');
        }
        const parsed = JSON.parse(body) as Record<string, unknown>;
        d.posts.push(parsed);
        if (reply !== undefined) return reply(res);
        const s = await StreamSender.bind({ address: 'tcp://127.0.0.1:0', mode: parsed['streamType'] === 'push_pull' ? 'push' : 'pub', dropWhenFull: true });
        let pulse = 1;
        const t = setInterval(() => void s.send(testMessage(pulse++)), 10);
        const stop = (): void => {
          clearInterval(t);
          s.close();
        };
        senders.set(s.endpoint, { stop });
        closers.push(stop);
        d.streams.push(s.endpoint);
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ stream: s.endpoint, configuration: {} }));
      })();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  d.url = `http://127.0.0.1:${(server.address() as { port: number }).port}/sf-databuffer`;
  return d;
}

async function channelsFile(name: string, text: string): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, text);
  return p;
}

for (const [format, text, expected] of [
  ['JSON', '{"channels": ["SAR-A", {"name": "SAR-B", "modulo": 10, "offset": 1}]}', [{ name: 'SAR-A' }, { name: 'SAR-B', modulo: 10, offset: 1 }]],
  ['text', '# channels\nSAR-A\n\n  SAR-B  \n', [{ name: 'SAR-A' }, { name: 'SAR-B' }]],
] as const) {
  test(`-c with a ${format} channels file: stream requested, data buffered, DELETE on SIGTERM`, async () => {
    const d = await testDispatcher();
    const file = await channelsFile(`ch-${format}.txt`, text);
    const out = await freePort();
    const buf = await startBuffer(['-c', file, '--dispatcher_url', d.url, '-o', String(out)]);
    assert.equal(d.posts.length, 1);
    assert.deepEqual(d.posts[0], {
      channels: expected,
      streamType: 'pub_sub',
      verify: true,
      channelValidation: { inconsistency: 'adjust-individual' },
    });
    const r = new StreamReceiver({ address: `tcp://127.0.0.1:${out}`, receiveTimeoutMs: 200 });
    closers.push(() => r.close());
    const frames = await waitFor('a message through the buffer', () => r.receive(), 10_000, 0);
    assert.ok(pulseIdOf(frames) >= 1);
    assert.equal(await buf.stop('SIGTERM'), 0);
    assert.deepEqual(d.deletes, [d.streams[0]]);
  });
}

test('dispatcher down, HTTP 500, malformed reply, missing channels file: non-zero exit and a clear message', async () => {
  const file = await channelsFile('ok.txt', 'SAR-A\n');
  const dead = await freePort();
  let r = await runProgram('sf_bsread_buffer', ['-c', file, '--dispatcher_url', `http://127.0.0.1:${dead}/sf`, '-o', String(await freePort())]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /error: dispatcher POST http:\/\/127\.0\.0\.1:\d+\/sf\/stream failed: .*ECONNREFUSED/);

  const d500 = await testDispatcher((res) => {
    res.statusCode = 500;
    res.end('backend unavailable');
  });
  r = await runProgram('sf_bsread_buffer', ['-c', file, '--dispatcher_url', d500.url, '-o', String(await freePort())]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /refused the stream: HTTP 500: backend unavailable/);

  const dBad = await testDispatcher((res) => res.end('{"strem": 1'));
  r = await runProgram('sf_bsread_buffer', ['-c', file, '--dispatcher_url', dBad.url, '-o', String(await freePort())]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /not JSON/);

  const dNoStream = await testDispatcher((res) => res.end('{"configuration": {}}'));
  r = await runProgram('sf_bsread_buffer', ['-c', file, '--dispatcher_url', dNoStream.url, '-o', String(await freePort())]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /without a "stream" address/);

  r = await runProgram('sf_bsread_buffer', ['-c', join(dir, 'missing.txt'), '--dispatcher_url', d500.url]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot read channels file/);
  const empty = await channelsFile('empty.txt', '# nothing\n');
  r = await runProgram('sf_bsread_buffer', ['-c', empty, '--dispatcher_url', d500.url]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no channels listed/);
});

test('a port in use after the dispatcher gave a stream: exit 1 and the stream is deleted', async () => {
  const d = await testDispatcher();
  const file = await channelsFile('ok2.txt', 'SAR-A\n');
  const taken = await StreamSender.bind({ address: 'tcp://127.0.0.1:0' });
  closers.push(() => taken.close());
  const port = taken.endpoint.split(':').at(-1)!;
  const r = await runProgram('sf_bsread_buffer', ['-c', file, '--dispatcher_url', d.url, '-o', port]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot bind the output/);
  assert.deepEqual(d.deletes, d.streams);
  assert.equal(d.deletes.length, 1);
});
