// encode → decode round trips for every type × rank × endianness × compression (values and data
// header), and our encoder against the conventions of the real messages in the fixtures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import {
  BSREAD_TYPES,
  BsreadReceiver,
  COMPRESSIONS,
  ENCODINGS,
  TYPES,
  encodeMessage,
  md5hex,
  resolveChannelDef,
  type BsreadMessage,
  type BsreadType,
  type ChannelValue,
  type Compression,
  type EncodeChannel,
  type Encoding,
  type NdArray,
  type TypedArray,
} from '../../../src/bsread/index.js';
import { fixtureFiles, loadFixture } from '../../helpers/fixtures.js';

/** C-order shapes per rank; the 1-D one is long enough for several bitshuffle blocks plus a tail. */
const SHAPES: Record<string, number[]> = { scalar: [1], '1d': [2053], '2d': [3, 5], '3d': [2, 3, 7] };

/** Deterministic test data with the awkward values of each type (extremes, NaN, -0, denormals). */
function makeData(type: BsreadType, n: number, seed: number): TypedArray {
  const t = TYPES[type];
  const a = new t.array(n);
  for (let i = 0; i < n; i++) {
    const k = i + seed;
    switch (type) {
      case 'bool':
        (a as Uint8Array)[i] = k % 3 === 0 ? 1 : 0;
        break;
      case 'int64':
        (a as BigInt64Array)[i] = [-(2n ** 63n), 2n ** 63n - 1n, 2n ** 53n + 1n, -1n, BigInt(k * 7919)][k % 5]!;
        break;
      case 'uint64':
        (a as BigUint64Array)[i] = [2n ** 64n - 1n, 2n ** 53n + 3n, 0n, BigInt(k * 104729)][k % 4]!;
        break;
      case 'float32':
      case 'float64': {
        const specials = [NaN, Infinity, -Infinity, -0, 5e-324, 1.5e-40, 1 / 3, -123456.789];
        (a as Float64Array)[i] = k % 2 === 0 ? specials[(k / 2) % specials.length]! : Math.sin(k) * 1e3;
        break;
      }
      default: {
        // Wraps around: exercises the sign bit and the maximum of every integer type.
        (a as Int32Array)[i] = (k * 2654435761) | 0;
      }
    }
  }
  return a;
}

function leBytes(a: TypedArray): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

function open(frames: readonly Uint8Array[], r = new BsreadReceiver()): BsreadMessage {
  const m = r.open(frames);
  assert.equal(m.kind, 'data');
  return m as BsreadMessage;
}

interface Case {
  name: string;
  type: BsreadType;
  shape: number[]; // C order
  encoding: Encoding;
  compression: Compression;
  data: TypedArray | string | null;
}

function allCases(): Case[] {
  const cases: Case[] = [];
  let seed = 0;
  for (const type of BSREAD_TYPES) {
    for (const encoding of ENCODINGS) {
      for (const compression of COMPRESSIONS) {
        if (type === 'string') {
          for (const s of ['x', 'pulse 7 µm ✓ \u{1F600}', 'long '.repeat(3000)]) {
            cases.push({ name: `${type}/${encoding}/${compression}/${s.length}`, type, shape: [1], encoding, compression, data: s });
          }
          continue;
        }
        for (const [rank, shape] of Object.entries(SHAPES)) {
          const n = shape.reduce((p, s) => p * s, 1);
          cases.push({ name: `${type}/${rank}/${encoding}/${compression}`, type, shape, encoding, compression, data: makeData(type, n, seed++) });
        }
        cases.push({ name: `${type}/missing/${encoding}/${compression}`, type, shape: [4], encoding, compression, data: null });
      }
    }
  }
  return cases;
}

function toInput(c: Case): EncodeChannel {
  const def = { name: c.name, type: c.type, shape: [...c.shape].reverse(), encoding: c.encoding, compression: c.compression };
  if (c.data === null || typeof c.data === 'string') return { def, value: c.data };
  if (c.shape.length === 1 && c.shape[0] === 1) {
    const v = c.data[0]!;
    return { def, value: typeof v === 'bigint' ? v : Number(v) };
  }
  return { def, value: { shape: c.shape, data: c.data } };
}

function checkDecoded(msg: BsreadMessage, i: number, c: Case): void {
  const v: ChannelValue | null = msg.value(i);
  if (c.data === null) {
    assert.equal(v, null, c.name);
    assert.equal(msg.isPresent(i), false, c.name);
    assert.equal(msg.bytes(i), null, c.name);
    assert.equal(msg.timestamp(i), null, c.name);
    return;
  }
  assert.equal(msg.isPresent(i), true, c.name);
  if (typeof c.data === 'string') {
    assert.equal(v, c.data, c.name);
    assert.deepStrictEqual(Buffer.from(msg.bytes(i)!), Buffer.from(c.data, 'utf8'), c.name);
    return;
  }
  // Bit-exact: the little-endian bytes equal the input's bytes (NaN payloads included).
  assert.ok(leBytes(c.data).equals(Buffer.from(msg.bytes(i)!)), `${c.name}: bytes`);
  if (c.shape.length === 1 && c.shape[0] === 1) {
    const want = c.data[0]!;
    assert.ok(Object.is(v, typeof want === 'bigint' ? want : Number(want)), `${c.name}: scalar ${inspect(v)} vs ${inspect(want)}`);
  } else {
    const nd = v as NdArray;
    assert.equal(nd.dtype, c.type, c.name);
    assert.deepStrictEqual([...nd.shape], c.shape, c.name);
    assert.equal(nd.data.constructor, c.data.constructor, c.name);
    assert.ok(leBytes(nd.data).equals(leBytes(c.data)), `${c.name}: typed array`);
  }
  const def = msg.def(i);
  assert.deepStrictEqual([...def.cShape], c.shape, c.name);
  assert.equal(def.elements * TYPES[c.type].size, c.data.byteLength, c.name);
}

for (const dhCompression of COMPRESSIONS) {
  test(`round trip: every type × rank × endianness × compression, data header ${dhCompression}`, () => {
    const cases = allCases();
    const ts = { sec: 1_700_000_123, ns: 456_000_789 };
    const channels = cases.map((c, k) => ({ ...toInput(c), timestamp: k % 7 === 3 ? null : { sec: ts.sec + k, ns: k } }));
    const frames = encodeMessage({ pulseId: 2 ** 40 + 5, globalTimestamp: ts, channels, dhCompression });
    assert.equal(frames.length, 2 + 2 * cases.length);
    const msg = open(frames, new BsreadReceiver({ verifyHash: true }));
    assert.equal(msg.pulseId, 2 ** 40 + 5);
    assert.deepStrictEqual(msg.globalTimestamp, ts);
    assert.equal(msg.dhCompression, dhCompression);
    assert.equal(msg.hash, md5hex(frames[1]!));
    assert.equal(msg.channelCount, cases.length);
    for (const [i, c] of cases.entries()) {
      const e = msg.def(i);
      assert.equal(e.name, c.name);
      assert.equal(e.type, c.type);
      assert.equal(e.encoding, c.encoding);
      assert.equal(e.compression, c.compression);
      checkDecoded(msg, i, c);
      if (c.data !== null) {
        assert.deepStrictEqual(msg.timestamp(i), i % 7 === 3 ? null : { sec: ts.sec + i, ns: i }, c.name);
        if (c.compression === 'bitshuffle_lz4' && c.type !== 'string') {
          assert.equal(msg.compressedChunk(i), msg.valueFrame(i));
          assert.equal(msg.declaredSize(i), (c.data as TypedArray).byteLength);
        }
      }
    }
    assert.deepStrictEqual(msg.errors(), []);
  });
}

test('round trip: a message with no channels is 2 frames and valid', () => {
  for (const dhCompression of COMPRESSIONS) {
    const frames = encodeMessage({ pulseId: 0, globalTimestamp: { sec: 0, ns: 0 }, channels: [], dhCompression });
    assert.equal(frames.length, 2);
    const msg = open(frames);
    assert.equal(msg.channelCount, 0);
    assert.equal(msg.pulseId, 0);
  }
});

test('round trip: values given as plain JS arrays, booleans and flat typed arrays', () => {
  const frames = encodeMessage({
    pulseId: 1,
    globalTimestamp: { sec: 1, ns: 2 },
    channels: [
      { def: { name: 'b' }, value: true },
      { def: { name: 'f' }, value: 2.5 },
      { def: { name: 'i64' }, value: -(2n ** 62n) },
      { def: { name: 'wf', type: 'int16' }, value: [1, -2, 3] },
      { def: { name: 'u16' }, value: new Uint16Array([7, 8]) },
      { def: { name: 'bools', type: 'bool' }, value: [true, false, 3] },
      { def: { name: 's' }, value: 'text' },
    ],
  });
  const msg = open(frames);
  assert.deepStrictEqual(
    msg.channels.map((c) => (c.invalid ? null : [c.name, c.type, [...c.shape]])),
    [
      ['b', 'bool', [1]],
      ['f', 'float64', [1]],
      ['i64', 'int64', [1]],
      ['wf', 'int16', [3]],
      ['u16', 'uint16', [2]],
      ['bools', 'bool', [3]],
      ['s', 'string', [1]],
    ],
  );
  assert.equal(msg.value(0), 1);
  assert.equal(msg.value(1), 2.5);
  assert.equal(msg.value(2), -(2n ** 62n));
  assert.deepStrictEqual([...(msg.value(3) as NdArray).data], [1, -2, 3]);
  assert.deepStrictEqual([...(msg.value(4) as NdArray).data], [7, 8]);
  assert.deepStrictEqual([...(msg.value(5) as NdArray).data], [1, 0, 1]);
  assert.equal(msg.value(6), 'text');
});

test('encoder: frames follow the conventions of the real messages', () => {
  const frames = encodeMessage({
    pulseId: 100,
    globalTimestamp: { sec: 1562083206, ns: 748058000 },
    channels: [{ def: { name: 'bpm:X' }, value: 1.5 }],
  });
  const hash = md5hex(frames[1]!);
  assert.equal(frames[0]!.toString(), `{"htype": "bsr_m-1.1", "hash": "${hash}", "pulse_id": 100, "global_timestamp": {"sec": 1562083206, "ns": 748058000}}`);
  assert.equal(frames[1]!.toString(), '{"htype": "bsr_d-1.1", "channels": [{"name": "bpm:X", "type": "float64", "shape": [1], "encoding": "little"}]}');
  const lz = encodeMessage({ pulseId: 1, globalTimestamp: { sec: 1, ns: 0 }, channels: [], dhCompression: 'lz4' });
  assert.match(lz[0]!.toString(), /^\{"htype": "bsr_m-1\.1", "dh_compression": "lz4", "hash": "[0-9a-f]{32}", /);
  // lz4 data header: big-endian size prefix (BJ, BC, BR).
  const json = '{"htype": "bsr_d-1.1", "channels": []}';
  assert.equal(lz[1]!.readUInt32BE(0), Buffer.byteLength(json));
});

test('encoder: re-encoding the uncompressed fixtures gives the captured frames byte for byte', () => {
  for (const file of fixtureFiles()) {
    const f = loadFixture(file);
    if (f.dataCompression !== 'none' || f.dhCompression !== 'none') continue;
    const r = new BsreadReceiver();
    for (const [k, m] of f.messages.entries()) {
      const msg = open(m.frames, r);
      const channels = msg.channels.map((_, i) => ({ def: msg.def(i), value: msg.value(i), timestamp: msg.timestamp(i) }));
      const frames = encodeMessage({ pulseId: msg.pulseId, globalTimestamp: msg.globalTimestamp!, channels });
      assert.equal(frames.length, m.frames.length);
      for (let j = 0; j < frames.length; j++) {
        assert.ok(frames[j]!.equals(m.frames[j]!), `${file} message ${k} frame ${j}: ${frames[j]!.toString('hex').slice(0, 80)} vs ${m.frames[j]!.toString('hex').slice(0, 80)}`);
      }
    }
  }
});

test('encoder: re-encoding the compressed fixtures decodes to the same values', () => {
  for (const file of fixtureFiles()) {
    const f = loadFixture(file);
    if (f.dataCompression === 'none' && f.dhCompression === 'none') continue;
    for (const m of f.messages) {
      const msg = open(m.frames);
      const channels = msg.channels.map((_, i) => ({ def: msg.def(i), value: msg.value(i), timestamp: msg.timestamp(i) }));
      const frames = encodeMessage({ pulseId: msg.pulseId, globalTimestamp: msg.globalTimestamp!, channels, dhCompression: f.dhCompression });
      const again = open(frames);
      for (let i = 0; i < msg.channelCount; i++) {
        const a = msg.bytes(i);
        const b = again.bytes(i);
        assert.ok(a === null ? b === null : b !== null && Buffer.from(a).equals(Buffer.from(b)), `${file} ${msg.entry(i).name}`);
      }
    }
  }
});

test('resolveChannelDef: defaults and what the value implies', () => {
  assert.deepStrictEqual(
    (({ name, type, shape, encoding, compression, modulo, offset }) => ({ name, type, shape, encoding, compression, modulo, offset }))(resolveChannelDef({ name: 'x' })),
    { name: 'x', type: 'float64', shape: [1], encoding: 'little', compression: 'none', modulo: 1, offset: 0 },
  );
  const img = resolveChannelDef({ name: 'img' }, { shape: [1024, 1280], data: new Uint16Array(1024 * 1280) });
  assert.equal(img.type, 'uint16');
  assert.deepStrictEqual([...img.shape], [1280, 1024]);
  assert.deepStrictEqual([...img.cShape], [1024, 1280]);
});
