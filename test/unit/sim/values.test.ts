// The simulator's values are pure functions of (seed, channel name, pulse id): reproducible,
// honouring modulo/offset, missing rules, type changes and gaps, and every encoded message
// decodes to exactly predictMessage (all types, ranks, byte orders, compressions).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { BsreadReceiver, messageToJson, type BsreadMessage } from '../../../src/bsread/index.js';
import {
  buildProfile,
  definitionAt,
  encodeSimulatedMessage,
  HeaderCache,
  isGap,
  isPresent,
  loadProfileFile,
  nthPulseId,
  predictMessage,
  pulseIdAt,
  pulseTimestamp,
  simulatedValue,
  type SimProfile,
} from '../../../src/sim/index.js';
import { ROOT } from '../../helpers/process.js';

const ALL_TYPES = join(ROOT, 'examples', 'profiles', 'all-types.yaml');
const P0 = 20_000_000_000;

function indexOf(p: SimProfile, name: string): number {
  const i = p.channels.findIndex((c) => c.name === name);
  assert.ok(i >= 0, `channel ${name} in profile`);
  return i;
}

test('same seed, name and pulse give the same value; another pulse or seed gives another', () => {
  const a = buildProfile({ seed: 5, scalars: 3, waveforms: 1, waveform_length: 50, camera: '32x16' });
  const b = buildProfile({ seed: 5, scalars: 3, waveforms: 1, waveform_length: 50, camera: '32x16' });
  const c = buildProfile({ seed: 6, scalars: 3, waveforms: 1, waveform_length: 50, camera: '32x16' });
  for (let i = 0; i < a.channels.length; i++) {
    assert.deepEqual(simulatedValue(a, i, P0 + 1), simulatedValue(b, i, P0 + 1));
    assert.notDeepEqual(simulatedValue(a, i, P0 + 1), simulatedValue(a, i, P0 + 2), `channel ${i} changes with the pulse`);
    assert.notDeepEqual(simulatedValue(a, i, P0 + 1), simulatedValue(c, i, P0 + 1), `channel ${i} changes with the seed`);
  }
});

test('a value depends on the channel name, not on its index in the profile', () => {
  const a = buildProfile({ channels: [{ name: 'A:X' }, { name: 'B:Y', type: 'int32' }] });
  const b = buildProfile({ channels: [{ name: 'B:Y', type: 'int32' }, { name: 'A:X' }] });
  assert.deepEqual(simulatedValue(a, 1, P0), simulatedValue(b, 0, P0));
  assert.deepEqual(simulatedValue(a, 0, P0), simulatedValue(b, 1, P0));
});

test('modulo and offset: a 10 Hz channel is present every 10th pulse, at its offset', () => {
  const p = buildProfile({ channels: [{ name: 'T:10HZ', modulo: 10 }, { name: 'T:10HZ-3', modulo: 10, offset: 3 }, { name: 'T:100HZ' }] });
  for (let pulse = P0; pulse < P0 + 100; pulse++) {
    assert.equal(isPresent(p, 0, pulse), pulse % 10 === 0);
    assert.equal(isPresent(p, 1, pulse), pulse % 10 === 3);
    assert.equal(isPresent(p, 2, pulse), true);
    assert.equal(simulatedValue(p, 0, pulse) === null, pulse % 10 !== 0);
  }
});

test('missing rules: a pattern repeats over pulse_id % length; a probability misses about that often', () => {
  const p = buildProfile({
    channels: [
      { name: 'T:PATTERN', missing: { pattern: '1101' } },
      { name: 'T:RANDOM', missing: { probability: 0.25 } },
      { name: 'T:NEVER', missing: { pattern: '0' } },
    ],
  });
  let missing = 0;
  for (let pulse = P0; pulse < P0 + 4000; pulse++) {
    assert.equal(isPresent(p, 0, pulse), '1101'[pulse % 4] === '1');
    if (!isPresent(p, 1, pulse)) missing++;
    assert.equal(isPresent(p, 2, pulse), false);
  }
  assert.ok(missing > 850 && missing < 1150, `about 1000 of 4000 missing, got ${missing}`);
  // The random choice is reproducible too.
  assert.equal(isPresent(p, 1, P0 + 17), isPresent(buildProfile({ channels: [{ name: 'T:RANDOM', missing: { probability: 0.25 } }] }), 0, P0 + 17));
});

test('a channel changes its definition at the given pulse', () => {
  const p = loadAll();
  const i = indexOf(p, 'SIM-CHANGE:TYPE');
  assert.deepEqual(definitionAt(p, i, P0 + 9).shape, [1]);
  assert.equal(typeof simulatedValue(p, i, P0 + 9), 'bigint');
  const d = definitionAt(p, i, P0 + 10);
  assert.equal(d.type, 'int64');
  assert.deepEqual(d.shape, [3]);
  const v = simulatedValue(p, i, P0 + 12);
  assert.ok(v !== null && typeof v === 'object' && v.data.length === 3);
  assert.equal(definitionAt(p, i, P0 + 15).type, 'string');
  assert.equal(typeof simulatedValue(p, i, P0 + 99), 'string');
});

test('gaps: after every gap_every pulses, gap_length pulse ids are skipped', () => {
  const p = buildProfile({ gap_every: 3, gap_length: 2, scalars: 1 });
  const sent = Array.from({ length: 12 }, (_, k) => nthPulseId(p, 100, k));
  assert.deepEqual(sent.slice(0, 7), [100, 101, 102, 105, 106, 107, 110]);
  assert.equal(sent[11], 117);
  for (let pulse = 100; pulse <= 117; pulse++) assert.equal(isGap(p, 100, pulse), !sent.includes(pulse), `pulse ${pulse}`);
  const none = buildProfile({ scalars: 1 });
  assert.equal(nthPulseId(none, 100, 5), 105);
  assert.equal(isGap(none, 100, 103), false);
});

test('pulse ids from the wall clock are SwissFEL-like, and timestamps belong to them', () => {
  const now = pulseIdAt(Date.UTC(2026, 10, 24));
  assert.ok(now > 2.0e10 && now < 2.2e10, `pulse id ${now}`);
  const ts = pulseTimestamp(now + 7);
  assert.equal(ts.ns % 10_000_000, 0);
  assert.equal(pulseIdAt(ts.sec * 1000 + ts.ns / 1e6), now + 7);
});

test('a 1024×1024 camera image is cheap and deterministic', () => {
  const p = buildProfile({ camera: '1024x1024' });
  simulatedValue(p, 0, P0); // builds the base image once
  const t = process.hrtime.bigint();
  for (let k = 1; k <= 20; k++) simulatedValue(p, 0, P0 + k);
  const msPer = Number(process.hrtime.bigint() - t) / 1e6 / 20;
  // 100 Hz leaves 10 ms per message; generous for loaded test machines.
  assert.ok(msPer < 20, `${msPer.toFixed(2)} ms per image`);
  const v = simulatedValue(p, 0, P0 + 3);
  assert.ok(v !== null && typeof v === 'object');
  assert.deepEqual(v.shape, [1024, 1024]);
  assert.equal(v.dtype, 'uint16');
  assert.deepEqual(simulatedValue(p, 0, P0 + 3), v);
});

function loadAll(): SimProfile {
  return buildProfile(loadProfileFile(ALL_TYPES), ALL_TYPES);
}

test('every encoded message decodes to predictMessage (all types, ranks, encodings, compressions)', () => {
  const p = loadAll();
  const r = new BsreadReceiver({ verifyHash: true });
  const cache = new HeaderCache();
  for (let pulse = P0; pulse < P0 + 40; pulse++) {
    const m = r.open(encodeSimulatedMessage(p, pulse, cache)) as BsreadMessage;
    assert.equal(m.kind, 'data');
    assert.deepEqual(messageToJson(m), predictMessage(p, pulse), `pulse ${pulse}`);
  }
  assert.equal(r.stats.hashMismatches, 0);
});

test('predictMessage: missing channels have null value and timestamp; present ones the pulse timestamp', () => {
  const p = loadAll();
  const m = predictMessage(p, P0 + 1);
  const ts = pulseTimestamp(P0 + 1);
  assert.deepEqual(m.global_timestamp, ts);
  assert.deepEqual(m.channels['SIM-10HZ:X1'], { value: null, timestamp: null });
  assert.deepEqual(m.channels['SIM-ALL:FLOAT64']!.timestamp, [ts.sec, ts.ns]);
  assert.equal(m.channels['SIM-ALL:PULSE-ID']!.value, P0 + 1);
  assert.deepEqual(
    Object.keys(m.channels),
    p.channels.map((c) => c.name),
  );
});
