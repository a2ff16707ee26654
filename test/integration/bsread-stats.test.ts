// `bsread stats` as a user runs it, against a stream with known anomalies.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { encodeMessage } from '../../src/bsread/index.js';
import { StreamSender } from '../helpers/stream-sender.js';
import { startProgram, stopAllPrograms } from '../helpers/process.js';

after(stopAllPrograms);

test('bsread stats counts missed, duplicated and backward pulse ids and channels missing data', async () => {
  const sender = await StreamSender.bind({ address: 'tcp://127.0.0.1:0', highWaterMark: 100 });
  // 100 101 [gap of 3] 105 105(dup) 104(back) [gap of 1] 106; channel B missing in 2 messages.
  const pulses = [100, 101, 105, 105, 104, 106];
  const now = Math.floor(Date.now() / 1000);
  try {
    const stats = startProgram('bsread', ['stats', '-s', sender.endpoint, '-n', String(pulses.length + 0), '--json']);
    await sender.send([Buffer.from('{"htype": "bsr_m-1.1", "pulse_id": "x"}'), Buffer.from('{}')]);
    for (const [i, p] of pulses.entries()) {
      await sender.send(
        encodeMessage({
          pulseId: p,
          globalTimestamp: { sec: now, ns: 0 },
          channels: [
            { def: { name: 'A', type: 'float64' }, value: p },
            { def: { name: 'B', type: 'int32' }, value: i % 3 === 0 ? null : p },
          ],
        }),
      );
    }
    assert.equal(await stats.exited, 0, stats.stderr());
    const c = JSON.parse(stats.stdout()) as Record<string, unknown>;
    assert.equal(c.messages, 6);
    // 102..104 between 101 and 105, then 105 between 104 and 106: each step is judged against
    // the message before it, as a receiver sees the stream.
    assert.equal(c.missing_pulses, 4);
    assert.equal(c.duplicated, 1);
    assert.equal(c.backward, 1);
    assert.deepEqual(c.missing_channel_values, { B: 2 });
    assert.deepEqual(c.malformed, { bad_field: 1 });
    assert.match(stats.stderr(), /messages 6 .*missed 4 {2}duplicated 1 {2}backward 1 {2}malformed 1 {2}missing data: B\(2\)/);
  } finally {
    sender.close();
  }
});

test('with -s, channel names limit which channels are counted as missing data', async () => {
  const sender = await StreamSender.bind({ address: 'tcp://127.0.0.1:0', highWaterMark: 100 });
  const now = Math.floor(Date.now() / 1000);
  try {
    const stats = startProgram('bsread', ['stats', '-s', sender.endpoint, '-n', '3', '--json', 'A']);
    for (const p of [1, 2, 3]) {
      await sender.send(
        encodeMessage({
          pulseId: p,
          globalTimestamp: { sec: now, ns: 0 },
          channels: [
            { def: { name: 'A', type: 'float64' }, value: p === 2 ? null : p },
            { def: { name: 'B', type: 'int32' }, value: null },
          ],
        }),
      );
    }
    assert.equal(await stats.exited, 0, stats.stderr());
    const c = JSON.parse(stats.stdout()) as Record<string, unknown>;
    assert.equal(c.messages, 3);
    assert.deepEqual(c.missing_channel_values, { A: 1 });
  } finally {
    sender.close();
  }
});
