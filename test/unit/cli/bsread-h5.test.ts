// bsread h5's pure parts: the channel filter used with -s and channel names, the summary line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BsreadReceiver, encodeMessage, messageToJson, type BsreadMessage } from '../../../src/bsread/index.js';
import { ChannelFilter, formatH5Summary } from '../../../src/cli/bsread-h5.js';

const receiver = new BsreadReceiver();

function message(pulseId: number): BsreadMessage {
  const frames = encodeMessage({
    pulseId,
    globalTimestamp: { sec: 1_700_000_000, ns: pulseId },
    channels: [
      { def: { name: 'A', type: 'float64' }, value: pulseId / 2 },
      { def: { name: 'B', type: 'int16', shape: [3], compression: 'bitshuffle_lz4' }, value: new Int16Array([1, 2, pulseId]) },
      { def: { name: 'C', type: 'string' }, value: `c${pulseId}` },
    ],
  });
  return receiver.open(frames) as BsreadMessage;
}

test('ChannelFilter keeps the named channels in frame order, values and timestamps intact', () => {
  const filter = new ChannelFilter(new Set(['C', 'A', 'MISSING']));
  const m = filter.apply(message(7));
  assert.deepEqual(
    m.channels.map((c) => c.name),
    ['A', 'C'],
  );
  assert.equal(m.pulseId, 7);
  const full = messageToJson(message(7));
  assert.deepEqual(messageToJson(m).channels, { A: full.channels['A'], C: full.channels['C'] });
  assert.deepEqual([...filter.seen].sort(), ['A', 'C']);
});

test('ChannelFilter reuses one reduced header per received header, and passes a message through when all its channels are wanted', () => {
  const filter = new ChannelFilter(new Set(['B']));
  const a = filter.apply(message(1));
  const b = filter.apply(message(2));
  assert.equal(a.header, b.header);
  assert.equal(b.indexOf('B'), 0);
  const all = new ChannelFilter(new Set(['A', 'B', 'C']));
  const m = message(3);
  assert.equal(all.apply(m), m);
});

test('formatH5Summary: count, path, pulse-id range and what went wrong, on one line', () => {
  const base = { path: '/data/x.h5', written: 50, firstPulseId: 100, lastPulseId: 149, malformed: 0, channelErrors: 0, neverSeen: [], error: null };
  assert.equal(formatH5Summary(base), 'bsread h5: 50 messages written to /data/x.h5, pulse ids 100..149');
  assert.equal(formatH5Summary({ ...base, written: 0, firstPulseId: null, lastPulseId: null }), 'bsread h5: 0 messages written to /data/x.h5, no pulse ids');
  assert.equal(
    formatH5Summary({ ...base, malformed: 2, channelErrors: 1, neverSeen: ['X', 'Y'], error: 'disk full' }),
    'bsread h5: 50 messages written to /data/x.h5, pulse ids 100..149; 2 malformed messages skipped; 1 malformed values written as missing; channels never seen: X, Y; stopped by an error: disk full',
  );
});
