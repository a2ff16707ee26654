// What `bsread avail` prints for a list of live channels: pure functions, no dispatcher.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { availableNames, availableTable, compilePattern } from '../../../src/cli/bsread-avail.js';
import { UsageError } from '../../../src/cli/option-parsers.js';
import type { LiveChannel } from '../../../src/dispatcher/live-channels.js';

const none = { type: undefined, shape: undefined, modulo: undefined, offset: undefined, source: undefined };
const channels: LiveChannel[] = [
  { backend: 'sf-imagebuffer', name: 'SLG-LCAM-C041:FPICTURE', type: 'uint16', shape: [1024, 1024], modulo: 1, offset: 0, source: 'tcp://cam:9999' },
  { backend: 'sf-databuffer', name: 'SINEG01-DBPM340:X1', type: 'float64', shape: [1], modulo: 10, offset: 0, source: 'SINEG01-DBPM340' },
  { backend: 'sf-databuffer', name: 'S10BC01-DBPM410:X1', ...none },
  { backend: 'sf-imagebuffer', name: 'SINEG01-DBPM340:X1', type: 'float64', shape: [1], modulo: 1, offset: 0, source: 'x' },
];

test('names matching anywhere (re.search), sorted, each once', () => {
  assert.deepEqual(availableNames(channels, compilePattern('')), ['S10BC01-DBPM410:X1', 'SINEG01-DBPM340:X1', 'SLG-LCAM-C041:FPICTURE']);
  assert.deepEqual(availableNames(channels, compilePattern('DBPM3')), ['SINEG01-DBPM340:X1']);
  assert.deepEqual(availableNames(channels, compilePattern('^S1.*X1$')), ['S10BC01-DBPM410:X1']);
  assert.deepEqual(availableNames(channels, compilePattern('lcam')), []);
  assert.deepEqual(availableNames(channels, compilePattern('(?i)lcam')), ['SLG-LCAM-C041:FPICTURE']);
});

test('--all: aligned columns name, type, shape, modulo, offset, source, backend; "-" for what is absent', () => {
  assert.deepEqual(availableTable(channels, compilePattern('X1|PICT')), [
    'S10BC01-DBPM410:X1      -        -             -   -  -                sf-databuffer',
    'SINEG01-DBPM340:X1      float64  [1]           10  0  SINEG01-DBPM340  sf-databuffer',
    'SINEG01-DBPM340:X1      float64  [1]           1   0  x                sf-imagebuffer',
    'SLG-LCAM-C041:FPICTURE  uint16   [1024, 1024]  1   0  tcp://cam:9999   sf-imagebuffer',
  ]);
  assert.deepEqual(availableTable(channels, compilePattern('nothing')), []);
});

test('an invalid regular expression is a usage error naming the pattern', () => {
  assert.throws(
    () => compilePattern('SINEG01-(DBPM'),
    (e: unknown) => e instanceof UsageError && /PATTERN "SINEG01-\(DBPM" is not a valid regular expression/.test(e.message),
  );
});
