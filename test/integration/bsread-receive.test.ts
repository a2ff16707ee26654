// `bsread receive` as a user runs it: a real child process connected to a live sender that
// uses our encoder, on loopback.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { encodeMessage } from '../../src/bsread/index.js';
import { StreamSender } from '../helpers/stream-sender.js';
import { runProgram, startProgram, stopAllPrograms } from '../helpers/process.js';
import { waitFor } from '../helpers/wait.js';

after(stopAllPrograms);

function message(pulseId: number): Buffer[] {
  return encodeMessage({
    pulseId,
    globalTimestamp: { sec: 1_700_000_000 + pulseId, ns: 250 },
    channels: [
      { def: { name: 'SARFE10-PBPG050:HAMP-INTENSITY-CAL', type: 'float64' }, value: pulseId / 4 },
      { def: { name: 'SINEG01-DBPM340:WF', type: 'int16', shape: [3], encoding: 'big', compression: 'bitshuffle_lz4' }, value: new Int16Array([-1, pulseId, 7]) },
      { def: { name: 'CAM:IMG', type: 'uint8', shape: [3, 2], compression: 'lz4' }, value: { shape: [2, 3], data: new Uint8Array([1, 2, 3, 4, 5, pulseId % 256]) } },
      { def: { name: 'TXT', type: 'string' }, value: `pulse ${pulseId} µ` },
      { def: { name: 'GONE', type: 'int32' }, value: null },
    ],
  });
}

test("bsread receive --json prints each message in the fixtures' value format", async () => {
  const sender = await StreamSender.bind({ address: 'tcp://127.0.0.1:0', highWaterMark: 100 });
  try {
    const rx = startProgram('bsread', ['receive', '-s', sender.endpoint, '-n', '3', '--json']);
    // PUSH blocks until the receiver connects, so nothing is lost before it is up.
    for (let p = 10; p < 13; p++) await sender.send(message(p));
    assert.equal(await rx.exited, 0, rx.stderr());
    const lines = rx
      .stdout()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, 3);
    assert.deepEqual(lines[1], {
      pulse_id: 11,
      global_timestamp: { sec: 1_700_000_011, ns: 250 },
      channels: {
        'SARFE10-PBPG050:HAMP-INTENSITY-CAL': { value: 2.75, timestamp: [1_700_000_011, 250] },
        'SINEG01-DBPM340:WF': { value: { dtype: 'int16', shape: [3], values: [-1, 11, 7] }, timestamp: [1_700_000_011, 250] },
        'CAM:IMG': { value: { dtype: 'uint8', shape: [2, 3], values: [1, 2, 3, 4, 5, 11] }, timestamp: [1_700_000_011, 250] },
        TXT: { value: 'pulse 11 µ', timestamp: [1_700_000_011, 250] },
        GONE: { value: null, timestamp: null },
      },
    });
    assert.deepEqual(
      lines.map((l) => l.pulse_id),
      [10, 11, 12],
    );
  } finally {
    sender.close();
  }
});

test('bsread receive prints a readable table and skips malformed messages', async () => {
  const sender = await StreamSender.bind({ address: 'tcp://127.0.0.1:0', highWaterMark: 100 });
  try {
    const rx = startProgram('bsread', ['receive', '-s', sender.endpoint, '-n', '1']);
    await sender.send([Buffer.from('{not json'), Buffer.alloc(0)]);
    await sender.send(message(42));
    assert.equal(await rx.exited, 0, rx.stderr());
    assert.match(rx.stdout(), /pulse_id 42/);
    assert.match(rx.stdout(), /SINEG01-DBPM340:WF\s+int16\[3\] bitshuffle_lz4\s+\[-1, 42, 7\]/);
    assert.match(rx.stdout(), /GONE\s+int32\[1\]\s+\(missing\)/);
    await waitFor('the drop to be logged', () => rx.stderr().includes('bad_json'));
  } finally {
    sender.close();
  }
});

test('bsread receive rejects a bad address and a bad count with status 2', async () => {
  const bad = await runProgram('bsread', ['receive', '-s', 'localhost:9999']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /not of the form tcp:\/\/HOST:PORT/);
  const count = await runProgram('bsread', ['receive', '-s', 'tcp://127.0.0.1:9', '-n', '0']);
  assert.equal(count.code, 2);
  assert.match(count.stderr, /--count must be an integer from 1/);
});

test('bsread receive --timeout ends with status 1 when the source is silent', async () => {
  const r = await runProgram('bsread', ['receive', '-s', 'tcp://127.0.0.1:9', '--timeout', '0.3']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no message from tcp:\/\/127\.0\.0\.1:9/);
});

test('with -s, channel names choose what is printed; a name not in the stream is warned about', async () => {
  const sender = await StreamSender.bind({ address: 'tcp://127.0.0.1:0', highWaterMark: 100 });
  try {
    const rx = startProgram('bsread', ['receive', '-s', sender.endpoint, '-n', '1', '--json', 'TXT', 'GONE', 'NO-SUCH']);
    await sender.send(message(5));
    assert.equal(await rx.exited, 0, rx.stderr());
    const line = JSON.parse(rx.stdout()) as { pulse_id: number; channels: Record<string, unknown> };
    assert.equal(line.pulse_id, 5);
    assert.deepEqual(Object.keys(line.channels), ['TXT', 'GONE']);
    assert.match(rx.stderr(), /warning: not in the stream: NO-SUCH/);
    const table = startProgram('bsread', ['receive', '-s', sender.endpoint, '-n', '1', 'CAM:IMG']);
    await sender.send(message(6));
    assert.equal(await table.exited, 0, table.stderr());
    assert.match(table.stdout(), /pulse_id 6 .* 1 of 5 channels\n {2}CAM:IMG\s+uint8\[3,2\] lz4\s+\[1, 2, 3, 4, 5, 6\]\n\n$/);
  } finally {
    sender.close();
  }
});
