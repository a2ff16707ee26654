// sf_bsread_writer as a real process: a test sender (our encoder + PUSH) on loopback, REST calls,
// files read back with h5py.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { StreamSender } from '../helpers/stream-sender.js';
import { h5py } from '../helpers/h5py.js';
import { freePort } from '../helpers/net.js';
import { runProgram, stopAllPrograms } from '../helpers/process.js';
import { waitFor } from '../helpers/wait.js';
import { nowStamp, PARAMETERS, range, READ_FILE, rest, sender, startWriter, testMessage, type FileContent } from './writer-helpers.js';

const senders: StreamSender[] = [];
/** Temporary folders, removed at the end. */
const tempDirs: string[] = [];
after(async () => {
  for (const s of senders) s.close();
  await stopAllPrograms();
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

const dir = mkdtempSync(join(tmpdir(), 'writer-it-'));
tempDirs.push(dir);
let fileNo = 0;
const newPath = (): string => join(dir, `sub${fileNo}`, `out${fileNo++}.h5`);

async function newSender(): Promise<StreamSender> {
  const s = await sender();
  senders.push(s);
  return s;
}

/** Sends without waiting for a peer (the writer may have exited already). */
function sendLater(s: StreamSender, frames: Buffer[]): void {
  void s.send(frames).catch(() => {});
}

test("the seed's writer test: start 3, stop 8 sent while pulse 6 goes out → exactly 3..8, exit 0", async () => {
  const src = await newSender();
  const path = newPath();
  const w = await startWriter(src.endpoint, path);
  assert.deepEqual(await w.call('GET', '/status'), { state: 'ok', status: 'waiting' });
  const empty = await w.call('POST', '/parameters', '{}');
  assert.equal(empty.state, 'error');
  for (const k of Object.keys(PARAMETERS)) assert.ok(empty.status.includes(k), `names ${k}: ${empty.status}`);
  assert.deepEqual(await w.call('POST', '/parameters', JSON.stringify(PARAMETERS)), { state: 'ok', status: 'waiting', parameters: PARAMETERS });
  const started = await w.call('PUT', '/start_pulse_id/3');
  assert.equal(started.state, 'ok', started.status);
  assert.equal((await w.call('GET', '/status')).status, 'writing');
  for (let p = 0; p <= 6; p++) await src.send(testMessage(p));
  const stop = await w.call('PUT', '/stop_pulse_id/8');
  assert.equal(stop.state, 'ok', stop.status);
  for (let p = 7; p <= 9; p++) sendLater(src, testMessage(p));
  assert.equal(await w.proc.exited, 0, w.proc.stderr());
  const f = await h5py<FileContent>(path, READ_FILE);
  assert.deepEqual(f.pulse_id, range(3, 8));
  assert.deepEqual(
    f.scalar,
    range(3, 8).map((p) => p * 1.5),
  );
  assert.deepEqual(
    f.pair,
    range(3, 8).map((p) => [p, -p]),
  );
  assert.deepEqual(
    f.text,
    range(3, 8).map((p) => `p${p}`),
  );
  assert.deepEqual(f.missing_keys, ['is_data_present', 'pulse_id'], 'a channel that is always missing has no data dataset');
  assert.deepEqual(f.missing_present, [0, 0, 0, 0, 0, 0]);
  assert.equal(f.general['user'], 'p12345');
  assert.equal(f.general['instrument'], 'alvra');
  assert.equal(f.attrs['rows_written'], 6);
  assert.equal(f.attrs['missing_pulse_ids'], 0);
  assert.equal(f.attrs['requested_start_pulse_id'], 3);
  assert.equal(f.attrs['requested_stop_pulse_id'], 8);
});

test('late stop: pulses up to 605 written, then stop 602 → the file holds 600..602 only', async () => {
  const src = await newSender();
  const path = newPath();
  const w = await startWriter(src.endpoint, path);
  assert.equal((await w.call('PUT', '/start_pulse_id/600')).state, 'ok');
  for (let p = 595; p <= 605; p++) await src.send(testMessage(p));
  await waitFor('605 seen', async () => ((await w.call('GET', '/statistics'))['statistics'] as { last_pulse_id: number }).last_pulse_id === 605);
  const r = await w.call('PUT', '/stop_pulse_id/602');
  assert.equal(r.state, 'ok');
  assert.match(r.status, /3 rows after the stop removed/);
  assert.equal(await w.proc.exited, 0);
  const f = await h5py<FileContent>(path, READ_FILE);
  assert.deepEqual(f.pulse_id, [600, 601, 602]);
  assert.deepEqual(f.scalar, [900, 901.5, 903]);
});

test('stop after the stream went quiet: the process ends at once and the file is complete', async () => {
  const src = await newSender();
  const path = newPath();
  const w = await startWriter(src.endpoint, path);
  await w.call('PUT', '/start_pulse_id/10');
  for (let p = 10; p <= 30; p++) await src.send(testMessage(p));
  await waitFor('30 seen', async () => ((await w.call('GET', '/statistics'))['statistics'] as { last_pulse_id: number }).last_pulse_id === 30);
  await new Promise((r) => setTimeout(r, 1200)); // quiet for more than a receive timeout
  assert.equal((await w.call('PUT', '/stop_pulse_id/30')).state, 'ok');
  assert.equal(await w.proc.exited, 0);
  const f = await h5py<FileContent>(path, READ_FILE);
  assert.deepEqual(f.pulse_id, range(10, 30));
});

test('start_now / stop_now (no body) write by global_timestamp and exit', async () => {
  const src = await newSender();
  const path = newPath();
  const w = await startWriter(src.endpoint, path);
  await w.call('POST', '/parameters', JSON.stringify(PARAMETERS));
  const r = await rest(w.port, 'PUT', '/start_now');
  assert.equal(r.json.state, 'ok', r.json.status);
  await src.send(testMessage(1, nowStamp(-60_000))); // stamped before the start: discarded
  for (let p = 2; p <= 5; p++) await src.send(testMessage(p, nowStamp(0)));
  await waitFor('5 written', async () => ((await w.call('GET', '/statistics'))['statistics'] as { messages_written: number }).messages_written === 4);
  assert.equal((await w.call('PUT', '/stop_now')).state, 'ok');
  sendLater(src, testMessage(6, nowStamp(60_000)));
  assert.equal(await w.proc.exited, 0);
  const f = await h5py<FileContent>(path, READ_FILE);
  assert.deepEqual(f.pulse_id, [2, 3, 4, 5]);
});

test('persistent mode: two start_now with output_file write two files; the process stays up', async () => {
  const src = await newSender();
  const w = await startWriter(src.endpoint, newPath());
  await w.call('POST', '/parameters', JSON.stringify(PARAMETERS));
  const files = [newPath(), newPath()];
  for (const [i, file] of files.entries()) {
    const r = await w.call('PUT', '/start_now', JSON.stringify({ output_file: file }));
    assert.equal(r.state, 'ok', r.status);
    const base = 100 * (i + 1);
    for (let p = base; p < base + 5; p++) await src.send(testMessage(p, nowStamp(0)));
    await waitFor('5 written', async () => ((await w.call('GET', '/statistics'))['statistics'] as { messages_written: number }).messages_written === 5);
    await w.call('PUT', '/stop_now');
    // No message after the stop: the run ends once the stream was quiet for 1 s after stop_now.
    // (A message that nobody receives would block this PUSH socket's next send.)
    await waitFor('finished', async () => (await w.call('GET', '/status')).status === 'finished');
    const f = await h5py<FileContent>(file, READ_FILE);
    assert.deepEqual(f.pulse_id, range(base, base + 4));
  }
  assert.equal(w.proc.child.exitCode, null, 'still running');
  const again = await w.call('PUT', '/start_now', JSON.stringify({ output_file: files[0] }));
  assert.equal(again.state, 'error');
  assert.match(again.status, /exists already/);
  assert.equal((await w.call('GET', '/stop')).state, 'ok');
  assert.equal(await w.proc.exited, 0);
});

test('/dev/null: everything but the file', async () => {
  const src = await newSender();
  const w = await startWriter(src.endpoint, '/dev/null');
  await w.call('PUT', '/start_pulse_id/0');
  await w.call('PUT', '/stop_pulse_id/4');
  for (let p = 0; p <= 4; p++) await src.send(testMessage(p));
  assert.equal(await w.proc.exited, 0, w.proc.stderr());
  assert.match(w.proc.stderr(), /"rowsWritten":5/);
});

for (const how of ['GET /stop', 'SIGTERM', 'GET /kill'] as const) {
  test(`${how} while writing: the file opens in h5py${how === 'GET /kill' ? '' : ' and holds every accepted pulse'}`, async () => {
    const src = await newSender();
    const path = newPath();
    const w = await startWriter(src.endpoint, path);
    await w.call('PUT', '/start_pulse_id/1000');
    let running = true;
    let next = 1000;
    const loop = (async () => {
      // One send at a time (the socket allows no more); once the writer is gone a send waits
      // for a peer that never comes, so it is raced against a timer, never repeated meanwhile.
      let pending: Promise<boolean> | null = null;
      while (running) {
        pending ??= src.send(testMessage(next)).catch(() => false);
        const ok = await Promise.race([pending, new Promise<'waiting'>((r) => setTimeout(() => r('waiting'), 200))]);
        if (ok !== 'waiting') {
          pending = null;
          if (ok) next++;
        }
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    await waitFor('200 written', async () => ((await w.call('GET', '/statistics'))['statistics'] as { messages_written: number }).messages_written >= 200);
    if (how === 'SIGTERM') w.proc.child.kill('SIGTERM');
    else {
      const r = await w.call('GET', how === 'GET /stop' ? '/stop' : '/kill');
      assert.equal(r.state, 'ok');
      if (how === 'GET /stop') assert.match(r.status, /file closed with \d+ rows/);
    }
    assert.equal(await w.proc.exited, 0, w.proc.stderr());
    running = false;
    await loop;
    const f = await h5py<{ ids: number[] }>(path, 'f = h5py.File(path, "r"); result = {"ids": f["/data/SCALAR/pulse_id"][:]}');
    assert.ok(f.ids.length >= (how === 'GET /kill' ? 1 : 200), `rows: ${f.ids.length}`);
    assert.deepEqual(f.ids, range(1000, 1000 + f.ids.length - 1), 'consecutive from the start, nothing missing');
  });
}

test('REST errors against the real process: garbage ids, bodies, paths; 404 in JSON', async () => {
  const w = await startWriter('tcp://127.0.0.1:9', '/dev/null');
  const bad = async (method: string, path: string, body: string | undefined, pattern: RegExp): Promise<void> => {
    const r = await rest(w.port, method, path, body, body === undefined ? {} : { 'content-type': 'application/json' });
    assert.equal(r.http, 200);
    assert.equal(r.json.state, 'error');
    assert.match(r.json.status, pattern);
  };
  await bad('PUT', '/start_pulse_id/abc', undefined, /start_pulse_id must be a non-negative integer, got "abc"/);
  await bad('PUT', '/stop_pulse_id/-5', undefined, /non-negative integer/);
  await bad('PUT', '/start_pulse_id/99999999999999999999', undefined, /non-negative integer/);
  await bad('POST', '/parameters', '{"general/user":', /not valid JSON/);
  await bad('POST', '/parameters', '[1,2]', /body/);
  await bad('PUT', '/start_now', '{"output_file": 5}', /output_file/);
  await bad('PUT', '/start_now', '{"outputfile": "/tmp/x.h5"}', /additional/);
  const nf = await rest(w.port, 'GET', '/no/such/route');
  assert.equal(nf.http, 404);
  assert.equal(nf.json.state, 'error');
  assert.match(nf.json.status, /no route GET \/no\/such\/route/);
  const wrongMethod = await rest(w.port, 'GET', '/start_pulse_id/3');
  assert.equal(wrongMethod.http, 404);
  const api = (await (await fetch(`http://127.0.0.1:${w.port}/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
  assert.equal(api.openapi, '3.0.3');
  assert.ok('/start_pulse_id/{id}' in api.paths);
  await w.proc.stop();
});

test('start-up refusals: existing file without --overwrite, bad arguments (exit 2), unwritable folder', async () => {
  const existing = join(dir, 'existing.h5');
  writeFileSync(existing, 'not hdf5');
  const port = String(await freePort());
  const exists = await runProgram('sf_bsread_writer', ['tcp://127.0.0.1:9', existing, '-1', port]);
  assert.equal(exists.code, 1);
  assert.match(exists.stderr, /exists already; refusing to overwrite it \(use --overwrite\)/);
  for (const args of [
    ['tcp://nohost', existing, '-1', port],
    ['tcp://127.0.0.1:9', existing, 'x', port],
    ['tcp://127.0.0.1:9', existing, '-1', '70000'],
    ['tcp://127.0.0.1:9', existing, '-1', port, '--mode', 'dealer'],
    ['tcp://127.0.0.1:9', existing, '-1', port, '--input_reader', 'jeromq'],
    ['tcp://127.0.0.1:9', existing, '-1', port, '--mode', 'sub', '--input_reader', 'zmtp'],
    ['tcp://127.0.0.1:9', existing, '-1', port, '--log_level', 'LOUD'],
    ['tcp://127.0.0.1:9'],
  ]) {
    const r = await runProgram('sf_bsread_writer', args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /error/);
  }
  const w = await startWriter('tcp://127.0.0.1:9', existing, ['--overwrite']);
  await w.proc.stop();
  assert.equal(await w.proc.exited, 0);
});

test('user_id: as root with uid 65534 the file belongs to 65534', async (t) => {
  if (process.getuid?.() !== 0) {
    t.skip('not running as root: cannot test switching to another user id');
    return;
  }
  const userDir = mkdtempSync(join(tmpdir(), 'writer-uid-'));
  tempDirs.push(userDir);
  chmodSync(userDir, 0o777);
  const path = join(userDir, 'nobody', 'out.h5');
  const src = await newSender();
  const w = await startWriter(src.endpoint, path, [], '65534');
  await w.call('PUT', '/start_pulse_id/0');
  await w.call('PUT', '/stop_pulse_id/2');
  for (let p = 0; p <= 3; p++) sendLater(src, testMessage(p));
  assert.equal(await w.proc.exited, 0, w.proc.stderr());
  assert.ok(existsSync(path));
  assert.equal(statSync(path).uid, 65534);
  assert.equal(statSync(join(userDir, 'nobody')).uid, 65534, 'the folder was created as the user too');
  // Not permitted: a plain user cannot switch; shown through a root-owned folder it cannot write.
  const rootOnly = mkdtempSync(join(tmpdir(), 'writer-root-'));
  tempDirs.push(rootOnly);
  chmodSync(rootOnly, 0o700);
  const r = await runProgram('sf_bsread_writer', ['tcp://127.0.0.1:9', join(rootOnly, 'x.h5'), '65534', String(await freePort())]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot write into the output folder/);
});
