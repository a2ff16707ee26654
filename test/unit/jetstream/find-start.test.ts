// Finding the first stored message of a range by binary search over stream sequences.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { findStartSequence } from '../../../src/jetstream/index.js';

/** A stream as sequence → (pulse id, part); sequences start at `first`. */
function stream(first: number, entries: { pulseId: number; part: number }[]) {
  let reads = 0;
  const at = async (seq: number) => {
    reads++;
    return entries[seq - first] ?? null;
  };
  return { at, reads: () => reads, last: first + entries.length - 1 };
}

test('the first message at or after the pulse, in about log2(n) reads', async () => {
  const entries = Array.from({ length: 60_000 }, (_, i) => ({ pulseId: 1000 + i * 2, part: 0 }));
  const s = stream(501, entries);
  assert.equal(await findStartSequence(s.at, 501, s.last, 1000 + 2 * 54_000), 501 + 54_000);
  assert.equal(await findStartSequence(s.at, 501, s.last, 1001), 502); // between two pulses
  assert.ok(s.reads() < 40, `${s.reads()} reads`);
  assert.equal(await findStartSequence(s.at, 501, s.last, 5), 501); // older than the stream
  assert.equal(await findStartSequence(s.at, 501, s.last, 10 ** 9), s.last + 1); // newer than all
});

test('a split message is entered at its part 0', async () => {
  const entries = [
    { pulseId: 1, part: 0 },
    { pulseId: 2, part: 0 },
    { pulseId: 2, part: 1 },
    { pulseId: 2, part: 2 },
    { pulseId: 3, part: 0 },
  ];
  const s = stream(1, entries);
  assert.equal(await findStartSequence(s.at, 1, 5, 2), 2);
  assert.equal(await findStartSequence(s.at, 1, 5, 3), 5);
});

test('agrees with a linear scan for any increasing stream', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 200 }), fc.integer({ min: 0, max: 600 }), async (steps, from) => {
      let p = 0;
      const entries = steps.map((d) => ({ pulseId: (p += d), part: 0 }));
      const s = stream(10, entries);
      const linear = entries.findIndex((e) => e.pulseId >= from);
      const want = linear < 0 ? s.last + 1 : 10 + linear;
      assert.equal(await findStartSequence(s.at, 10, s.last, from), want);
    }),
  );
});
