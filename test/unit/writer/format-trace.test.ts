// The verified data(1)/data(2) trace of protocol §8.2 and the seed's own format tests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { h5py } from '../../helpers/h5py.js';
import { message, tempDir, writeFile } from './format-util.js';

test('§8.2 trace: int64 scalar ×2 → int64[2] ×2 → string ×2 gives data(1), data(2), data', async () => {
  const path = join(tempDir(), 'trace.h5');
  const msgs = [];
  for (let p = 0; p < 6; p++) {
    const value = p < 2 ? BigInt(p) : p < 4 ? [BigInt(p), BigInt(p)] : `s${p}`;
    const def = p < 2 ? { name: 'change', type: 'int64' as const } : p < 4 ? { name: 'change', type: 'int64' as const, shape: [2] } : { name: 'change', type: 'string' as const };
    msgs.push(message(p, [{ def, value }]));
  }
  const f = writeFile(path, msgs);
  assert.equal(f.rows, 6);
  const r = await h5py<Record<string, unknown>>(
    path,
    `
f = h5py.File(path, 'r')
g = f['data/change']
result = {k: {'dtype': str(g[k].dtype), 'shape': list(g[k].shape), 'value': [x.decode() if isinstance(x, bytes) else x for x in g[k][()].tolist()]} for k in g}
`,
  );
  assert.deepEqual(Object.keys(r).sort(), ['data', 'data(1)', 'data(2)', 'is_data_present', 'pulse_id']);
  assert.deepEqual(r['data(1)'], { dtype: 'int64', shape: [2, 1], value: [[0], [1]] });
  assert.deepEqual(r['data(2)'], {
    dtype: 'int64',
    shape: [4, 2],
    value: [
      [0, 0],
      [0, 0],
      [2, 2],
      [3, 3],
    ],
  });
  assert.deepEqual(r['data'], { dtype: 'object', shape: [6], value: ['', '', '', '', 's4', 's5'] });
  assert.deepEqual(r['pulse_id'], { dtype: 'int64', shape: [6], value: [0, 1, 2, 3, 4, 5] });
  assert.deepEqual(r['is_data_present'], { dtype: 'uint8', shape: [6], value: [1, 1, 1, 1, 1, 1] });
});
