// How a bsread message is stored in JetStream: payload, parts, headers, and joining the parts
// again, including parts that never come and parts of two messages interleaved.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decodeRecord,
  encodeRecord,
  formatTimestamp,
  PartAssembler,
  parseTimestamp,
  publishParts,
  readPartHeaders,
  recordHeaders,
  recordMessageId,
  splitRecord,
} from '../../../src/jetstream/index.js';
import { packFrames } from '../../../src/transport/index.js';

const frames = [Buffer.from('{"htype":"bsr_m-1.1"}'), Buffer.from('{}'), Buffer.alloc(3000, 7), Buffer.alloc(0), Buffer.from([1, 2, 3])];

test('a payload decodes to exactly the frames it was made of', () => {
  const payload = encodeRecord(packFrames(frames));
  const back = decodeRecord(payload);
  assert.notEqual(typeof back, 'string');
  if (typeof back === 'string') return;
  assert.equal(back.length, frames.length);
  for (let i = 0; i < frames.length; i++) assert.deepEqual(Buffer.from(back.data.subarray(back.offsets[i]!, back.offsets[i + 1]!)), frames[i]);
});

test('a damaged payload is reported, not thrown', () => {
  const payload = encodeRecord(packFrames(frames));
  assert.match(decodeRecord(payload.subarray(0, 5)) as string, /too short/);
  assert.match(decodeRecord(payload.subarray(0, payload.length - 1)) as string, /stored message/);
  const huge = Buffer.from(payload);
  huge.writeUInt32LE(1_000_000, 0);
  assert.match(decodeRecord(huge) as string, /claims 1000000 frames/);
});

test('split into parts of at most the part size, joined again in any order', () => {
  const payload = encodeRecord(packFrames(frames));
  const parts = splitRecord(payload, 1000);
  assert.equal(parts.length, Math.ceil(payload.length / 1000));
  assert.ok(parts.every((p) => p.byteLength <= 1000));
  const a = new PartAssembler();
  const order = parts.map((_, i) => i).reverse();
  let whole: Uint8Array | null = null;
  for (const i of order) whole = a.add({ pulseId: 7, part: i, parts: parts.length, payload: parts[i]! });
  assert.deepEqual(Buffer.from(whole!), payload);
  assert.equal(a.incomplete, 0);
  assert.equal(a.pendingCount, 0);
  assert.deepEqual(splitRecord(payload, payload.length), [payload]);
});

test('a message whose parts do not all come is dropped and counted, never handed on', () => {
  const a = new PartAssembler(2);
  const p = (pulseId: number, part: number): Uint8Array | null => a.add({ pulseId, part, parts: 3, payload: Buffer.from([pulseId, part]) });
  assert.equal(p(1, 0), null);
  assert.equal(p(1, 1), null); // part 2 of pulse 1 never comes
  assert.equal(p(2, 0), null);
  assert.equal(p(3, 0), null); // a third message under way: pulse 1 is given up
  assert.equal(a.incomplete, 1);
  assert.equal(p(1, 2), null); // too late: starts a new, incomplete entry, which evicts pulse 2
  assert.equal(a.incomplete, 2);
  p(3, 1);
  assert.deepEqual(Buffer.from(p(3, 2)!), Buffer.from([3, 0, 3, 1, 3, 2]));
});

test('parts of two messages interleaved (two buffers) and repeated parts are joined once', () => {
  const a = new PartAssembler();
  const add = (pulseId: number, part: number): Uint8Array | null => a.add({ pulseId, part, parts: 2, payload: Buffer.from([pulseId, part]) });
  assert.equal(add(5, 0), null);
  assert.equal(add(6, 0), null);
  assert.equal(add(5, 0), null);
  assert.deepEqual(Buffer.from(add(5, 1)!), Buffer.from([5, 0, 5, 1]));
  assert.deepEqual(Buffer.from(add(6, 1)!), Buffer.from([6, 0, 6, 1]));
  assert.equal(a.incomplete, 0);
});

test('headers carry pulse id, timestamp and part; message ids differ per part', () => {
  const h = new Map(recordHeaders({ pulseId: 123456789012, globalTimestamp: { sec: 1700000000, ns: 5 } }, 1, 3));
  assert.equal(h.get('Bsread-Pulse-Id'), '123456789012');
  assert.equal(h.get('Bsread-Global-Timestamp'), '1700000000.000000005');
  assert.equal(h.get('Bsread-Part'), '1/3');
  assert.deepEqual(
    readPartHeaders((k) => h.get(k)),
    { pulseId: 123456789012, part: 1, parts: 3 },
  );
  assert.equal(new Map(recordHeaders({ pulseId: 1, globalTimestamp: null }, 0, 1)).has('Bsread-Part'), false);
  assert.equal(recordMessageId(42, 0, 1), '42');
  assert.notEqual(recordMessageId(42, 0, 2), recordMessageId(42, 1, 2));
  assert.deepEqual(parseTimestamp(formatTimestamp({ sec: 12, ns: 999_999_999 })), { sec: 12, ns: 999_999_999 });
  assert.equal(parseTimestamp('12.5'), null);
});

test('bad headers are reported', () => {
  assert.match(readPartHeaders(() => undefined) as string, /Bsread-Pulse-Id is missing/);
  assert.match(readPartHeaders((k) => (k === 'Bsread-Pulse-Id' ? '-1' : undefined)) as string, /"-1"/);
  assert.match(readPartHeaders((k) => (k === 'Bsread-Pulse-Id' ? '5' : '3/3')) as string, /Bsread-Part/);
  assert.match(readPartHeaders((k) => (k === 'Bsread-Pulse-Id' ? '5' : '0/0')) as string, /Bsread-Part/);
});

test('a large message is published as its head, then views of its frames; joined, the parts are the payload', () => {
  const big = packFrames([Buffer.from('{"htype":"bsr_m-1.1"}'), Buffer.from('{}'), Buffer.alloc(2500, 9), Buffer.alloc(8)]);
  const parts = publishParts(big, 1000);
  assert.ok(parts.every((p) => p.byteLength <= 1000));
  assert.equal(parts[0]!.byteLength, 4 * 6); // frame count + 5 offsets
  assert.equal(parts[1]!.buffer, big.data.buffer, 'the frames are not copied');
  assert.deepEqual(Buffer.concat(parts), encodeRecord(big));
  const a = new PartAssembler();
  let whole: Uint8Array | null = null;
  parts.forEach((payload, i) => (whole = a.add({ pulseId: 1, part: i, parts: parts.length, payload })));
  assert.notEqual(typeof decodeRecord(whole!), 'string');
  // A small one is one part.
  assert.deepEqual(publishParts(packFrames(frames), 1 << 20), [encodeRecord(packFrames(frames))]);
});
