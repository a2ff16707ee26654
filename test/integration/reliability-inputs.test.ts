// Reliability: garbage channels files and garbage dispatcher replies → a clear error and a
// non-zero exit of sf_bsread_buffer, never a hang or a stack trace. Complements
// buffer-dispatcher.test.ts (dispatcher down, HTTP 500, bad JSON, no stream, missing/empty file).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Rng } from '../helpers/mutate.js';
import { freePort } from '../helpers/net.js';
import { runProgram, stopAllPrograms } from '../helpers/process.js';

const dir = mkdtempSync(join(tmpdir(), 'reliability-inputs-'));
const servers: Server[] = [];
after(async () => {
  for (const s of servers) s.close();
  await stopAllPrograms();
  rmSync(dir, { recursive: true, force: true });
});

function file(name: string, content: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

async function dispatcher(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const srv = createServer((req, res) => {
    req.resume();
    req.on('end', () => handler(req, res));
  });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const a = srv.address();
  return `http://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}/sf`;
}

/** The buffer must exit with `code` within 20 s, say `pattern` on stderr, and print no stack trace. */
async function refused(args: string[], pattern: RegExp, code = 1): Promise<void> {
  const r = await runProgram('sf_bsread_buffer', [...args, '-o', String(await freePort())], 8_000);
  assert.equal(r.code, code, `${args.join(' ')}: exit ${r.code}\n${r.stderr.slice(-1500)}`);
  assert.match(r.stderr, pattern, args.join(' '));
  assert.doesNotMatch(r.stderr, /\n\s+at .+:\d+:\d+/, `no stack trace: ${r.stderr.slice(-1500)}`);
}

const okDispatcher = (): Promise<string> => dispatcher((_q, res) => res.end('{"stream": "tcp://127.0.0.1:1"}'));

test('garbage channels files: binary, empty, NUL bytes, JSON with wrong types → clear error, exit 1', async () => {
  const url = await okDispatcher();
  const rng = new Rng(7);
  const bin = rng.bytes(4096);
  bin[0] = 0x00;
  const cases: [string, string | Buffer, RegExp][] = [
    ['empty.txt', '', /channels file|no channels/],
    ['blank.json', '   \n\n', /channels file|no channels/],
    ['wrong-top.json', '[1, 2, 3]', /channels file/],
    ['channels-not-list.json', '{"channels": "SAR-A"}', /channels file/],
    ['channel-number.json', '{"channels": [5]}', /channels file/],
    ['channel-no-name.json', '{"channels": [{"modulo": 10}]}', /channels file/],
    ['modulo-string.json', '{"channels": [{"name": "A", "modulo": "ten"}]}', /channels file/],
    ['modulo-zero.json', '{"channels": [{"name": "A", "modulo": 0}]}', /channels file/],
    ['offset-float.json', '{"channels": [{"name": "A", "offset": 0.5}]}', /channels file/],
    ['name-empty.json', '{"channels": [""]}', /channels file/],
    ['truncated.json', '{"channels": ["A", ', /channels file/],
    ['deep.json', '{"channels": ' + '['.repeat(50_000) + ']'.repeat(50_000) + '}', /channels file/],
  ];
  const failures: string[] = [];
  for (const [name, content, pattern] of cases) {
    await refused(['-c', file(name, content), '--dispatcher_url', url], pattern).catch((e: Error) => failures.push(`${name}: ${e.message.split('\n')[0]}`));
  }
  assert.deepEqual(failures, []);
  // A folder is not a channels file.
  await refused(['-c', dir, '--dispatcher_url', url], /channels file/);
});

test('garbage dispatcher replies: HTML, huge body, wrong content type, stream address not tcp, wrong types → clear error, exit 1', async () => {
  const channels = file('ok.txt', 'SAR-A\nSAR-B\n');
  const replies: [string, (res: ServerResponse) => void, RegExp][] = [
    [
      'html',
      (res) => {
        res.setHeader('content-type', 'text/html');
        res.end('<html><body><h1>502 Bad Gateway</h1></body></html>');
      },
      /dispatcher/,
    ],
    [
      'huge',
      (res) => {
        res.setHeader('content-type', 'application/json');
        res.end('{"stream": "tcp://127.0.0.1:1", "pad": "' + 'x'.repeat(64 * 1024 * 1024) + '"');
      },
      /dispatcher/,
    ],
    [
      'wrong content type but JSON',
      (res) => {
        res.setHeader('content-type', 'image/png');
        res.end('\x89PNG\r\n\x1a\n');
      },
      /dispatcher/,
    ],
    ['ipc stream', (res) => res.end('{"stream": "ipc:///tmp/x"}'), /dispatcher|stream|tcp/],
    ['http stream', (res) => res.end('{"stream": "http://127.0.0.1:80"}'), /dispatcher|stream|tcp/],
    ['no port', (res) => res.end('{"stream": "tcp://127.0.0.1"}'), /dispatcher|stream|tcp/],
    ['stream number', (res) => res.end('{"stream": 5}'), /dispatcher|stream/],
    ['stream empty', (res) => res.end('{"stream": ""}'), /dispatcher|stream/],
    ['array', (res) => res.end('[{"stream": "tcp://127.0.0.1:1"}]'), /dispatcher/],
    ['null', (res) => res.end('null'), /dispatcher/],
    ['empty 200', (res) => res.end(''), /dispatcher/],
    [
      'redirect loop',
      (res) => {
        res.statusCode = 302;
        res.setHeader('location', '/sf/stream');
        res.end();
      },
      /dispatcher/,
    ],
  ];
  for (const [what, reply, pattern] of replies) {
    const url = await dispatcher((_q, res) => reply(res));
    await refused(['-c', channels, '--dispatcher_url', url], pattern).catch((e: Error) => {
      throw new Error(`dispatcher reply "${what}": ${e.message}`);
    });
  }
});

test('a binary channels file (NUL and control bytes) is refused, not sent to the dispatcher as channel names', async () => {
  const url = await okDispatcher();
  const rng = new Rng(7);
  const bin = rng.bytes(4096);
  bin[0] = 0x00;
  await refused(['-c', file('binary.bin', bin), '--dispatcher_url', url], /channels file/);
  await refused(['-c', file('nul-name.txt', 'SAR-A\0B\n'), '--dispatcher_url', url], /channels file/);
});
