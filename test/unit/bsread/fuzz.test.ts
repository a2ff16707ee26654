// Property: whatever happens to the frames of a real message (truncation, flipped bytes,
// dropped/duplicated/swapped frames, header fields replaced by arbitrary JSON), the decoder only
// returns values or throws MalformedMessageError, never another exception.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BsreadError, MalformedMessageError } from '../../../src/errors.js';
import {
  BsreadReceiver,
  expectedBytes,
  formatMessageJson,
  md5hex,
  messageToJson,
  PackedFrameList,
  readMainHeader,
  type BsreadMessage,
  type MessageFrames,
} from '../../../src/bsread/index.js';
import { packFrames } from '../../../src/transport/index.js';
import { loadAllFixtures } from '../../helpers/fixtures.js';

const messages = loadAllFixtures().flatMap((f) => f.messages.map((m) => m.frames));

type Mutation =
  | { op: 'truncate'; frame: number; keep: number }
  | { op: 'flip'; frame: number; at: number; xor: number }
  | { op: 'drop'; frame: number }
  | { op: 'dup'; frame: number }
  | { op: 'swap'; a: number; b: number }
  | { op: 'empty'; frame: number }
  | { op: 'main'; key: string; value: unknown }
  | { op: 'channel'; index: number; key: string; value: unknown }
  | { op: 'rehash' };

const json = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(undefined, null, -1, 0, 1, 2 ** 53, 1e300, 'big', 'lz4', 'bitshuffle_lz4', 'string', 'int64', [0], [1], [3, 2], [-1], [2 ** 31, 2 ** 31]),
);
const MAIN_KEYS = ['htype', 'pulse_id', 'hash', 'global_timestamp', 'dh_compression'];
const CHANNEL_KEYS = ['name', 'type', 'shape', 'encoding', 'compression', 'modulo', 'offset'];

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('truncate' as const), frame: fc.nat(60), keep: fc.nat(64) }),
  fc.record({ op: fc.constant('flip' as const), frame: fc.nat(60), at: fc.nat(5000), xor: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ op: fc.constant('drop' as const), frame: fc.nat(60) }),
  fc.record({ op: fc.constant('dup' as const), frame: fc.nat(60) }),
  fc.record({ op: fc.constant('swap' as const), a: fc.nat(60), b: fc.nat(60) }),
  fc.record({ op: fc.constant('empty' as const), frame: fc.nat(60) }),
  fc.record({ op: fc.constant('main' as const), key: fc.constantFrom(...MAIN_KEYS), value: json }),
  fc.record({ op: fc.constant('channel' as const), index: fc.nat(30), key: fc.constantFrom(...CHANNEL_KEYS), value: json }),
  fc.constant({ op: 'rehash' as const }),
);

function editJson(frame: Buffer, edit: (o: Record<string, unknown>) => void): Buffer {
  try {
    const o = JSON.parse(frame.toString('utf8')) as Record<string, unknown>;
    if (typeof o !== 'object' || o === null) return frame;
    edit(o);
    return Buffer.from(JSON.stringify(o));
  } catch {
    return frame; // compressed or already broken: leave it
  }
}

function apply(frames: Buffer[], m: Mutation): Buffer[] {
  const out = [...frames];
  const n = out.length;
  const idx = (i: number) => (n === 0 ? 0 : i % n);
  switch (m.op) {
    case 'truncate':
      if (n > 0) out[idx(m.frame)] = out[idx(m.frame)]!.subarray(0, Math.min(m.keep, out[idx(m.frame)]!.length - 1));
      break;
    case 'flip': {
      if (n === 0) break;
      const f = Buffer.from(out[idx(m.frame)]!);
      if (f.length > 0) f[m.at % f.length] = f[m.at % f.length]! ^ m.xor;
      out[idx(m.frame)] = f;
      break;
    }
    case 'drop':
      if (n > 0) out.splice(idx(m.frame), 1);
      break;
    case 'dup':
      if (n > 0) out.splice(idx(m.frame), 0, out[idx(m.frame)]!);
      break;
    case 'swap':
      if (n > 0) [out[idx(m.a)], out[idx(m.b)]] = [out[idx(m.b)]!, out[idx(m.a)]!];
      break;
    case 'empty':
      if (n > 0) out[idx(m.frame)] = Buffer.alloc(0);
      break;
    case 'main':
      if (n > 0) out[0] = editJson(out[0]!, (o) => (m.value === undefined ? delete o[m.key] : (o[m.key] = m.value)));
      break;
    case 'channel':
      if (n > 1) {
        out[1] = editJson(out[1]!, (o) => {
          const ch = o['channels'];
          if (!Array.isArray(ch) || ch.length === 0) return;
          const c = ch[m.index % ch.length] as Record<string, unknown>;
          if (m.value === undefined) delete c[m.key];
          else c[m.key] = m.value;
        });
      }
      break;
    case 'rehash':
      if (n > 1) out[0] = editJson(out[0]!, (o) => (o['hash'] = md5hex(out[1]!)));
      break;
  }
  return out;
}

/** Exercises every accessor a consumer may call. Returns normally or throws (to be classified). */
function consume(r: BsreadReceiver, frames: Buffer[], seen?: Map<string, number>): void {
  readMainHeader(frames);
  const m = r.open(frames);
  if (m.kind !== 'data') return;
  const msg: BsreadMessage = m;
  for (let i = 0; i < msg.channelCount; i++) {
    msg.isPresent(i);
    const e = msg.entry(i);
    const calls: (() => unknown)[] = [() => msg.value(i), () => msg.bytes(i), () => msg.timestamp(i), () => msg.declaredSize(i)];
    if (e.invalid === undefined && e.compression === 'bitshuffle_lz4' && e.type !== 'string') calls.push(() => msg.compressedChunk(i));
    for (const call of calls) {
      try {
        call();
      } catch (err) {
        if (!(err instanceof MalformedMessageError)) throw err;
        seen?.set(err.kind, (seen.get(err.kind) ?? 0) + 1);
      }
    }
  }
  msg.errors();
  messageToJson(msg);
  formatMessageJson(msg);
}

test('fuzz: mutated fixture messages never cause anything but MalformedMessageError', () => {
  const shared = new BsreadReceiver({ headerCacheSize: 4 });
  const kinds = new Map<string, number>();
  fc.assert(
    fc.property(fc.nat(messages.length - 1), fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.boolean(), (k, muts, fresh) => {
      const frames = muts.reduce(apply, messages[k]!);
      const r = fresh ? new BsreadReceiver({ verifyHash: true }) : shared;
      try {
        consume(r, frames, kinds);
      } catch (err) {
        if (err instanceof MalformedMessageError) {
          kinds.set(err.kind, (kinds.get(err.kind) ?? 0) + 1);
          return;
        }
        const detail = err instanceof BsreadError ? `BsreadError ${err.code}: ${err.message}` : String(err instanceof Error ? err.stack : err);
        assert.fail(`unexpected ${detail}`);
      }
    }),
    { numRuns: 3000, seed: 20241124 },
  );
  // The mutations reached the interesting parts of the decoder.
  for (const k of ['frame_count', 'bad_json', 'bad_field', 'size_mismatch', 'decompress', 'bad_timestamp'])
    assert.ok((kinds.get(k) ?? 0) > 0, `no ${k} seen: ${JSON.stringify([...kinds])}`);
});

test('fuzz: arbitrary frames never cause anything but MalformedMessageError', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 6 }), (raw) => {
      const frames = raw.map((u) => Buffer.from(u));
      try {
        consume(new BsreadReceiver(), frames);
      } catch (err) {
        if (!(err instanceof MalformedMessageError)) assert.fail(`unexpected ${String(err)}`);
      }
    }),
    { numRuns: 2000, seed: 7 },
  );
});

/** Every accessor's outcome on one message, as comparable text (a value, or the error kind). */
function outcomes(r: BsreadReceiver, frames: MessageFrames): string[] {
  const out: string[] = [];
  const run = (what: string, call: () => unknown): void => {
    try {
      const v = call();
      out.push(`${what}=${v instanceof Uint8Array ? Buffer.from(v).toString('hex') : JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x))}`);
    } catch (err) {
      if (!(err instanceof MalformedMessageError)) throw err;
      out.push(`${what}!${err.kind}`);
    }
  };
  let msg: BsreadMessage | null = null;
  run('open', () => {
    const m = r.open(frames);
    if (m.kind === 'data') msg = m;
    return m.kind;
  });
  const m = msg as BsreadMessage | null;
  if (m === null) return out;
  const scratch = new Uint8Array(64);
  for (let i = 0; i < m.channelCount; i++) {
    run(`present${i}`, () => m.isPresent(i));
    run(`bytes${i}`, () => m.bytes(i));
    run(`value${i}`, () => m.value(i));
    run(`ts${i}`, () => m.timestamp(i));
    run(`copy${i}`, () => {
      const e = m.entry(i);
      const n = e.invalid === undefined && e.type !== 'string' ? expectedBytes(e) : 8;
      scratch.fill(0);
      const copied = m.copyValueBytes(i, scratch, 3, Math.min(n, 60));
      return [copied, Buffer.from(scratch).toString('hex')];
    });
  }
  run('json', () => formatMessageJson(m));
  return out;
}

test('fuzz: a message read from packed frames answers every accessor exactly as from a frame array', () => {
  fc.assert(
    fc.property(fc.nat(messages.length - 1), fc.array(mutation, { minLength: 0, maxLength: 3 }), (k, muts) => {
      const frames = muts.reduce(apply, messages[k]!);
      const packed = packFrames(frames);
      const list = PackedFrameList.from(packed.data, packed.offsets);
      assert.ok(typeof list !== 'string');
      assert.deepEqual(outcomes(new BsreadReceiver(), list), outcomes(new BsreadReceiver(), frames));
    }),
    { numRuns: 1500, seed: 20261125 },
  );
});
