// `bsread receive CHANNEL...` and `bsread stats CHANNEL...` without -s: a stream requested from
// the dispatcher and deleted when the command ends (after -n, on --timeout, on SIGINT/SIGTERM).
// Real child processes, against the embedded dispatcher and against a recording test server
// whose stream address is a real ZeroMQ sender of ours.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeMessage } from '../../src/bsread/index.js';
import { predictMessage, selectChannels, SimDispatcher, type StreamInfo } from '../../src/sim/index.js';
import { StreamSender } from '../helpers/stream-sender.js';
import { runProgram, startProgram, stopAllPrograms } from '../helpers/process.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { FakeDispatcher, json, type SeenRequest } from './fake-dispatcher.js';

let sim: SimDispatcher;
let simUrl: string;
let fake: FakeDispatcher;

before(async () => {
  sim = new SimDispatcher({ rate: 100 });
  simUrl = await sim.start({ port: 0 });
  fake = await FakeDispatcher.start();
});
after(async () => {
  await stopAllPrograms();
  await sim.close();
  await fake.close();
});

const X1 = 'SINEG01-DBPM340:X1';
const INTENSITY = 'SARFE10-PBPG050:HAMP-INTENSITY-CAL';

async function simStreams(): Promise<StreamInfo[]> {
  return (await (await fetch(`${simUrl}/streams`)).json()) as StreamInfo[];
}

// --- against the embedded dispatcher -------------------------------------------------------

test('receive CH... -n 3 --json: the requested channels with the simulated values, stream deleted on exit', async () => {
  const r = await runProgram('bsread', ['receive', X1, INTENSITY, '-n', '3', '--json', '--base_url', simUrl]);
  assert.equal(r.code, 0, r.stderr);
  const messages = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { pulse_id: number });
  assert.equal(messages.length, 3);
  const profile = selectChannels(sim.catalogue, [{ name: X1 }, { name: INTENSITY }]);
  for (const m of messages) assert.deepEqual(m, predictMessage(profile, m.pulse_id));
  const address = /pub_sub stream (tcp:\/\/127\.0\.0\.1:\d+) of 2 channel\(s\)/.exec(r.stderr)?.[1];
  assert.ok(address, r.stderr);
  assert.match(r.stderr, new RegExp(`deleted the stream ${address}`));
  assert.deepEqual(await simStreams(), []);
});

test('stats CH... runs until SIGINT, then deletes its stream and exits 0', async () => {
  const p = startProgram('bsread', ['stats', X1, '--json', '--base_url', simUrl]);
  const streams = await waitFor('the stream to be requested', async () => {
    const s = await simStreams();
    return s.length === 1 ? s : undefined;
  });
  assert.deepEqual(streams[0]!.channels, [X1]);
  assert.equal(streams[0]!.streamType, 'pub_sub');
  await waitForOutput('a stats line', p, () => /messages [1-9]\d* {2}rate/.test(p.stderr()));
  assert.equal(await p.stop('SIGINT'), 0, p.stderr());
  assert.deepEqual(await simStreams(), []);
  // The final counters are printed after Ctrl-C, as with -n.
  const counters = JSON.parse(p.stdout()) as { messages: number; last_pulse_id: number };
  assert.ok(counters.messages >= 10, p.stdout());
  assert.ok(counters.last_pulse_id > 0);
});

test('receive -m pull asks for a push_pull stream; SIGTERM deletes it too', async () => {
  const p = startProgram('bsread', ['receive', '-m', 'pull', X1, '--base_url', simUrl]);
  const streams = await waitFor('the stream to be requested', async () => {
    const s = await simStreams();
    return s.length === 1 ? s : undefined;
  });
  assert.equal(streams[0]!.streamType, 'push_pull');
  await waitForOutput('a message to be printed', p, () => p.stdout().includes(X1));
  assert.equal(await p.stop('SIGTERM'), 0, p.stderr());
  assert.deepEqual(await simStreams(), []);
});

test('an unknown channel: the dispatcher refusal is shown, status 1, no stream left', async () => {
  const r = await runProgram('bsread', ['receive', X1, 'NO-SUCH:CHANNEL', '--base_url', simUrl]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /refused the stream: HTTP 400: .*Unknown channels: NO-SUCH:CHANNEL/);
  assert.deepEqual(await simStreams(), []);
});

test('neither channels nor -s is a usage error, status 2', async () => {
  for (const command of ['receive', 'stats']) {
    const r = await runProgram('bsread', [command, '--base_url', simUrl]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /give channel names .* or -s\/--source ADDRESS/);
  }
});

// --- against a recording test server -------------------------------------------------------

/** A bsread source of channels A and B that sends every 10 ms until stopped. */
async function startSource(mode: 'pub' | 'push'): Promise<{ sender: StreamSender; stop(): Promise<void> }> {
  const sender = await StreamSender.bind({ address: 'tcp://127.0.0.1:0', mode, highWaterMark: 100, dropWhenFull: true });
  let running = true;
  const loop = (async () => {
    for (let pulse = 1000; running; pulse++) {
      const frames = encodeMessage({
        pulseId: pulse,
        globalTimestamp: { sec: 1_700_000_000, ns: pulse },
        channels: [
          { def: { name: 'A', type: 'float64' }, value: pulse / 2 },
          { def: { name: 'B', type: 'int32' }, value: pulse },
        ],
      });
      await sender.send(frames);
      await sleep(10);
    }
  })();
  return {
    sender,
    stop: async () => {
      running = false;
      await loop;
      sender.close();
    },
  };
}

/** Answers POST /stream with `address` and DELETE /stream with 200, as the real dispatcher. */
function serveStream(address: string, deleteStatus = 200): void {
  fake.handler = (req) => {
    if (req.method === 'POST' && req.url === '/sf-databuffer/stream') return json({ stream: address, configuration: {} });
    if (req.method === 'DELETE' && req.url === '/sf-databuffer/stream') return deleteStatus === 200 ? { body: '' } : { status: deleteStatus, body: 'stream gone' };
    return { status: 404, body: 'no route' };
  };
}

/** waitFor, with the program's stderr in the error when it times out. */
async function waitForOutput(what: string, p: { stderr(): string }, check: () => boolean): Promise<void> {
  try {
    await waitFor(what, () => check() || undefined, 15_000);
  } catch (e) {
    throw new Error(`${(e as Error).message}; stderr: ${p.stderr()}`);
  }
}

function since(n: number): SeenRequest[] {
  return fake.seen.slice(n);
}

test('receive A B -n 2: POST {base_url}/stream with the dispatcher body, then DELETE with the address as text', async () => {
  const source = await startSource('pub');
  serveStream(source.sender.endpoint);
  const n = fake.seen.length;
  try {
    const r = await runProgram('bsread', ['receive', 'A', 'B', '-n', '2', '--json', '--base_url', fake.baseUrl]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 2);
    const first = JSON.parse(lines[0]!) as { pulse_id: number; channels: Record<string, { value: unknown }> };
    assert.deepEqual(first.channels['B']!.value, first.pulse_id);
    const seen = since(n);
    assert.deepEqual(
      seen.map((s) => `${s.method} ${s.url} ${s.contentType}`),
      ['POST /sf-databuffer/stream application/json', 'DELETE /sf-databuffer/stream text/plain'],
    );
    assert.deepEqual(JSON.parse(seen[0]!.body), {
      channels: [{ name: 'A' }, { name: 'B' }],
      streamType: 'pub_sub',
      verify: true,
      channelValidation: { inconsistency: 'adjust-individual' },
    });
    assert.equal(seen[1]!.body, source.sender.endpoint);
  } finally {
    await source.stop();
  }
});

test('stats -m pull A: a push_pull stream, deleted on SIGTERM', async () => {
  const source = await startSource('push');
  serveStream(source.sender.endpoint);
  const n = fake.seen.length;
  try {
    const p = startProgram('bsread', ['stats', '-m', 'pull', 'A', '--base_url', fake.baseUrl]);
    await waitForOutput('a stats line', p, () => /messages [1-9]\d* {2}rate/.test(p.stderr()));
    assert.equal(await p.stop('SIGTERM'), 0, p.stderr());
    const seen = since(n);
    assert.deepEqual(
      seen.map((s) => s.method),
      ['POST', 'DELETE'],
    );
    assert.equal((JSON.parse(seen[0]!.body) as { streamType: string }).streamType, 'push_pull');
    assert.equal(seen[1]!.body, source.sender.endpoint);
  } finally {
    await source.stop();
  }
});

test('receive --timeout on a silent stream: status 1, and the stream is still deleted', async () => {
  const silent = await StreamSender.bind({ address: 'tcp://127.0.0.1:0', mode: 'pub' });
  serveStream(silent.endpoint);
  const n = fake.seen.length;
  try {
    const r = await runProgram('bsread', ['receive', 'A', '--timeout', '0.5', '--base_url', fake.baseUrl]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no message from tcp:\/\/127\.0\.0\.1:\d+ for 0\.5 s/);
    const seen = since(n);
    assert.deepEqual(
      seen.map((s) => `${s.method} ${s.body.startsWith('{') ? 'json' : s.body}`),
      ['POST json', `DELETE ${silent.endpoint}`],
    );
  } finally {
    silent.close();
  }
});

test('a refused DELETE is reported as a warning; the command keeps its status', async () => {
  const source = await startSource('pub');
  serveStream(source.sender.endpoint, 500);
  try {
    const r = await runProgram('bsread', ['receive', 'A', '-n', '1', '--base_url', fake.baseUrl]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: the stream tcp:\/\/127\.0\.0\.1:\d+ could not be deleted: .*HTTP 500: stream gone/);
  } finally {
    await source.stop();
  }
});

test('a dispatcher reply without a stream address: a clear error, status 1, nothing to delete', async () => {
  fake.handler = () => ({ contentType: 'text/html', body: '<html>maintenance</html>' });
  const n = fake.seen.length;
  const r = await runProgram('bsread', ['stats', 'A', '--base_url', fake.baseUrl]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /dispatcher POST .*\/sf-databuffer\/stream replied with something that is not JSON/);
  assert.deepEqual(
    since(n).map((s) => s.method),
    ['POST'],
  );
});
