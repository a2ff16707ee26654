// The embedded dispatcher: in-process (SimDispatcher) with real HTTP and ZeroMQ on loopback,
// and as the `bsread dispatcher` program.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { BsreadReceiver, messageToJson, type BsreadMessage } from '../../src/bsread/index.js';
import { StreamReceiver, type ReceiveMode } from '../../src/transport/index.js';
import type { ChannelRequest } from '../../src/dispatcher/channels-file.js';
import { predictMessage, selectChannels } from '../../src/sim/index.js';
import { freePort } from '../helpers/net.js';
import { startProgram, stopAllPrograms } from '../helpers/process.js';
import { waitFor } from '../helpers/wait.js';
import { withDispatcher } from '../helpers/sim-dispatcher.js';

after(stopAllPrograms);

async function receiveMessages(address: string, n: number, mode: ReceiveMode): Promise<BsreadMessage[]> {
  const rx = new StreamReceiver({ address, mode, receiveTimeoutMs: 200 });
  const decoder = new BsreadReceiver();
  const out: BsreadMessage[] = [];
  const deadline = Date.now() + 20_000;
  try {
    while (out.length < n) {
      if (Date.now() > deadline) throw new Error(`only ${out.length} of ${n} messages from ${address}`);
      const frames = await rx.receive();
      if (frames !== null) out.push(decoder.open(frames) as BsreadMessage);
    }
  } finally {
    rx.close();
  }
  return out;
}

async function post(base: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await fetch(`${base}/stream`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, json: (await r.json()) as Record<string, unknown> };
}

test('POST /stream (push_pull) gives exactly the requested channels, 10 Hz channel every 10th pulse', () =>
  withDispatcher(async (base, d) => {
    const requests: ChannelRequest[] = [{ name: 'SINEG01-DBPM340:X1' }, { name: 'SARFE10-PBPG050:HAMP-INTENSITY-CAL', modulo: 10 }, { name: 'SATMA01-DBLM070:STATUS' }];
    const r = await post(base, { channels: ['SINEG01-DBPM340:X1', { name: 'SARFE10-PBPG050:HAMP-INTENSITY-CAL', modulo: 10 }, 'SATMA01-DBLM070:STATUS'], streamType: 'push_pull' });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const stream = r.json['stream'] as string;
    assert.match(stream, /^tcp:\/\/127\.0\.0\.1:\d+$/);
    const messages = await receiveMessages(stream, 25, 'pull');
    const expected = selectChannels(d.catalogue, requests);
    let tenHz = 0;
    for (const m of messages) {
      assert.deepEqual(
        m.channels.map((c) => c.name),
        requests.map((q) => q.name),
      );
      assert.equal(m.isPresent(1), m.pulseId % 10 === 0, `pulse ${m.pulseId}`);
      if (m.isPresent(1)) tenHz++;
      assert.deepEqual(messageToJson(m), predictMessage(expected, m.pulseId));
    }
    assert.ok(tenHz >= 2, `10 Hz channel seen ${tenHz} times in 25 pulses`);
    const streams = (await (await fetch(`${base}/streams`)).json()) as { stream: string }[];
    assert.deepEqual(
      streams.map((s) => s.stream),
      [stream],
    );
  }));

test('pub_sub is the default; a stream of only a 10 Hz channel sends only every 10th pulse', () =>
  withDispatcher(async (base) => {
    const r = await post(base, { channels: [{ name: 'S10BC01-DBPM410:X1' }] });
    assert.equal(r.status, 200);
    const messages = await receiveMessages(r.json['stream'] as string, 3, 'sub');
    for (const m of messages) {
      assert.equal(m.pulseId % 10, 0);
      assert.ok(m.isPresent(0));
    }
  }));

test('unknown channels and bad bodies are refused with 400 naming the problem', () =>
  withDispatcher(async (base) => {
    const r = await post(base, { channels: ['NO-SUCH:CHANNEL', 'SINEG01-DBPM340:X1', 'ALSO:MISSING'] });
    assert.equal(r.status, 400);
    assert.match(r.json['message'] as string, /Unknown channels: NO-SUCH:CHANNEL, ALSO:MISSING/);
    assert.deepEqual(r.json['unknownChannels'], ['NO-SUCH:CHANNEL', 'ALSO:MISSING']);
    for (const body of [{}, { channels: [] }, { channels: ['A'], streamType: 'tcp' }, { channels: [{ name: 'A', modulo: 0 }] }]) {
      const bad = await post(base, body);
      assert.equal(bad.status, 400, JSON.stringify(body));
    }
    const streams = (await (await fetch(`${base}/streams`)).json()) as unknown[];
    assert.deepEqual(streams, []);
  }));

test('DELETE /stream stops the stream; an unknown stream is 404', () =>
  withDispatcher(async (base) => {
    const r = await post(base, { channels: ['SINEG01-DBPM340:Y1'], streamType: 'push_pull' });
    const stream = r.json['stream'] as string;
    await receiveMessages(stream, 2, 'pull');
    const del = await fetch(`${base}/stream`, { method: 'DELETE', headers: { 'content-type': 'text/plain' }, body: stream });
    assert.equal(del.status, 200);
    assert.deepEqual(await (await fetch(`${base}/streams`)).json(), []);
    // Nothing is sent any more: a new receiver gets nothing.
    const rx = new StreamReceiver({ address: stream, mode: 'pull', receiveTimeoutMs: 500 });
    try {
      assert.equal(await rx.receive(), null);
    } finally {
      rx.close();
    }
    const again = await fetch(`${base}/stream`, { method: 'DELETE', headers: { 'content-type': 'text/plain' }, body: stream });
    assert.equal(again.status, 404);
  }));

test('GET /channels/live lists the catalogue as the real dispatcher does, camera included', () =>
  withDispatcher(async (base) => {
    const live = (await (await fetch(`${base}/channels/live`)).json()) as { backend: string; channels: Record<string, unknown>[] }[];
    assert.equal(live.length, 1);
    assert.equal(live[0]!.backend, 'sf-databuffer');
    const channels = live[0]!.channels;
    assert.ok(channels.length >= 24);
    assert.deepEqual(
      channels.find((c) => c['name'] === 'SLG-LCAM-C041:FPICTURE'),
      { name: 'SLG-LCAM-C041:FPICTURE', type: 'uint16', shape: [1024, 1024], modulo: 1, offset: 0, source: 'SLG-LCAM-C041' },
    );
    // The 10 Hz BPM channels say so, as the real dispatcher's modulo does.
    assert.deepEqual(
      channels.find((c) => c['name'] === 'S10BC01-DBPM410:X1'),
      { name: 'S10BC01-DBPM410:X1', type: 'float64', shape: [1], modulo: 10, offset: 0, source: 'S10BC01-DBPM410' },
    );
    for (const c of channels) assert.deepEqual(Object.keys(c).sort(), ['modulo', 'name', 'offset', 'shape', 'source', 'type'], JSON.stringify(c));
  }));

test('bsread dispatcher: serves streams and exits 0 on SIGTERM with its streams closed', async () => {
  const port = await freePort();
  const prog = startProgram('bsread', ['dispatcher', '--port', String(port), '--rate', '200']);
  const base = await waitFor('the dispatcher URL', () => /^(http:\/\/\S+)\n/.exec(prog.stdout())?.[1]);
  assert.equal(base, `http://127.0.0.1:${port}`);
  const r = await post(base, { channels: ['SLG-LCAM-C041:FPICTURE', 'SINEG01-DBPM340:X1'], streamType: 'push_pull' });
  assert.equal(r.status, 200);
  const [m] = await receiveMessages(r.json['stream'] as string, 1, 'pull');
  assert.deepEqual(m!.def(0).shape, [1024, 1024]);
  assert.equal(await prog.stop('SIGTERM'), 0, prog.stderr());
});
