// Malformed input is never a crash: each problem becomes a MalformedMessageError naming its kind
// (and channel), and a bad channel does not hide the good ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MALFORMED_KINDS, MalformedMessageError, type MalformedKind } from '../../../src/errors.js';
import { BsreadReceiver, decodeMessage, encodeMessage, readMainHeader, type NdArray } from '../../../src/bsread/index.js';
import { dataHeader, f64, mainHeader, message, openData, throwsKind, ts } from './util.js';

const r = (): BsreadReceiver => new BsreadReceiver();
const covered = new Set<MalformedKind>();
function kind(fn: () => unknown, k: MalformedKind, channel?: string): MalformedMessageError {
  covered.add(k);
  return throwsKind(fn, k, channel);
}

const ONE = [{ name: 'a' }];

test('frame_count: too few, too many, odd, none', () => {
  const good = message(ONE, [f64(1), ts()]);
  kind(() => r().open(good.slice(0, 3)), 'frame_count');
  kind(() => r().open([...good, Buffer.alloc(0), Buffer.alloc(0)]), 'frame_count');
  kind(() => r().open(good.slice(0, 1)), 'frame_count');
  kind(() => r().open([]), 'frame_count');
  kind(() => readMainHeader(good.slice(0, 3)), 'frame_count');
  // 2 frames with channels [] is a valid message.
  assert.equal(openData(message([], [])).channelCount, 0);
  // 2 frames with one channel is not.
  kind(() => r().open(message(ONE, [])), 'frame_count');
});

test('bad_json: main header or data header not a JSON object', () => {
  const dh = dataHeader(ONE);
  for (const bad of ['', '{', 'null', '[1]', '"x"', '\xff\xfe']) {
    kind(() => r().open([Buffer.from(bad, 'latin1'), dh, f64(1), ts()]), 'bad_json');
    const b = Buffer.from(bad, 'latin1');
    kind(() => r().open([mainHeader(b), b, f64(1), ts()]), 'bad_json');
  }
});

test('bad_htype / not data: control messages are a distinct result, a missing htype is an error', () => {
  const stop = [Buffer.from('{"htype": "bsr_stop-1.0"}')];
  assert.deepStrictEqual(readMainHeader(stop), { kind: 'not_data', htype: 'bsr_stop-1.0' });
  assert.deepStrictEqual(r().tryOpen(stop), { status: 'not_data', htype: 'bsr_stop-1.0' });
  const dh = dataHeader(ONE);
  kind(() => r().open([mainHeader(dh, { htype: undefined }), dh, f64(1), ts()]), 'bad_htype');
  kind(() => r().open([mainHeader(dh, { htype: 11 }), dh, f64(1), ts()]), 'bad_htype');
  // Any bsr_m version is data; any data-header htype is accepted.
  assert.equal(openData([mainHeader(dh, { htype: 'bsr_m-1.0' }), dh, f64(1), ts()]).pulseId, 7);
  const dh0 = dataHeader(ONE, { htype: 'bsr_d-1.0' });
  assert.equal(openData([mainHeader(dh0), dh0, f64(1), ts()]).header.htype, 'bsr_d-1.0');
});

test('missing_field: pulse_id, hash, channels, channel name', () => {
  const dh = dataHeader(ONE);
  kind(() => r().open([mainHeader(dh, { pulse_id: undefined }), dh, f64(1), ts()]), 'missing_field');
  kind(() => r().open([mainHeader(dh, { pulse_id: null }), dh, f64(1), ts()]), 'missing_field');
  kind(() => r().open([mainHeader(dh, { hash: undefined }), dh, f64(1), ts()]), 'missing_field');
  const noChannels = Buffer.from('{"htype": "bsr_d-1.1"}');
  kind(() => r().open([mainHeader(noChannels), noChannels]), 'missing_field');
  kind(() => r().open(message([{ type: 'float64' }], [f64(1), ts()])), 'missing_field');
});

test('bad_field: pulse_id, hash, global_timestamp, channels, entries', () => {
  const dh = dataHeader(ONE);
  for (const p of [-1, 1.5, '7', 2 ** 53, true]) {
    kind(() => r().open([mainHeader(dh, { pulse_id: p }), dh, f64(1), ts()]), 'bad_field');
  }
  kind(() => r().open([mainHeader(dh, { hash: 5 }), dh, f64(1), ts()]), 'bad_field');
  for (const g of [5, [1, 2], { sec: 'x', ns: 0 }, { sec: 1, ns: 0.5 }, {}]) {
    kind(() => r().open([mainHeader(dh, { global_timestamp: g }), dh, f64(1), ts()]), 'bad_field');
  }
  kind(() => r().open([mainHeader(dh, { dh_compression: 3 }), dh, f64(1), ts()]), 'bad_field');
  const notList = Buffer.from('{"channels": {"a": 1}}');
  kind(() => r().open([mainHeader(notList), notList]), 'bad_field');
  kind(() => r().open(message([5], [f64(1), ts()])), 'bad_field');
  kind(() => r().open(message([{ name: 3 }], [f64(1), ts()])), 'bad_field');
});

test('bad_field in one channel entry: only that channel fails', () => {
  const cases: Record<string, unknown>[] = [
    { shape: [-1] },
    { shape: 'x' },
    { shape: [1.5] },
    { shape: [2 ** 40, 2 ** 40] },
    { modulo: 0 },
    { modulo: 'x' },
    { offset: 0.5 },
    { type: 5 },
    { compression: 5 },
  ];
  for (const c of cases) {
    const msg = openData(message([{ name: 'bad', ...c }, { name: 'good' }], [f64(1), ts(), f64(2), ts()]));
    assert.ok(msg.entry(0).invalid, JSON.stringify(c));
    kind(() => msg.value(0), 'bad_field', 'bad');
    kind(() => msg.def(0), 'bad_field', 'bad');
    assert.equal(msg.isPresent(0), true);
    assert.equal(msg.value(1), 2);
    assert.deepStrictEqual(
      msg.errors().map((e) => [e.index, e.name, e.error.kind]),
      [[0, 'bad', 'bad_field']],
    );
  }
});

test('unknown_type and unknown_compression are per channel; dh_compression unknown drops the message', () => {
  const msg = openData(message([{ name: 'u', type: 'float16' }, { name: 'c', compression: 'zstd' }, { name: 'ok' }], [f64(1), ts(), f64(1), ts(), f64(3), ts()]));
  kind(() => msg.value(0), 'unknown_type', 'u');
  kind(() => msg.value(1), 'unknown_compression', 'c');
  kind(() => msg.timestamp(0), 'unknown_type', 'u');
  assert.equal(msg.value(2), 3);
  // Case is forgiven for types (BP lower-cases them).
  assert.equal(openData(message([{ name: 'F', type: 'Float64' }], [f64(4), ts()])).value(0), 4);
  const dh = dataHeader(ONE);
  kind(() => r().open([mainHeader(dh, { dh_compression: 'gzip' }), dh, f64(1), ts()]), 'unknown_compression');
});

test('decompress: corrupt compressed values (per channel) and data headers (per message)', () => {
  for (const compression of ['bitshuffle_lz4', 'lz4'] as const) {
    const frames = encodeMessage({
      pulseId: 1,
      globalTimestamp: { sec: 1, ns: 1 },
      channels: [
        { def: { name: 'z', compression }, value: new Float64Array(100).map((_, i) => i) },
        { def: { name: 'ok' }, value: 5 },
      ],
    });
    const value = Buffer.from(frames[2]!);
    value.fill(0xff, 16); // the LZ4 stream becomes garbage
    frames[2] = value;
    const msg = openData(frames);
    kind(() => msg.value(0), 'decompress', 'z');
    kind(() => msg.bytes(0), 'decompress', 'z');
    assert.equal(msg.value(1), 5);
    // Truncated header.
    frames[2] = value.subarray(0, 3);
    kind(() => openData(frames).value(0), 'decompress', 'z');

    const dhFrames = encodeMessage({ pulseId: 1, globalTimestamp: { sec: 1, ns: 1 }, channels: [{ def: { name: 'a' }, value: 1 }], dhCompression: compression });
    const dh = Buffer.from(dhFrames[1]!);
    dh.fill(0xff, 14);
    kind(() => r().open([mainHeader(dh, { dh_compression: compression }), dh, f64(1), ts()]), 'decompress');
  }
});

test('size_mismatch: value bytes must equal type size × elements (not for strings)', () => {
  const msg = openData(
    message(
      [
        { name: 'scalar' },
        { name: 'wf', type: 'int16', shape: [3] },
        { name: 'img', type: 'uint8', shape: [2, 2] },
        { name: 'str', type: 'string', shape: [1] },
        { name: 'str2', type: 'string', shape: [99] },
      ],
      [Buffer.alloc(7), ts(), Buffer.alloc(8), ts(), Buffer.alloc(5), ts(), Buffer.from('hello'), ts(), Buffer.from('µ'), ts()],
    ),
  );
  kind(() => msg.value(0), 'size_mismatch', 'scalar');
  kind(() => msg.value(1), 'size_mismatch', 'wf');
  kind(() => msg.bytes(1), 'size_mismatch', 'wf');
  kind(() => msg.value(2), 'size_mismatch', 'img');
  assert.equal(msg.value(3), 'hello');
  assert.equal(msg.value(4), 'µ');
  // Compressed: the declared size is checked too (cheaply, for direct chunk writes).
  const frames = encodeMessage({
    pulseId: 1,
    globalTimestamp: { sec: 1, ns: 1 },
    channels: [{ def: { name: 'b', type: 'uint16', shape: [10], compression: 'bitshuffle_lz4' }, value: new Uint16Array(10) }],
  });
  const dh = dataHeader([{ name: 'b', type: 'uint16', shape: [11], compression: 'bitshuffle_lz4' }]);
  const lying = openData([mainHeader(dh), dh, frames[2]!, frames[3]!]);
  kind(() => lying.compressedChunk(0), 'size_mismatch', 'b');
  kind(() => lying.value(0), 'size_mismatch', 'b');
});

test('bad_timestamp: a timestamp frame that is neither empty nor 16 bytes', () => {
  const msg = openData(message([{ name: 'a' }, { name: 'b' }], [f64(1), Buffer.alloc(8), f64(2), Buffer.alloc(0)]));
  kind(() => msg.timestamp(0), 'bad_timestamp', 'a');
  assert.equal(msg.value(0), 1); // the value itself is fine
  assert.equal(msg.timestamp(1), null); // empty: use the global timestamp
  const huge = Buffer.alloc(16, 0x7f);
  kind(() => openData(message(ONE, [f64(1), huge])).timestamp(0), 'bad_timestamp', 'a');
});

test('missing values: both frames empty, or a compressed frame declaring 0 bytes', () => {
  const bs0 = Buffer.alloc(12);
  bs0.writeUInt32BE(8192, 8);
  const msg = openData(
    message(
      [{ name: 'm' }, { name: 'bs', compression: 'bitshuffle_lz4', shape: [4] }, { name: 'lz', compression: 'lz4' }, { name: 's', type: 'string' }],
      [Buffer.alloc(0), Buffer.alloc(0), bs0, ts(), Buffer.alloc(4), ts(), Buffer.alloc(0), Buffer.alloc(0)],
    ),
  );
  for (let i = 0; i < 4; i++) {
    assert.equal(msg.isPresent(i), false);
    assert.equal(msg.value(i), null);
    assert.equal(msg.bytes(i), null);
  }
  assert.equal(msg.compressedChunk(1), null);
});

test('decodeMessage and tryOpen return values for every outcome', () => {
  const bad = decodeMessage([Buffer.from('nope')]);
  assert.equal(bad.status, 'malformed');
  assert.equal(bad.status === 'malformed' && bad.error.kind, 'bad_json');
  const ok = decodeMessage(message(ONE, [f64(9), ts()]));
  assert.equal(ok.status === 'ok' && ok.message.value(0), 9);
  const arr = decodeMessage(message([{ name: 'w', type: 'int8', shape: [2] }], [Buffer.from([1, 255]), ts()]));
  assert.deepStrictEqual(ok.status === 'ok' && [...((arr.status === 'ok' && arr.message.value(0)) as NdArray).data], [1, -1]);
});

test('every MalformedKind is exercised by this file', () => {
  assert.deepStrictEqual([...covered].sort(), [...MALFORMED_KINDS].sort());
});
