// `bsread avail` as an operator runs it: a real child process against the embedded dispatcher
// and against a test server that answers as the real dispatcher (or a broken one) would.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { SimDispatcher } from '../../src/sim/index.js';
import { DEBIAN_PYTHON } from '../helpers/h5py.js';
import { freePort } from '../helpers/net.js';
import { runProgram, startProgram, stopAllPrograms } from '../helpers/process.js';
import { FakeDispatcher, json, REAL_LIVE_REPLY } from './fake-dispatcher.js';

let sim: SimDispatcher;
let simUrl: string;
let fake: FakeDispatcher;

before(async () => {
  sim = new SimDispatcher();
  simUrl = await sim.start({ port: 0 });
  fake = await FakeDispatcher.start();
});
after(async () => {
  await stopAllPrograms();
  await sim.close();
  await fake.close();
});

const lines = (s: string): string[] => s.split('\n').filter((l) => l !== '');

test('embedded dispatcher: the names matching PATTERN anywhere, sorted, one per line', async () => {
  const r = await runProgram('bsread', ['avail', 'DBPM340', '--base_url', simUrl]);
  assert.equal(r.code, 0, r.stderr);
  const expected = sim.catalogue.channels
    .map((c) => c.name)
    .filter((n) => n.includes('DBPM340'))
    .sort();
  assert.ok(expected.length >= 2);
  assert.deepEqual(lines(r.stdout), expected);

  const all = await runProgram('bsread', ['avail', '--base_url', simUrl]);
  assert.equal(all.code, 0, all.stderr);
  assert.deepEqual(lines(all.stdout), sim.catalogue.channels.map((c) => c.name).sort());
});

test('embedded dispatcher: --all prints type, shape, modulo, offset, source and backend in aligned columns', async () => {
  const r = await runProgram('bsread', ['avail', '--all', 'LCAM|DBPM410:X1$', '--base_url', simUrl]);
  assert.equal(r.code, 0, r.stderr);
  const out = lines(r.stdout);
  assert.deepEqual(
    out.map((l) => l.split(/\s{2,}/)),
    [
      ['S10BC01-DBPM410:X1', 'float64', '[1]', '10', '0', 'S10BC01-DBPM410', 'sf-databuffer'],
      ['SLG-LCAM-C041:FPICTURE', 'uint16', '[1024, 1024]', '1', '0', 'SLG-LCAM-C041', 'sf-databuffer'],
    ],
  );
  // Aligned: every column starts at the same place on each line.
  assert.equal(out[0]!.indexOf('float64'), out[1]!.indexOf('uint16'));
  assert.equal(out[0]!.indexOf('S10BC01-DBPM410 '), out[1]!.indexOf('SLG-LCAM-C041 '));
});

test('embedded dispatcher: a Python client reading /channels/live as bs avail does gets every field', async () => {
  // bsread_python's dispatcher.get_current_channels and `bs avail --all`, in a few lines: the
  // old reply (bare strings) failed here with "string indices must be integers".
  const program = `
import json, sys, urllib.request
channels = []
for backend in json.load(urllib.request.urlopen(sys.argv[1] + "/channels/live")):
    channels.extend(backend["channels"])
for channel in channels:
    if "LCAM" in channel["name"]:
        print(f"{channel['name']:50} {channel['type']} {channel['shape']} {channel['modulo']} {channel['offset']} {channel['source']}")
`;
  // Asynchronous: the dispatcher answers from this process.
  const { stdout: out } = await promisify(execFile)(DEBIAN_PYTHON, ['-c', program, simUrl], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(out, `${'SLG-LCAM-C041:FPICTURE'.padEnd(50)} uint16 [1024, 1024] 1 0 SLG-LCAM-C041\n`);
});

test('a real dispatcher reply (objects, two backends): GET {base_url}/channels/live, names and --all', async () => {
  fake.handler = () => json(REAL_LIVE_REPLY);
  const before = fake.seen.length;
  const r = await runProgram('bsread', ['avail', 'S', '--base_url', fake.baseUrl]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(lines(r.stdout), ['S10BC01-DBPM410:Y1', 'SARFE10-PBPG050:HAMP-INTENSITY-CAL', 'SINEG01-DBPM340:X1', 'SLG-LCAM-C041:FPICTURE']);
  assert.deepEqual(
    fake.seen.slice(before).map((s) => `${s.method} ${s.url}`),
    ['GET /sf-databuffer/channels/live'],
  );
  const all = await runProgram('bsread', ['avail', '--all', 'FPICTURE|DBPM410', '--base_url', fake.baseUrl]);
  assert.equal(all.code, 0, all.stderr);
  assert.deepEqual(
    lines(all.stdout).map((l) => l.split(/\s{2,}/)),
    [
      ['S10BC01-DBPM410:Y1', 'float32', '[1]', '10', '0', 'tcp://sf-dbpm-ioc-410:9999', 'sf-databuffer'],
      ['SLG-LCAM-C041:FPICTURE', 'uint16', '[1024, 1024]', '1', '0', 'tcp://slg-lcam-c041:9999', 'sf-imagebuffer'],
    ],
  );
});

test('an older reply with bare name strings: the names, and "-" for every field --all cannot know', async () => {
  fake.handler = () =>
    json([
      { backend: 'sf-databuffer', channels: ['B:Y', 'A:X'] },
      { backend: 'sf-imagebuffer', channels: ['C:IMG', 'A:X'] },
    ]);
  const r = await runProgram('bsread', ['avail', '--base_url', fake.baseUrl]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(lines(r.stdout), ['A:X', 'B:Y', 'C:IMG']);
  const all = await runProgram('bsread', ['avail', '--all', 'A:X', '--base_url', fake.baseUrl]);
  assert.equal(all.code, 0, all.stderr);
  assert.deepEqual(
    lines(all.stdout).map((l) => l.split(/\s{2,}/)),
    [
      ['A:X', '-', '-', '-', '-', '-', 'sf-databuffer'],
      ['A:X', '-', '-', '-', '-', '-', 'sf-imagebuffer'],
    ],
  );
});

test('no match: nothing on stdout, a note on stderr, status 0', async () => {
  fake.handler = () => json(REAL_LIVE_REPLY);
  const r = await runProgram('bsread', ['avail', 'NO-SUCH', '--base_url', fake.baseUrl]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /none of the 4 live channels at .*\/sf-databuffer matches "NO-SUCH"/);
});

test('the base URL from $BSREAD_DISPATCHER_URL when --base_url is not given', async () => {
  fake.handler = () => json(REAL_LIVE_REPLY);
  const p = startProgram('bsread', ['avail', 'LCAM'], { env: { BSREAD_DISPATCHER_URL: fake.baseUrl } });
  assert.equal(await p.exited, 0, p.stderr());
  assert.equal(p.stdout(), 'SLG-LCAM-C041:FPICTURE\n');
});

test('bad replies (HTML, HTTP 500, JSON of another shape) are a clear error naming the URL, status 1', async () => {
  const url = `${fake.baseUrl}/channels/live`;
  const cases: [FakeDispatcher['handler'], RegExp][] = [
    [
      () => ({ contentType: 'text/html', body: '<!DOCTYPE html>\n<html><body>Login</body></html>' }),
      /replied with something that is not JSON \(text\/html\): <!DOCTYPE html> <html>/,
    ],
    [() => ({ status: 500, contentType: 'text/plain', body: 'java.lang.NullPointerException' }), /failed: HTTP 500: java\.lang\.NullPointerException/],
    [() => json({ backend: 'sf-databuffer', channels: ['A'] }), /not a list of backends with their channels .*: the reply is an object/],
    [() => json([{ backend: 'sf-databuffer', channels: [{ type: 'float64' }] }]), /channel \[0\] of backend \[0\] is an object without a "name" string/],
  ];
  for (const [handler, message] of cases) {
    fake.handler = handler;
    const r = await runProgram('bsread', ['avail', '--base_url', fake.baseUrl]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, '');
    assert.ok(r.stderr.includes(url), r.stderr);
    assert.match(r.stderr, message);
  }
});

test('an unreachable dispatcher is a clear error, status 1', async () => {
  const port = await freePort();
  const r = await runProgram('bsread', ['avail', '--base_url', `http://127.0.0.1:${port}`]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`dispatcher GET http://127\\.0\\.0\\.1:${port}/channels/live failed: .*ECONNREFUSED`));
});

test('an invalid regular expression or base URL is a usage error, status 2, and nothing is asked', async () => {
  const before = fake.seen.length;
  const r = await runProgram('bsread', ['avail', 'SINEG01-(DBPM', '--base_url', fake.baseUrl]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /PATTERN "SINEG01-\(DBPM" is not a valid regular expression/);
  const u = await runProgram('bsread', ['avail', '--base_url', 'dispatcher:8080']);
  assert.equal(u.code, 2);
  assert.match(u.stderr, /must be http:\/\/ or https:\/\//);
  assert.equal(fake.seen.length, before);
});
