// The pure layout rules (src/writer/layout.ts): paths, data(k) numbering, chunk shapes, kinds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveChannelDef } from '../../../src/bsread/index.js';
import {
  batchRowsFor,
  channelNameProblem,
  chunkRowsFor,
  dataKind,
  dataPath,
  dataRowShape,
  generalValues,
  nextReplacementIndex,
  numericChunkShape,
  replacedDataPath,
} from '../../../src/writer/layout.js';

test('paths, /general defaults and data(k) numbering', () => {
  assert.equal(dataPath('SAR:CH-1.X'), '/data/SAR:CH-1.X/data');
  assert.equal(replacedDataPath('A', 2), '/data/A/data(2)');
  assert.deepEqual(generalValues({ user: 'u', other: 'x' }), { created: 'not given', user: 'u', process: 'not given', instrument: 'not given' });
  assert.equal(nextReplacementIndex(new Set()), 1);
  assert.equal(nextReplacementIndex(new Set([1, 2, 4])), 3);
  assert.equal(nextReplacementIndex(new Set(Array.from({ length: 99 }, (_, k) => k + 1))), null);
  assert.equal(channelNameProblem('a/b:c'), null);
  for (const bad of ['', 'a//b', './a', 'a/..', '/a', 'a/']) assert.notEqual(channelNameProblem(bad), null, bad);
});

test('chunk shapes aim at 64 KiB for small rows, 1 MiB for larger ones, at most 4 MiB', () => {
  assert.equal(chunkRowsFor(8), 8192);
  assert.equal(chunkRowsFor(1), 65536);
  assert.equal(chunkRowsFor(88), 745);
  assert.equal(chunkRowsFor(16 * 1024), 64);
  assert.equal(chunkRowsFor(2 * 1024 * 1024), 1);
  assert.deepEqual(numericChunkShape([1024, 1024], 2), [1, 1024, 1024]);
  assert.deepEqual(numericChunkShape([4096, 4096], 2), [1, 512, 4096]);
  assert.deepEqual(numericChunkShape([2, 3_000_000], 2), [1, 1, 2_097_152]);
  assert.equal(batchRowsFor(8, 8192), 1024);
  assert.equal(batchRowsFor(1000, 1049), 16);
  assert.equal(batchRowsFor(1 << 20, 1), 1);
});

test('definitions map to a writer kind and a row shape', () => {
  const opts = { bitshuffle: 'direct' as const, directMinRowBytes: 32 * 1024 };
  const def = (d: Parameters<typeof resolveChannelDef>[0]) => resolveChannelDef(d);
  assert.equal(dataKind(def({ name: 'a', type: 'float64' }), opts), 'numeric');
  assert.equal(dataKind(def({ name: 'a', type: 'string' }), opts), 'string');
  assert.equal(dataKind(def({ name: 'a', type: 'uint16', shape: [1024, 1024] }), opts), 'large-array');
  assert.equal(dataKind(def({ name: 'a', type: 'uint16', shape: [1024, 1024], compression: 'bitshuffle_lz4' }), opts), 'bitshuffle-direct');
  assert.equal(dataKind(def({ name: 'a', type: 'uint16', shape: [1024, 1024], compression: 'bitshuffle_lz4', encoding: 'big' }), opts), 'large-array');
  assert.equal(dataKind(def({ name: 'a', type: 'uint8', shape: [1024, 1024], compression: 'bitshuffle_lz4', encoding: 'big' }), opts), 'bitshuffle-direct');
  assert.equal(dataKind(def({ name: 'a', type: 'uint16', shape: [11], compression: 'bitshuffle_lz4' }), opts), 'numeric');
  assert.equal(dataKind(def({ name: 'a', type: 'uint16', shape: [11], compression: 'bitshuffle_lz4' }), { ...opts, directMinRowBytes: 0 }), 'bitshuffle-direct');
  assert.equal(dataKind(def({ name: 'a', type: 'uint16', shape: [1024, 1024], compression: 'bitshuffle_lz4' }), { ...opts, bitshuffle: 'decompress' }), 'large-array');
  assert.deepEqual(dataRowShape(def({ name: 'a', type: 'float64' })), [1]);
  assert.deepEqual(dataRowShape(def({ name: 'a', type: 'uint16', shape: [4, 3] })), [3, 4]);
});
