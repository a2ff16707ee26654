// What the consistency summary asks of SwissFelFile: the row pulse ids, rows with a value per
// channel read back from is_data_present (also after a late stop cut rows), and flush times.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { SwissFelFile } from '../../../src/writer/swissfel-file.js';
import { message, tempDir } from './format-util.js';
import { h5py } from '../../helpers/h5py.js';

test('rowsWithValue and pulseIds follow the rows the file keeps; flushTimes counts flushes', async () => {
  const path = join(tempDir(), 'counts.h5');
  const f = SwissFelFile.create({ path });
  assert.deepEqual(f.flushTimes(), { count: 0, totalSeconds: 0, lastSeconds: null });
  for (const p of [1, 2, 4, 5, 6, 7]) {
    f.write(
      message(p, [
        { def: { name: 'A', type: 'float64' }, value: p },
        { def: { name: 'ODD', type: 'int32' }, value: p % 2 === 1 ? p : null },
        ...(p >= 4 ? [{ def: { name: 'LATE', type: 'float64' as const }, value: p }] : []),
      ]),
    );
  }
  assert.deepEqual([...f.pulseIds()], [1, 2, 4, 5, 6, 7]);
  assert.deepEqual(f.rowsWithValue(), { A: 6, ODD: 3, LATE: 4 }, 'counted while recording');
  f.flush();
  const flushes = f.flushTimes();
  assert.ok(flushes.count >= 1 && flushes.lastSeconds !== null && flushes.totalSeconds >= flushes.lastSeconds);
  assert.equal(f.truncateAfter(5), 2, 'a late stop at 5 cuts 6 and 7');
  assert.deepEqual([...f.pulseIds()], [1, 2, 4, 5]);
  assert.deepEqual(f.rowsWithValue(), { A: 4, ODD: 2, LATE: 2 }, 'read back after the cut');
  f.close();
  const present = await h5py<Record<string, number>>(path, 'f = h5py.File(path, "r")\nresult = {k: int(f["/data"][k]["is_data_present"][:].sum()) for k in f["/data"].keys()}');
  assert.deepEqual(present, { A: 4, ODD: 2, LATE: 2 });
});
