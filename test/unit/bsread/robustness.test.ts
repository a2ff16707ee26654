// Decoder robustness (review findings): shapes the writer cannot store, the header cache, strings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDataHeader } from '../../../src/bsread/header.js';

const header = (channels: unknown[]) => Buffer.from(JSON.stringify({ htype: 'bsr_d-1.1', channels }));

test('finding 1: a shape of 32 sizes is an invalid entry (bad_field); 31 sizes are accepted', () => {
  const h = parseDataHeader(
    header([
      { name: 'A', shape: Array(32).fill(1) },
      { name: 'B', shape: Array(31).fill(1) },
    ]),
    'none',
  );
  const a = h.channels[0]!;
  assert.equal(a.invalid?.kind, 'bad_field');
  const b = h.channels[1]!;
  assert.equal(b.invalid, undefined);
  assert.equal(b.invalid === undefined ? b.shape.length : -1, 31);
});

test("finding 7: a string channel's shape is not part of its definition key", () => {
  const h = parseDataHeader(
    header([
      { name: 'S', type: 'string', shape: [12] },
      { name: 'S', type: 'string', shape: [7] },
      { name: 'S', type: 'string' },
      { name: 'S', type: 'uint8', shape: [12] },
    ]),
    'none',
  );
  const keys = h.channels.map((c) => c.key);
  assert.equal(keys[0], keys[1]);
  assert.equal(keys[0], keys[2]);
  assert.notEqual(keys[0], keys[3]);
});

test('finding 8: strings: invalid UTF-8 and embedded NULs are bad_field, trailing NULs are padding', async () => {
  const { decodeValue } = await import('../../../src/bsread/codec.js');
  const { makeChannelDef } = await import('../../../src/bsread/header.js');
  const { encodeMessage, BsreadReceiver, messageToJson } = await import('../../../src/bsread/index.js');
  const def = makeChannelDef({ name: 'S', type: 'string', shape: [1], encoding: 'little', compression: 'none', modulo: 1, offset: 0 });
  assert.equal(decodeValue(def, Buffer.from('abc\0\0\0')), 'abc');
  assert.equal(decodeValue(def, Buffer.from('\0\0')), '');
  assert.equal(decodeValue(def, Buffer.from('\ufeffé')), '\ufeffé');
  assert.throws(() => decodeValue(def, Buffer.from('abc\0def')), { kind: 'bad_field' });
  assert.throws(() => decodeValue(def, Buffer.from([0x61, 0xff, 0xfe, 0x62])), { kind: 'bad_field' });
  // receive --json: value null with the reason.
  const frames = encodeMessage({ pulseId: 1, globalTimestamp: { sec: 1, ns: 0 }, channels: [{ def: { name: 'S', type: 'string' }, value: 'x' }] });
  frames[2] = Buffer.from([0x61, 0xff]);
  const m = new BsreadReceiver().open(frames);
  assert.equal(m.kind, 'data');
  const j = messageToJson(m as never).channels['S']!;
  assert.equal(j.value, null);
  assert.match(j.error ?? '', /not valid UTF-8/);
});

test('finding 9: a reused hash with another header of the same length is parsed, not taken from the cache', async () => {
  const { BsreadReceiver } = await import('../../../src/bsread/index.js');
  const rx = new BsreadReceiver();
  const mk = (pid: number, type: string, shape: number[], value: Buffer) => {
    const dh = header([{ name: 'X', type, shape }]);
    const main = Buffer.from(JSON.stringify({ htype: 'bsr_m-1.1', hash: 'deadbeefdeadbeefdeadbeefdeadbeef', pulse_id: pid, global_timestamp: { sec: 1, ns: 0 } }));
    return [main, dh, value, Buffer.alloc(0)];
  };
  const a = rx.open(mk(1, 'int16', [2], Buffer.from(new Int16Array([1, 2]).buffer)));
  assert.equal(a.kind === 'data' && a.value(0) !== null, true);
  const b = rx.open(mk(2, 'int32', [1], Buffer.from(new Int32Array([196609]).buffer)));
  assert.equal(b.kind === 'data' ? b.value(0) : undefined, 196609);
  // The same bytes again: a cache hit.
  const c = rx.open(mk(3, 'int32', [1], Buffer.from(new Int32Array([7]).buffer)));
  assert.equal(c.kind === 'data' ? c.value(0) : undefined, 7);
  assert.equal(rx.stats.headerParses, 2);
  assert.equal(rx.stats.cacheHits, 1);
});
