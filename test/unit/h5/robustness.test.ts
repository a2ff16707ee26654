// The addon never crashes the process: every native function called with wrong arguments
// throws (TypeError / RangeError / coded Error) or returns; libhdf5 refuses other threads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { nativeH5, type Handle } from '../../../src/h5/native.js';
import { H5File } from '../../../src/h5/index.js';
import { tempDir } from './util.js';

test('every native function survives bad arguments', () => {
  const dir = tempDir();
  const cwd = process.cwd();
  process.chdir(dir); // any file a stray string path creates lands here
  try {
    const n = nativeH5() as unknown as Record<string, (...args: unknown[]) => unknown>;
    const file = nativeH5().h5FileCreateInMemory();
    const ds = nativeH5().h5DatasetCreateNumeric(file, '/d', 'int16', [2], [4, 2]);
    const str = nativeH5().h5DatasetCreateString(file, '/s', 4);
    const bs = nativeH5().h5DatasetCreateBitshuffle(file, '/b', 'uint8', [8]);
    const closedFile = nativeH5().h5FileCreateInMemory();
    nativeH5().h5FileClose(closedFile);
    const values: unknown[] = [
      undefined,
      null,
      0,
      -1,
      1.5,
      NaN,
      Infinity,
      2 ** 60,
      'x',
      '',
      '/',
      '/d',
      '/s',
      '/b',
      'int16',
      'string',
      'array',
      'bool',
      {},
      [],
      [-1],
      [0],
      [1e12, 1e12, 1e12],
      [2 ** 40, 2 ** 40],
      [3],
      ['a'],
      Buffer.alloc(3),
      Buffer.alloc(4),
      new Float64Array(1),
      new DataView(new ArrayBuffer(4)),
      true,
      1n,
      -(2n ** 70n),
      Symbol('s'),
      () => 1,
      file,
      ds,
      str,
      bs,
      closedFile,
      10 ** 9,
      [Buffer.alloc(12)],
      [Buffer.alloc(20)],
    ];
    let seed = 12345;
    const rnd = (k: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % k;
    };
    const names = Object.keys(n).filter((k) => k.startsWith('h5') && k !== 'h5FileClose' && k !== 'h5DatasetClose');
    assert.ok(names.length >= 20);
    let calls = 0;
    for (const name of names) {
      for (let i = 0; i < 400; i++) {
        const args = Array.from({ length: rnd(7) }, () => values[rnd(values.length)]);
        // Half of the calls get a live handle first, to reach the checks behind the handle.
        if (rnd(2) === 0) args[0] = [file, ds, str, bs][rnd(4)];
        // Keep the shared handles usable: never pass them to close, never create files at real paths.
        if (name === 'h5FileCreate' || name === 'h5FileOpenReadOnly') {
          if (typeof args[0] === 'string' && args[0].startsWith('/')) args[0] = 'rel.h5';
        }
        try {
          n[name]!(...args);
        } catch (e) {
          assert.ok(e instanceof Error, `${name} threw a non-Error`);
          const code = (e as { code?: string }).code;
          assert.ok(
            e instanceof TypeError || e instanceof RangeError || code === 'H5_ERR' || code === 'H5_ERR_CLOSED',
            `${name}(${args.map(String).join(', ')}) threw ${String(e)}`,
          );
        }
        calls++;
      }
    }
    assert.ok(calls > 8000);
    // Still consistent afterwards.
    nativeH5().h5DatasetAppend(ds, new Int16Array([1, 2]), 1);
    assert.ok(nativeH5().h5DatasetRows(ds) >= 1);
    nativeH5().h5FileClose(file);
    assert.throws(() => nativeH5().h5DatasetRows(ds), { code: 'H5_ERR_CLOSED' });
    assert.throws(() => nativeH5().h5DatasetRows(12345678 as Handle), TypeError);
  } finally {
    process.chdir(cwd);
  }
});

test('libhdf5 is refused on other threads, and the main thread keeps working', async () => {
  const index = fileURLToPath(new URL('../../../src/h5/index.js', import.meta.url));
  const code = `
const { parentPort } = require('node:worker_threads');
import(${JSON.stringify(index)}).then(({ H5File }) => {
  try { H5File.createInMemory(); parentPort.postMessage('no error'); }
  catch (e) { parentPort.postMessage(e.name + ' ' + e.code + ' ' + e.message); }
}, (e) => parentPort.postMessage('import failed ' + e));
`;
  const main = H5File.createInMemory(); // the main thread owns libhdf5 (it loaded the addon first)
  const msg = await new Promise<string>((resolve, reject) => {
    const w = new Worker(code, { eval: true });
    w.once('message', (m: string) => {
      resolve(m);
      void w.terminate();
    });
    w.once('error', reject);
  });
  assert.match(msg, /^H5Error H5_ERR .*main thread/);
  main.createNumericDataset('/x', { type: 'uint8', rowShape: [] }).append(Buffer.from([1]));
  assert.deepEqual(main.read('/x').data, Buffer.from([1]));
  main.close();
});
