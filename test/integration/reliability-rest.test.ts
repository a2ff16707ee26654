// Reliability: REST fuzzing of the real sf_bsread_writer. Seeded random methods, paths, pulse
// ids (huge, negative, float, unicode, '../', percent-encoded NUL), bodies (invalid JSON, 2 MiB,
// wrong types, deeply nested) and content types. Pass: every reply is JSON
// {"state":"ok"|"error","status":string} (HEAD: no body), the process never dies, and a rejected
// request leaves GET /status and GET /statistics exactly as they were.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, test } from 'node:test';
import { Rng } from '../helpers/mutate.js';
import { stopAllPrograms } from '../helpers/process.js';
import { startWriter } from './writer-helpers.js';

after(stopAllPrograms);

const COUNT = Number(process.env['SF_BSREAD_REST_FUZZ_COUNT'] ?? 1500);
const SEED = Number(process.env['SF_BSREAD_FUZZ_SEED'] ?? 20240501);

function raw(port: number, method: string, path: string, body: Buffer | null, contentType: string | null): Promise<{ http: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = {};
    if (contentType !== null) headers['content-type'] = contentType;
    if (body !== null) headers['content-length'] = body.length;
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ http: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body !== null) req.write(body);
    req.end();
  });
}

const IDS = [
  '99999999999999999999999999',
  '9007199254740993',
  '-1',
  '-0',
  '1.5',
  '1e5',
  '0x10',
  ' 7',
  '7 ',
  '%00',
  '..%2F..%2Fetc%2Fpasswd',
  '../../etc/passwd',
  '%E2%82%AC',
  'ünïcødé',
  '😀',
  'NaN',
  'Infinity',
  '',
  '%20',
  '1/2',
  '12abc',
  '+3',
  '٣',
];
const PATHS = [
  '/start_pulse_id/',
  '/stop_pulse_id/',
  '/status',
  '/statistics',
  '/parameters',
  '/start_now',
  '/stop_now',
  '/',
  '/../status',
  '//status',
  '/status/..',
  '/STATUS',
  '/start_pulse_id',
  '/start_pulse_id/1/2',
  '/%2e%2e/stop',
  '/openapi.json?x=1',
  '/statistics?' + 'a'.repeat(5000),
];
const METHODS = ['GET', 'PUT', 'POST', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'];
const TYPES = [null, 'application/json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=latin1', '', 'x/y'];

function body(rng: Rng): Buffer | null {
  switch (rng.int(0, 11)) {
    case 0:
      return null;
    case 1:
      return Buffer.from('{"general/user":');
    case 2:
      return Buffer.from(JSON.stringify({ output_file: rng.pick([5, null, '', '\u0000', ['a'], { a: 1 }, '../'.repeat(50) + 'x.h5', '/proc/self/mem']) }));
    case 3:
      return Buffer.from(JSON.stringify({ 'general/created': 1, 'general/user': ['x'], 'general/process': null, 'general/instrument': {} }));
    case 4:
      return Buffer.alloc(2 * 1024 * 1024 + rng.int(0, 10), 0x7b);
    case 5:
      return Buffer.from('['.repeat(100_000) + ']'.repeat(100_000));
    case 6:
      return rng.bytes(rng.int(1, 200));
    case 7:
      return Buffer.from(rng.pick(['null', '[]', '42', '"x"', 'true', '{}', '{"outputfile":"/tmp/x.h5"}']));
    case 8:
      return Buffer.from(JSON.stringify({ output_file: '/tmp/x.h5', extra: true }));
    case 9:
      return Buffer.from('{"__proto__": {"state": "hacked"}, "constructor": {"prototype": {"x": 1}}}');
    case 10:
      return Buffer.from(JSON.stringify({ 'general/user': 'ü'.repeat(100_000) }));
    default:
      return Buffer.from('{"a":1}{"b":2}');
  }
}

test(`REST fuzz: ${COUNT} seeded garbage requests → always JSON, never a crash, rejected requests change nothing`, { timeout: 120_000 }, async () => {
  const w = await startWriter('tcp://127.0.0.1:9', '/dev/null', ['--probe_timeout', '50']);
  const rng = new Rng(SEED);
  const snapshot = async (): Promise<string> => JSON.stringify([await w.call('GET', '/status'), await w.call('GET', '/statistics')]);
  let before = await snapshot();
  const seen: Record<string, number> = {};
  const problems: string[] = [];
  for (let i = 0; i < COUNT && problems.length < 10; i++) {
    const method = rng.pick(METHODS);
    let path = rng.pick(PATHS);
    if (path.endsWith('/')) path += rng.pick(IDS);
    // Never ask it to exit: those routes are tested elsewhere.
    if (/\/(stop|kill)(\?|$)/i.test(decodeURIComponent(path.replace(/%(?![0-9a-f]{2})/gi, '%25')))) path = '/status/kill';
    const b = method === 'GET' || method === 'HEAD' ? (rng.next() < 0.2 ? body(rng) : null) : body(rng);
    const ct = rng.pick(TYPES);
    let r: { http: number; text: string };
    try {
      r = await raw(w.port, method, encodeURI(path).replace(/%25/g, '%'), b, ct);
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (b !== null && b.length > 1 << 20 && (code === 'EPIPE' || code === 'ECONNRESET')) {
        // A body over the 1 MiB limit may be answered before it is read, and Node's HTTP server
        // then closes the connection instead of draining megabytes: a refusal, not a crash (the
        // next requests and the state check below show the server is fine).
        seen[`${method} closed`] = (seen[`${method} closed`] ?? 0) + 1;
        continue;
      }
      problems.push(`${method} ${path}: request failed: ${String(e)}`);
      break;
    }
    const key = `${method} ${r.http}`;
    seen[key] = (seen[key] ?? 0) + 1;
    if (method === 'HEAD') continue;
    let json: { state?: unknown; status?: unknown };
    try {
      json = JSON.parse(r.text) as typeof json;
    } catch {
      problems.push(`${method} ${path} (${ct}): HTTP ${r.http} not JSON: ${r.text.slice(0, 200)}`);
      continue;
    }
    if ((json.state !== 'ok' && json.state !== 'error') || typeof json.status !== 'string') {
      // GET /openapi.json is the one JSON reply of another shape.
      if (!path.startsWith('/openapi.json')) problems.push(`${method} ${path}: reply shape ${r.text.slice(0, 200)}`);
      continue;
    }
    const now = await snapshot();
    if (json.state === 'error' && now !== before) problems.push(`${method} ${path} was rejected (${json.status}) but changed the state:\n ${before}\n ${now}`);
    before = now;
  }
  assert.equal(w.proc.child.exitCode, null, 'the writer is still running');
  assert.deepEqual(problems, [], JSON.stringify(seen));
  const s = await w.call('GET', '/status');
  assert.equal(s.state, 'ok');
  await w.proc.stop('SIGTERM');
});
