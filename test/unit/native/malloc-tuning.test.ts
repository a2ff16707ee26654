// keepFreedMemoryInProcess: glibc keeps freed buffers in the process (native/malloc_tuning.cc),
// unless the operator set glibc's own variables. Checked in child processes, as the programs run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MODULE = fileURLToPath(new URL('../../../src/native/malloc-tuning.js', import.meta.url));

function tuneInChild(env: Record<string, string>): { mmapThreshold: number; trimThreshold: number; skipped: string | null } {
  const program = `import(${JSON.stringify(MODULE)}).then((m) => console.log(JSON.stringify(m.keepFreedMemoryInProcess())))`;
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MALLOC_'))) as Record<string, string>;
  return JSON.parse(execFileSync(process.execPath, ['-e', program], { env: { ...clean, ...env } }).toString()) as {
    mmapThreshold: number;
    trimThreshold: number;
    skipped: string | null;
  };
}

test('keepFreedMemoryInProcess sets the mmap and trim thresholds on Linux', { skip: process.platform !== 'linux' }, () => {
  const r = tuneInChild({});
  assert.equal(r.skipped, null);
  assert.equal(r.mmapThreshold, 32 * 1024 * 1024);
  assert.equal(r.trimThreshold, 256 * 1024 * 1024);
});

test('keepFreedMemoryInProcess leaves glibc alone when the operator set MALLOC_TRIM_THRESHOLD_ or MALLOC_MMAP_THRESHOLD_', () => {
  for (const name of ['MALLOC_TRIM_THRESHOLD_', 'MALLOC_MMAP_THRESHOLD_']) {
    const r = tuneInChild({ [name]: '131072' });
    assert.equal(r.mmapThreshold, 0);
    assert.equal(r.trimThreshold, 0);
    assert.match(r.skipped ?? '', new RegExp(name));
  }
});
