// The demo (`npm start`) as a newcomer runs it: it must exit 0, leave no process behind and
// leave a file that an independent reader opens with the expected channels and rows.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, startProgram, stopAllPrograms } from '../helpers/process.js';
import { h5py } from '../helpers/h5py.js';

after(stopAllPrograms);

interface FileCheck {
  channels: string[];
  rows: number[];
  camera: number[];
  first: number;
  last: number;
  general: string[];
  same_ids: boolean;
  consecutive: boolean;
}

async function checkDemoFile(path: string, stdout: string): Promise<void> {
  const r = await h5py<FileCheck>(
    path,
    `
f = h5py.File(path, "r")
names = sorted(f["data"].keys())
ids = [int(x) for x in f["data"][names[0]]["pulse_id"][:]]
result = {
  "same_ids": all([int(x) for x in f["data"][n]["pulse_id"][:]] == ids for n in names),
  "consecutive": ids == list(range(ids[0], ids[0] + len(ids))),
  "channels": names,
  "rows": sorted(set(f["data"][n]["pulse_id"].shape[0] for n in names)),
  "camera": list(f["data"]["SLG-LCAM-C041:FPICTURE"]["data"].shape),
  "first": min(ids), "last": max(ids),
  "general": sorted(f["general"].keys()),
}
`,
  );
  // The demo writes the channels of its channels file and a range of 300 pulses.
  const asked = /channels file with (\d+) channels/.exec(stdout);
  assert.ok(asked, stdout);
  assert.equal(r.channels.length, Number(asked[1]));
  assert.ok(r.channels.length >= 24, 'a few dozen channels');
  assert.ok(r.channels.includes('SLG-LCAM-C041:FPICTURE'));
  assert.deepEqual(r.rows, [300], 'every channel has one row per pulse of the range');
  assert.ok(r.same_ids, 'row k of every channel carries the same pulse id (value or not)');
  assert.ok(r.consecutive, 'the rows are consecutive pulses');
  assert.deepEqual(r.camera, [300, 1024, 1024]);
  assert.equal(r.last - r.first + 1, 300);
  assert.deepEqual(r.general, ['created', 'instrument', 'process', 'user']);
  const requested = /PUT \/start_pulse_id\/(\d+).*PUT \/stop_pulse_id\/(\d+)/.exec(stdout);
  assert.ok(requested, stdout);
  assert.equal(r.first, Number(requested[1]));
  assert.equal(r.last, Number(requested[2]));
}

function ourProcesses(marker: string): string {
  return spawnSync('pgrep', ['-af', marker], { encoding: 'utf8' }).stdout.trim();
}

test('the demo ends with exit 0, a complete file and no process left behind', { timeout: 120_000 }, async () => {
  const out = mkdtempSync(join(tmpdir(), 'sf-bsread-demo-'));
  try {
    const demo = startProgram('demo', [out]);
    const code = await demo.exited;
    assert.equal(code, 0, `${demo.stdout()}\n${demo.stderr()}`);
    const files = readdirSync(out).filter((f) => f.endsWith('.h5'));
    assert.equal(files.length, 1);
    await checkDemoFile(join(out, files[0]!), demo.stdout());
    assert.match(demo.stdout(), /missing\s+0 pulse ids/);
    // The buffer and the writer name the output folder on their command line, the dispatcher its port.
    assert.equal(ourProcesses(out), '', 'the buffer or the writer is still running');
    const port = /embedded dispatcher on http:\/\/127\.0\.0\.1:(\d+)/.exec(demo.stdout())?.[1];
    assert.ok(port);
    assert.equal(ourProcesses(`dispatcher --port ${port}`), '', 'the dispatcher is still running');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('npm start -- --jetstream: the same file through a nats-server the demo starts and stops', { timeout: 120_000 }, async () => {
  const out = mkdtempSync(join(tmpdir(), 'sf-bsread-demo-js-'));
  try {
    const demo = startProgram('demo', ['--jetstream', out]);
    const code = await demo.exited;
    assert.equal(code, 0, `${demo.stdout()}\n${demo.stderr()}`);
    const files = readdirSync(out).filter((f) => f.endsWith('.h5'));
    assert.equal(files.length, 1);
    await checkDemoFile(join(out, files[0]!), demo.stdout());
    assert.match(demo.stdout(), /JetStream stream DEMO holds \d+ messages/);
    assert.match(demo.stdout(), /missing\s+0 pulse ids/);
    const store = /store (\S+)/.exec(demo.stdout())?.[1];
    assert.ok(store);
    assert.equal(ourProcesses(store), '', 'the nats-server is still running');
    assert.equal(ourProcesses(out), '', 'the buffer or the writer is still running');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

// Opt-in (slow: a clean install): SF_BSREAD_SLOW_TESTS=1 npm test -- demo
test('npm start from a fresh clone', { skip: process.env.SF_BSREAD_SLOW_TESTS !== '1' && 'set SF_BSREAD_SLOW_TESTS=1 to run', timeout: 900_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sf-bsread-clone-'));
  try {
    // The clone stands alone: nothing is put beside it.
    execFileSync('git', ['clone', '-q', ROOT, join(dir, 'main')]);
    const r = spawnSync('npm', ['start'], { cwd: join(dir, 'main'), encoding: 'utf8', timeout: 850_000 });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    const outDir = join(dir, 'main', 'demo-output');
    const files = readdirSync(outDir).filter((f) => f.endsWith('.h5'));
    assert.equal(files.length, 1);
    await checkDemoFile(join(outDir, files[0]!), r.stdout);
    assert.equal(ourProcesses(dir), '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
