// The real sf_bsread_buffer process: pass-through, FIFO compatibility, malformed input, status, CLI errors.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { StreamReceiver } from '../../src/transport/index.js';
import { StreamSender } from '../helpers/stream-sender.js';
import { freePort } from '../helpers/net.js';
import { runProgram, stopAllPrograms } from '../helpers/process.js';
import { waitFor } from '../helpers/wait.js';
import { bufferStatus, pulseIdOf, startBuffer, testMessage } from '../unit/buffer/helpers.js';

const closers: (() => void)[] = [];
after(async () => {
  for (const c of closers) c();
  await stopAllPrograms();
});

async function source(): Promise<StreamSender> {
  const s = await StreamSender.bind({ address: 'tcp://127.0.0.1:0', mode: 'push', highWaterMark: 1000 });
  closers.push(() => s.close());
  return s;
}

function receiver(port: number): StreamReceiver {
  const r = new StreamReceiver({ address: `tcp://127.0.0.1:${port}`, mode: 'pull', receiveTimeoutMs: 200 });
  closers.push(() => r.close());
  return r;
}

async function receiveN(r: StreamReceiver, n: number, timeoutMs = 10_000): Promise<Buffer[][]> {
  const out: Buffer[][] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < n && Date.now() < deadline) {
    const f = await r.receive();
    if (f !== null) out.push(f);
  }
  return out;
}

test('10 messages with one channel always missing pass through byte for byte', async () => {
  const src = await source();
  const out = await freePort();
  const buf = await startBuffer([src.endpoint, '-o', String(out)]);
  const r = receiver(out);
  const sent = Array.from({ length: 10 }, (_, i) => testMessage(1000 + i, { channels: 4, withMissing: true }));
  for (const m of sent) await src.send(m);
  const got = await receiveN(r, 10);
  assert.equal(got.length, 10);
  for (let i = 0; i < 10; i++) {
    assert.equal(got[i]!.length, sent[i]!.length);
    for (let f = 0; f < sent[i]!.length; f++) assert.ok(got[i]![f]!.equals(sent[i]![f]!), `message ${i} frame ${f}`);
  }
  assert.equal(await buf.stop('SIGTERM'), 0);
});

test('FIFO compatibility: intake continues with no reader; a later reader gets the last N in order, then live', async () => {
  const src = await source();
  const out = await freePort();
  const status = await freePort();
  const buf = await startBuffer([src.endpoint, '-o', String(out), '-b', '5', '--status_port', String(status)]);
  for (let p = 0; p < 20; p++) await src.send(testMessage(p));
  await waitFor('20 messages buffered', async () => (await bufferStatus(status)).buffer.newest_pulse_id === 19);
  const s = await bufferStatus(status);
  assert.equal(s.buffer.depth, 5);
  assert.equal(s.buffer.oldest_pulse_id, 15);
  const r = receiver(out);
  const backlog = await receiveN(r, 5);
  assert.deepEqual(backlog.map(pulseIdOf), [15, 16, 17, 18, 19]);
  for (let p = 20; p < 23; p++) await src.send(testMessage(p));
  assert.deepEqual((await receiveN(r, 3)).map(pulseIdOf), [20, 21, 22]);
  assert.equal(await buf.stop('SIGTERM'), 0);
});

test('a malformed frame set is counted and does not kill the buffer; analyzer and metrics report', async () => {
  const src = await source();
  const out = await freePort();
  const status = await freePort();
  const buf = await startBuffer([src.endpoint, '-o', String(out), '--status_port', String(status), '--analyzer']);
  const r = receiver(out);
  await src.send([Buffer.from('{"htype": "bsr_m-1.1", "pulse_id": '), Buffer.from('{}')]); // bad JSON main header
  await src.send([Buffer.from('{"htype": "bsr_m-1.1", "hash": "x", "pulse_id": 7}')]); // odd frame count
  await src.send(testMessage(1, { withMissing: true }));
  await src.send(testMessage(3, { withMissing: true }));
  assert.deepEqual((await receiveN(r, 2)).map(pulseIdOf), [1, 3]);
  const s = await waitFor('malformed counted', async () => {
    const x = await bufferStatus(status);
    return x.input.received === 4 ? x : null;
  });
  assert.deepEqual(s.input.malformed, { bad_json: 1, frame_count: 1 });
  assert.equal(s.analyzer?.missing_pulses, 1);
  assert.deepEqual(s.analyzer?.missing_channel_values, { MISSING: 2 });
  const metrics = await (await fetch(`http://127.0.0.1:${status}/metrics`)).text();
  assert.match(metrics, /^bsread_buffer_malformed_total\{kind="bad_json"\} 1$/m);
  assert.match(metrics, /^bsread_analyzer_missing_channel_values_total\{channel="MISSING"\} 2$/m);
  assert.equal(buf.child.exitCode, null);
  assert.match(buf.stderr(), /malformed message dropped \(bad_json\)/);
  assert.equal(await buf.stop('SIGINT'), 0);
});

test('usage errors exit 2 with a clear message; a port in use exits 1', async () => {
  let r = await runProgram('sf_bsread_buffer', []);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /exactly one of STREAM .* and -c CHANNELS_FILE/);
  r = await runProgram('sf_bsread_buffer', ['tcp://127.0.0.1:1', '-c', 'x']);
  assert.equal(r.code, 2);
  r = await runProgram('sf_bsread_buffer', ['tcp://127.0.0.1:1', '-b', 'many']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /BUFFER_LENGTH must be an integer/);
  r = await runProgram('sf_bsread_buffer', ['127.0.0.1:9999']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /tcp:\/\/HOST:PORT/);
  r = await runProgram('sf_bsread_buffer', ['--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /--buffer_seconds/);
  const src = await source();
  const out = await freePort();
  const first = await startBuffer([src.endpoint, '-o', String(out)]);
  r = await runProgram('sf_bsread_buffer', [src.endpoint, '-o', String(out)]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot bind the output/);
  await first.stop();
});
