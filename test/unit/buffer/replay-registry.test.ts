import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReplayRegistry, replayGap } from '../../../src/buffer/replay-registry.js';
import { RingBuffer } from '../../../src/buffer/ring-buffer.js';
import { stored } from './helpers.js';

function drain(q: { shift(): { pulseId: number } | undefined }): number[] {
  const out: number[] = [];
  for (let m = q.shift(); m !== undefined; m = q.shift()) out.push(m.pulseId);
  return out;
}

test('snapshot then live: no gap and no duplicate at the seam', () => {
  const ring = new RingBuffer({ maxMessages: 10 });
  const reg = new ReplayRegistry({ maxMessages: 10 });
  const push = (p: number): void => {
    const m = stored(ring.allocSeq(), p);
    ring.push(m);
    reg.publish(m);
  };
  for (let p = 100; p < 110; p++) push(p); // ring holds 100..109
  const a = reg.register('a', 105, ring);
  assert.equal(a.firstPulseId, 105);
  assert.equal(a.gap, 0);
  assert.equal(a.snapshotCount, 5);
  for (let p = 110; p < 113; p++) push(p);
  assert.deepEqual(drain(a.queue), [105, 106, 107, 108, 109, 110, 111, 112]);
});

test('from older than the ring: gap = oldest - from; live only with null', () => {
  const ring = new RingBuffer({ maxMessages: 5 });
  const reg = new ReplayRegistry({ maxMessages: 5 });
  for (let p = 100; p < 110; p++) ring.push(stored(ring.allocSeq(), p)); // holds 105..109
  const a = reg.register('a', 90, ring);
  assert.equal(a.gap, 15);
  assert.equal(a.oldestPulseId, 105);
  assert.equal(a.firstPulseId, 105);
  const b = reg.register('b', null, ring);
  assert.equal(b.snapshotCount, 0);
  assert.equal(b.gap, 0);
  const m = stored(ring.allocSeq(), 110);
  ring.push(m);
  reg.publish(m);
  assert.deepEqual(drain(b.queue), [110]);
  assert.equal(replayGap(null, 5), 0);
  assert.equal(replayGap(3, null), 0);
  assert.throws(() => reg.register('a', 1, ring), RangeError);
});

test('a full consumer queue drops and counts new messages; others are unaffected', () => {
  const ring = new RingBuffer({ maxMessages: 100 });
  const reg = new ReplayRegistry({ maxMessages: 3 });
  const slow = reg.register('slow', null, ring);
  const fast = reg.register('fast', null, ring);
  for (let p = 0; p < 10; p++) {
    const m = stored(ring.allocSeq(), p);
    ring.push(m);
    reg.publish(m);
    fast.queue.shift();
  }
  assert.equal(slow.queue.depth, 3);
  assert.equal(slow.queue.dropped, 7);
  assert.equal(fast.queue.dropped, 0);
  assert.deepEqual(drain(slow.queue), [0, 1, 2]);
  reg.unregister('slow');
  assert.equal(reg.size, 1);
});

test('live messages below from_pulse_id are not queued (source restart)', () => {
  const ring = new RingBuffer({ maxMessages: 10 });
  const reg = new ReplayRegistry({ maxMessages: 10 });
  for (const p of [100, 101]) ring.push(stored(ring.allocSeq(), p));
  const a = reg.register('a', 101, ring);
  for (const p of [5, 102]) {
    const m = stored(ring.allocSeq(), p);
    ring.push(m);
    reg.publish(m);
  }
  assert.deepEqual(drain(a.queue), [101, 102]);
});
