// summarizeSwissFelFile (what the demo and the benchmarks print): counts come from
// is_data_present, since every row's pulse_id holds its message's pulse id.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { summarizeSwissFelFile } from '../../../src/writer/file-summary.js';
import { message, tempDir, writeFile } from './format-util.js';

test('present rows and missing pulse ids come from is_data_present, not from pulse_id', () => {
  const path = join(tempDir(), 'summary.h5');
  // Pulses 10..14 and 20; B has values only at 11 and 13; C appears at 13; NONE never has one.
  const pulses = [10, 11, 12, 13, 14, 20];
  const msgs = pulses.map((p) =>
    message(p, [
      { def: { name: 'A', type: 'float64' }, value: p },
      { def: { name: 'B', type: 'int32' }, value: p === 11 || p === 13 ? p : null },
      ...(p >= 13 ? [{ def: { name: 'C', type: 'float64' as const }, value: p }] : []),
      { def: { name: 'NONE', type: 'float64' }, value: null },
    ]),
  );
  writeFile(path, msgs);
  const s = summarizeSwissFelFile(path);
  const by = Object.fromEntries(s.channels.map((c) => [c.name, c]));
  assert.equal(s.rows, 6);
  assert.deepEqual([by['A']!.rows, by['A']!.present], [6, 6]);
  assert.deepEqual([by['B']!.rows, by['B']!.present], [6, 2]);
  assert.deepEqual([by['C']!.rows, by['C']!.present], [6, 3]);
  assert.deepEqual([by['NONE']!.rows, by['NONE']!.present, by['NONE']!.data], [6, 0, null]);
  assert.deepEqual([s.firstPulseId, s.lastPulseId], [10, 20]);
  assert.equal(s.missingPulseIds, 5, 'pulses 15..19: no channel had a value');
  assert.deepEqual(s.missingPulseIdRanges, [[15, 19]]);
  assert.equal(s.missingPulseIdRangeCount, 1);
});
