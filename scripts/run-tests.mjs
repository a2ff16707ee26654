#!/usr/bin/env node
// Runs every compiled test file with Node's own test runner: unit tests two files at a time,
// then the integration tests one file at a time (they start real programs that stream at
// 100 Hz; two such files at once on a 2-core machine starve each other and measure the machine,
// not the code). Extra arguments are file filters: `npm test -- codec` runs test files whose path
// contains "codec". Ends with one closing line for both phases: "tests: N passed, N failed".
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const filters = process.argv.slice(2).filter((a) => !a.startsWith('-'));

function collect(dir) {
  const out = [];
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir).sort()) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...collect(p));
    else if (e.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const selected = (files) => files.filter((f) => filters.length === 0 || filters.some((s) => relative(root, f).includes(s)));
const phases = [
  { name: 'unit', concurrency: 2, files: selected(collect(join(root, 'dist/test/unit'))) },
  { name: 'integration', concurrency: 1, files: selected(collect(join(root, 'dist/test/integration'))) },
].filter((p) => p.files.length > 0);
if (phases.length === 0) {
  console.error('no test files found (did the TypeScript build run?)');
  process.exit(1);
}

const tapDir = mkdtempSync(join(tmpdir(), 'sf-bsread-tap-'));
const totals = { pass: 0, fail: 0, skipped: 0, todo: 0, cancelled: 0 };
let status = 0;
for (const phase of phases) {
  console.log(`\n=== ${phase.name} tests (${phase.files.length} files) ===`);
  const tap = join(tapDir, `${phase.name}.tap`);
  const r = spawnSync(
    process.execPath,
    [
      '--test',
      `--test-concurrency=${phase.concurrency}`,
      '--test-timeout=300000',
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      '--test-reporter=tap',
      `--test-reporter-destination=${tap}`,
      ...phase.files,
    ],
    { stdio: 'inherit', cwd: root },
  );
  if (r.status !== 0) status = r.status ?? 1;
  const text = existsSync(tap) ? readFileSync(tap, 'utf8') : '';
  for (const key of Object.keys(totals)) {
    // The runner's own summary lines at the end of the TAP stream: "# pass 12".
    const m = [...text.matchAll(new RegExp(`^# ${key} (\\d+)$`, 'gm'))].pop();
    totals[key] += m ? Number(m[1]) : 0;
  }
}
rmSync(tapDir, { recursive: true, force: true });
const failed = totals.fail + totals.cancelled;
console.log(`\ntests: ${totals.pass} passed, ${failed} failed, ${totals.skipped} skipped`);
if (totals.todo > 0) console.log(`(${totals.todo} todo: known defects kept as tests; see their names)`);
process.exit(status !== 0 || failed > 0 ? status || 1 : 0);
