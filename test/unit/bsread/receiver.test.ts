// Headers and the receiver: §3.2 defaults, the main header read alone (the buffer's path), and the
// data-header cache keyed by hash (parse only on a new hash, never cache a failed parse).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BsreadReceiver, encodeMessage, md5hex, readMainHeader, type ChannelDef } from '../../../src/bsread/index.js';
import { dataHeader, f64, GT, mainHeader, message, openData, throwsKind, ts } from './util.js';

test('readMainHeader reads frame 0 only', () => {
  const frames = encodeMessage({ pulseId: 42, globalTimestamp: GT, channels: [{ def: { name: 'a' }, value: 1 }], dhCompression: 'lz4' });
  const guarded = new Proxy(frames, {
    get(target, prop, receiver) {
      if (typeof prop === 'string' && /^\d+$/.test(prop) && prop !== '0') throw new Error(`frame ${prop} was touched`);
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
  assert.deepStrictEqual(readMainHeader(guarded), {
    kind: 'data',
    htype: 'bsr_m-1.1',
    pulseId: 42,
    globalTimestamp: GT,
    hash: md5hex(frames[1]!),
    dhCompression: 'lz4',
  });
});

test('main header defaults: no dh_compression or null is none; no global_timestamp is null; legacy epoch', () => {
  const dh = dataHeader([]);
  assert.equal(readMainHeader([mainHeader(dh, { dh_compression: null }), dh]).kind, 'data');
  const h = readMainHeader([mainHeader(dh, { global_timestamp: undefined }), dh]);
  assert.ok(h.kind === 'data' && h.globalTimestamp === null && h.dhCompression === 'none');
  const e = readMainHeader([mainHeader(dh, { global_timestamp: { epoch: 5, ns: 6 } }), dh]);
  assert.deepStrictEqual(e.kind === 'data' && e.globalTimestamp, { sec: 5, ns: 6 });
});

test('data header: every §3.2 default is applied (BJ leaves defaults out)', () => {
  const msg = openData(
    message(
      [
        { name: 'Float64Scalar' },
        { name: 'BoolScalar', type: 'bool' },
        { name: 'all', type: 'uint16', shape: [3, 2], encoding: 'big', compression: null, modulo: 10, offset: 3 },
        { name: 'gt', encoding: '>' },
        { name: 'odd', encoding: 'middle' },
      ],
      [f64(1), ts(), Buffer.from([1]), ts(), Buffer.alloc(12), ts(), Buffer.alloc(8), ts(), f64(2), ts()],
    ),
  );
  const pick = (d: ChannelDef) => [d.name, d.type, [...d.shape], d.encoding, d.compression, d.modulo, d.offset, [...d.cShape], d.elements];
  assert.deepStrictEqual(
    msg.channels.map((_, i) => pick(msg.def(i))),
    [
      ['Float64Scalar', 'float64', [1], 'little', 'none', 1, 0, [1], 1],
      ['BoolScalar', 'bool', [1], 'little', 'none', 1, 0, [1], 1],
      ['all', 'uint16', [3, 2], 'big', 'none', 10, 3, [2, 3], 6],
      ['gt', 'float64', [1], 'big', 'none', 1, 0, [1], 1],
      ['odd', 'float64', [1], 'little', 'none', 1, 0, [1], 1],
    ],
  );
  assert.equal(msg.value(0), 1);
  assert.equal(msg.value(1), 1);
  assert.equal(msg.indexOf('BoolScalar'), 1);
  assert.equal(msg.indexOf('nope'), -1);
});

test('ChannelDef.key: equal exactly when the definitions are equal after defaults', () => {
  const a = openData(
    message([{ name: 'x' }, { name: 'x', type: 'float64', shape: [1], encoding: 'little', compression: 'none', modulo: 1, offset: 0 }], [f64(1), ts(), f64(1), ts()]),
  );
  assert.equal(a.def(0).key, a.def(1).key);
  for (const change of [{ type: 'int64' }, { shape: [2] }, { encoding: 'big' }, { compression: 'lz4' }, { modulo: 2 }, { offset: 1 }, { name: 'y' }]) {
    const b = openData(message([{ name: 'x', ...change }], [Buffer.alloc(0), Buffer.alloc(0)]));
    assert.notEqual(b.def(0).key, a.def(0).key, JSON.stringify(change));
  }
});

function stream(hashes: (string | undefined)[], headers: Buffer[]): Buffer[][] {
  return hashes.map((h, k) => {
    const dh = headers[k]!;
    return [mainHeader(dh, h === undefined ? { pulse_id: k } : { pulse_id: k, hash: h }), dh, f64(k), ts()];
  });
}

test('cache: frame 1 is parsed only when the hash changes', () => {
  const A = dataHeader([{ name: 'a' }]);
  const B = dataHeader([{ name: 'b' }]);
  const r = new BsreadReceiver();
  const seq = [A, A, A, B, B, A, B, A];
  for (const frames of stream(
    seq.map(() => undefined),
    seq,
  ))
    openData(frames, r);
  assert.equal(r.stats.headerParses, 2);
  assert.equal(r.stats.cacheHits, 6);
  // Parsed headers are shared, not copied.
  const m1 = openData(stream([undefined], [A])[0]!, r);
  const m2 = openData(stream([undefined], [A])[0]!, r);
  assert.equal(m1.header, m2.header);
});

test('cache: bounded, least recently used goes first', () => {
  const r = new BsreadReceiver({ headerCacheSize: 2 });
  const H = [0, 1, 2].map((i) => dataHeader([{ name: `c${i}` }]));
  const seq = [H[0]!, H[1]!, H[0]!, H[2]!, H[0]!, H[1]!];
  // 0 miss, 1 miss, 0 hit, 2 miss (evicts 1), 0 hit, 1 miss
  for (const frames of stream(
    seq.map(() => undefined),
    seq,
  ))
    openData(frames, r);
  assert.equal(r.stats.headerParses, 4);
  assert.equal(r.stats.cacheHits, 2);
});

test('cache: a failed parse is not cached; the next message with that hash is parsed again', () => {
  const bad = Buffer.from('{"channels": [{"type": "float64"}]}'); // no name
  const r = new BsreadReceiver();
  for (let k = 0; k < 3; k++) throwsKind(() => r.open([mainHeader(bad), bad, f64(1), ts()]), 'missing_field');
  assert.equal(r.stats.headerParses, 3);
  assert.equal(r.stats.cacheHits, 0);
  // A frame-count error after a good parse does cache (the header itself was fine).
  const A = dataHeader([{ name: 'a' }]);
  throwsKind(() => r.open([mainHeader(A), A]), 'frame_count');
  openData([mainHeader(A), A, f64(1), ts()], r);
  assert.equal(r.stats.cacheHits, 1);
});

test("cache: hash '' is never cached (parse every time) and still decodes", () => {
  const A = dataHeader([{ name: 'a' }]);
  const r = new BsreadReceiver();
  for (let k = 0; k < 3; k++) assert.equal(openData([mainHeader(A, { hash: '' }), A, f64(k), ts()], r).value(0), k);
  assert.equal(r.stats.headerParses, 3);
});

test('cache: a producer reusing one hash for different headers of different length is not fooled', () => {
  const A = dataHeader([{ name: 'a' }]);
  const B = dataHeader([{ name: 'bb', type: 'int8' }]);
  const r = new BsreadReceiver();
  assert.equal(openData([mainHeader(A, { hash: 'same' }), A, f64(1), ts()], r).def(0).name, 'a');
  assert.equal(openData([mainHeader(B, { hash: 'same' }), B, Buffer.from([5]), ts()], r).value(0), 5);
});

test('verifyHash: a wrong hash is detected, the header is used but not cached', () => {
  const A = dataHeader([{ name: 'a' }]);
  const B = dataHeader([{ name: 'b' }]); // same length as A
  const r = new BsreadReceiver({ verifyHash: true });
  assert.equal(openData([mainHeader(A), A, f64(1), ts()], r).def(0).name, 'a');
  // B sent under A's hash: without verification the cache would hand out A's definitions.
  assert.equal(openData([mainHeader(B, { hash: md5hex(A) }), B, f64(1), ts()], r).def(0).name, 'b');
  assert.equal(r.stats.hashMismatches, 1);
  assert.equal(openData([mainHeader(A, { hash: 'wrong' }), A, f64(1), ts()], r).def(0).name, 'a');
  assert.equal(openData([mainHeader(A, { hash: 'wrong' }), A, f64(1), ts()], r).def(0).name, 'a');
  assert.equal(r.stats.hashMismatches, 3);
  assert.equal(r.stats.headerParses, 4);
  // Off (the default): no MD5, but a cache hit must have the same bytes, so B is still parsed.
  const trusting = new BsreadReceiver();
  openData([mainHeader(A), A, f64(1), ts()], trusting);
  assert.equal(openData([mainHeader(B, { hash: md5hex(A) }), B, f64(1), ts()], trusting).def(0).name, 'b');
  assert.equal(trusting.stats.hashMismatches, 0);
});
