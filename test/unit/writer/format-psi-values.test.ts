// The file as the original writer leaves it for values PSI's sender makes: bool channels (scalar,
// array, image, compressed or not) are h5py booleans, and "" compressed by PSI's sender is a
// present empty string. Read back with h5py, as analysis code would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { BsreadReceiver, encodeMainHeader, md5hex, type BsreadMessage } from '../../../src/bsread/index.js';
import { h5py } from '../../helpers/h5py.js';
import { message, tempDir, writeFile } from './format-util.js';

test('bool scalars, arrays and bitshuffle images read back as numpy bool (|b1), and work as masks', async () => {
  const path = join(tempDir(), 'bool.h5');
  const msgs = [0, 1, 2].map((p) =>
    message(100 + p, [
      { def: { name: 'B:S', type: 'bool', shape: [1] }, value: p % 2 === 0 },
      { def: { name: 'B:A', type: 'bool', shape: [4] }, value: Uint8Array.from([1, 0, p === 1 ? 1 : 0, 1]) },
      {
        def: { name: 'B:IMG', type: 'bool', shape: [64, 32], compression: 'bitshuffle_lz4' },
        value: { shape: [32, 64], data: Uint8Array.from({ length: 2048 }, (_, k) => ((k + p) % 3 === 0 ? 1 : 0)) },
      },
      { def: { name: 'B:LATE', type: 'bool', shape: [2] }, value: p === 0 ? null : Uint8Array.from([0, 1]) },
    ]),
  );
  writeFile(path, msgs, { directMinRowBytes: 0 });
  const r = await h5py<Record<string, { dtype: string; shape: number[]; v: unknown; mask?: number[]; ones?: number[] }>>(
    path,
    `
f = h5py.File(path, 'r')
result = {}
for n in ['B:S', 'B:A', 'B:IMG', 'B:LATE']:
    d = f['data'][n]['data']
    result[n] = dict(dtype=d.dtype.str, shape=list(d.shape), v=d[()] if n != 'B:IMG' else None)
result['B:A']['mask'] = np.arange(4)[f['data']['B:A']['data'][1]].tolist()
img = f['data']['B:IMG']['data'][()]
result['B:IMG']['ones'] = [int(img[k].sum()) for k in range(3)]
`,
  );
  for (const n of ['B:S', 'B:A', 'B:IMG', 'B:LATE']) assert.equal(r[n]!.dtype, '|b1', `${n} is stored as HDF5's boolean enum`);
  assert.deepEqual(r['B:S']!.v, [[true], [false], [true]]);
  assert.deepEqual(r['B:A']!.v, [
    [true, false, false, true],
    [true, false, true, true],
    [true, false, false, true],
  ]);
  assert.deepEqual(r['B:A']!.mask, [0, 2, 3], 'x[mask] selects where true, it does not index with 0 and 1');
  assert.deepEqual(r['B:IMG']!.shape, [3, 32, 64]);
  const ones = [0, 1, 2].map((p) => Array.from({ length: 2048 }, (_, k) => ((k + p) % 3 === 0 ? 1 : 0) as number).reduce((a, b) => a + b, 0));
  assert.deepEqual(r['B:IMG']!.ones, ones);
  assert.deepEqual(
    r['B:LATE']!.v,
    [
      [false, false],
      [false, true],
      [false, true],
    ],
    'rows before the first value are false',
  );
});

/** A message whose only channel is a string sent as PSI's sender compresses "". */
function psiEmptyString(pulseId: number, compression: 'bitshuffle_lz4' | 'lz4'): BsreadMessage {
  const dh = Buffer.from(JSON.stringify({ htype: 'bsr_d-1.1', channels: [{ name: 'S', type: 'string', shape: [1], compression }] }));
  const frame = compression === 'lz4' ? Buffer.alloc(4) : Buffer.from('000000000000000000002000', 'hex');
  const t = Buffer.alloc(16);
  t.writeBigInt64LE(1_700_000_000n, 0);
  const m = new BsreadReceiver().open([encodeMainHeader(pulseId, { sec: 1_700_000_000, ns: 0 }, md5hex(dh), 'none'), dh, frame, t]);
  assert.equal(m.kind, 'data');
  return m as BsreadMessage;
}

for (const compression of ['bitshuffle_lz4', 'lz4'] as const) {
  test(`"" compressed with ${compression} as PSI's sender does is written as present: "" and is_data_present 1`, async () => {
    const path = join(tempDir(), `empty-${compression}.h5`);
    writeFile(path, [
      message(1, [{ def: { name: 'S', type: 'string', compression }, value: 'x' }]),
      psiEmptyString(2, compression),
      message(3, [{ def: { name: 'S', type: 'string', compression }, value: 'z' }]),
    ]);
    const r = await h5py<{ v: string[]; p: number[]; id: number[] }>(
      path,
      `
f = h5py.File(path, 'r')
g = f['data']['S']
result = dict(v=[x.decode() if isinstance(x, bytes) else x for x in g['data'][()]], p=g['is_data_present'][()], id=g['pulse_id'][()])
`,
    );
    assert.deepEqual(r, { v: ['x', '', 'z'], p: [1, 1, 1], id: [1, 2, 3] });
  });
}
