// The disk-space reserve beside an output file: allocated, released on close, gone when the
// process exits without closing (GET /kill), and a killed writer's reserve removed by the next.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SpaceReserve } from '../../../src/writer/space-reserve.js';
import { ROOT } from '../../helpers/process.js';
import { tempDir } from './format-util.js';

test('a reserve is allocated (not sparse) beside the output and deleted by release()', () => {
  const dir = tempDir();
  const r = SpaceReserve.create(join(dir, 'out.h5'), 1024 * 1024);
  assert.ok(r !== null);
  assert.equal(r.path, join(dir, `.out.h5.reserve-${process.pid}`));
  const st = statSync(r.path);
  assert.equal(st.size, 1024 * 1024);
  assert.ok(st.blocks * 512 >= 1024 * 1024, 'the blocks are allocated');
  assert.ok((r.freeBytes() ?? 0) > 0);
  assert.equal(r.release(), true);
  assert.equal(r.release(), false);
  assert.deepEqual(readdirSync(dir), []);
});

test('a process that exits without release() (GET /kill) leaves no reserve behind', () => {
  const dir = tempDir();
  const module = join(ROOT, 'dist/src/writer/space-reserve.js');
  const script = `const { SpaceReserve } = await import(${JSON.stringify(module)}); const r = SpaceReserve.create(${JSON.stringify(join(dir, 'k.h5'))}, 65536); console.log(r === null ? 'none' : 'made'); process.exit(0);`;
  assert.equal(execFileSync(process.execPath, ['--input-type=module', '-e', script]).toString().trim(), 'made');
  assert.deepEqual(readdirSync(dir), []);
});

test("the reserve of a killed writer (its process is gone) is removed by the next one; another live writer's is kept", () => {
  const dir = tempDir();
  writeFileSync(join(dir, '.out.h5.reserve-999999999'), 'x'); // no such process
  writeFileSync(join(dir, '.out.h5.reserve-1'), 'x'); // pid 1 is alive
  const r = SpaceReserve.create(join(dir, 'out.h5'), 65536);
  assert.ok(r !== null);
  assert.deepEqual(readdirSync(dir).sort(), ['.out.h5.reserve-1', `.out.h5.reserve-${process.pid}`].sort());
  r.release();
});
