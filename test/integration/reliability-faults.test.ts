// Reliability: faults and security against the real writer (and buffer): SIGKILL while writing,
// disk full (tmpfs, root only), symlinks at the output path, listening addresses, hazardous but
// well-formed input (absurd shapes, corrupt bitshuffle blocks stored by direct chunk write).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test, type TestContext } from 'node:test';
import { encodeMessage, resolveChannelDef } from '../../src/bsread/index.js';
import type { StreamSender } from '../helpers/stream-sender.js';
import { h5py } from '../helpers/h5py.js';
import { goodMessage } from '../helpers/mutate.js';
import { freePort } from '../helpers/net.js';
import { ROOT, runProgram, stopAllPrograms } from '../helpers/process.js';
import { waitFor } from '../helpers/wait.js';
import { startBuffer } from '../unit/buffer/helpers.js';
import { PARAMETERS, range, sender, startWriter, testMessage } from './writer-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'reliability-faults-'));
const senders: StreamSender[] = [];
const mounts: string[] = [];
after(async () => {
  for (const s of senders) s.close();
  await stopAllPrograms();
  for (const m of mounts) {
    try {
      execFileSync('umount', [m]);
    } catch {
      // not mounted
    }
  }
  rmSync(dir, { recursive: true, force: true });
});
let n = 0;
const newPath = (): string => join(dir, `f${n}`, `out${n++}.h5`);
async function newSender(): Promise<StreamSender> {
  const s = await sender();
  senders.push(s);
  return s;
}
interface Stats {
  messages_written: number;
  malformed_total: number;
  channel_errors: Record<string, number>;
  last_error: string | null;
}
const statsOf = async (w: { call: (m: string, p: string) => Promise<Record<string, unknown>> }): Promise<Stats> => (await w.call('GET', '/statistics'))['statistics'] as Stats;

test('SIGKILL while writing at 100 Hz: the file opens in h5py and holds every pulse sent up to ~1 s before the kill', { timeout: 60_000 }, async () => {
  const src = await newSender();
  const path = newPath();
  const w = await startWriter(src.endpoint, path);
  await w.call('POST', '/parameters', JSON.stringify(PARAMETERS));
  await w.call('PUT', '/start_pulse_id/1000');
  const sentAt: number[] = [];
  let next = 1000;
  let running = true;
  const loop = (async () => {
    while (running) {
      const ok = await Promise.race([src.send(testMessage(next)), new Promise<boolean>((r) => setTimeout(() => r(false), 200))]);
      if (ok) sentAt[next++ - 1000] = Date.now();
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  await waitFor('3 s of pulses written', async () => (await statsOf(w)).messages_written >= 250, 20_000);
  const killedAt = Date.now();
  w.proc.child.kill('SIGKILL');
  assert.equal(await w.proc.exited, 'SIGKILL');
  running = false;
  await loop;
  const f = await h5py<{ ids: number[] }>(path, 'f = h5py.File(path, "r"); result = {"ids": f["/data/SCALAR/pulse_id"][:]}');
  const sentBefore = sentAt.filter((t) => t <= killedAt - 1200).length;
  assert.ok(f.ids.length >= sentBefore, `rows ${f.ids.length}, pulses sent more than 1.2 s before the kill: ${sentBefore}`);
  assert.deepEqual(f.ids, range(1000, 1000 + f.ids.length - 1), 'consecutive from the start: nothing invented, nothing missing');
});

/** A small tmpfs (2 MiB unless `size` says otherwise) mounted at dir/name (unmounted at the end), or null with the test skipped (needs root). */
function smallDisk(t: TestContext, name: string, size = '2m'): string | null {
  if (process.getuid?.() !== 0) {
    t.skip('not root: cannot mount a tmpfs');
    return null;
  }
  const mnt = join(dir, name);
  mkdirSync(mnt);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', mnt], { stdio: 'pipe' });
  } catch (e) {
    t.skip(`mount failed: ${String(e)}`);
    return null;
  }
  mounts.push(mnt);
  return mnt;
}

test('disk full while writing (2 MiB tmpfs): status error with a clear message, the file readable up to what fit, no hang', { timeout: 60_000 }, async (t) => {
  const mnt = smallDisk(t, 'small');
  if (mnt === null) return;
  const src = await newSender();
  const path = join(mnt, 'full.h5');
  const w = await startWriter(src.endpoint, path, ['--flush_interval', '0.1']);
  await w.call('POST', '/parameters', JSON.stringify(PARAMETERS));
  await w.call('PUT', '/start_pulse_id/1');
  // ~4 KiB of text per message: 2 MiB are full after a few hundred pulses.
  let p = 1;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && (await w.call('GET', '/status')).status === 'writing') {
    for (let i = 0; i < 50; i++) {
      const sent = await Promise.race([src.send(goodMessage(p, 'y'.repeat(4096))), new Promise<boolean>((r) => setTimeout(() => r(false), 200))]);
      if (!sent) break;
      p++;
    }
  }
  const st = await w.call('GET', '/status');
  assert.equal(st.status, 'error', `after ${p} pulses`);
  const s = await statsOf(w);
  assert.match(s.last_error ?? '', /space|ENOSPC|write|H5/i);
  assert.equal(w.proc.child.exitCode, null, 'still answering');
  const r = await w.call('GET', '/stop');
  assert.equal(r.state, 'ok');
  const code = await Promise.race([w.proc.exited, new Promise((res) => setTimeout(() => res('hang'), 10_000))]);
  assert.notEqual(code, 'hang');
  // Exit 1 (the acquisition failed), not a crash: libhdf5's own shutdown used to segfault on the
  // file whose close had failed.
  assert.equal(code, 1, w.proc.stderr().slice(-1500));
  const f = await h5py<{ ids: number[] }>(path, 'f = h5py.File(path, "r"); result = {"ids": f["/data/SCALAR/pulse_id"][:]}').catch((e: unknown) => ({ error: String(e) }));
  assert.ok('ids' in f, `the file opens: ${JSON.stringify(f).slice(0, 500)}`);
  assert.deepEqual(f.ids, range(1, f.ids.length), 'the rows that fit, consecutive');
});

test('disk full without the writer program: writing stops before the disk is full, the file keeps every row, the process exits normally', { timeout: 60_000 }, async (t) => {
  const mnt = smallDisk(t, 'small2');
  if (mnt === null) return;
  const path = join(mnt, 'full.h5');
  // The file layer alone in a child process: write until the disk is full, close, exit.
  const script = `
    import { SwissFelFile } from ${JSON.stringify(join(ROOT, 'dist/src/writer/swissfel-file.js'))};
    import { BsreadReceiver } from ${JSON.stringify(join(ROOT, 'dist/src/bsread/index.js'))};
    import { goodMessage } from ${JSON.stringify(join(ROOT, 'dist/test/helpers/mutate.js'))};
    const r = new BsreadReceiver();
    const f = SwissFelFile.create({ path: ${JSON.stringify(path)}, flushIntervalMs: 50 });
    let failed = '';
    for (let p = 1; p < 20000 && !failed; p++) {
      try { f.write(r.open(goodMessage(p, 'y'.repeat(4096)))); } catch (e) { failed = e.code; }
    }
    f.close();
    process.stdout.write(JSON.stringify({ failed, rows: f.rows }));
  `;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 50_000 });
  assert.equal(child.signal, null, `the process died of ${child.signal}: ${child.stderr.slice(-1000)}`);
  assert.equal(child.status, 0, child.stderr.slice(-1000));
  const out = JSON.parse(child.stdout) as { failed: string; rows: number };
  assert.equal(out.failed, 'BSREAD_ERR_DISK_FULL', 'writing stopped before the disk was full');
  assert.ok(out.rows > 100, `rows written first: ${out.rows}`);
  const f = await h5py<{ ids: Record<string, number[]>; dir: string[] }>(
    path,
    'import os\nf = h5py.File(path, "r")\nresult = {"ids": {c: f["data"][c]["pulse_id"][:] for c in f["data"]}, "dir": sorted(os.listdir(os.path.dirname(path)))}',
  );
  for (const [c, ids] of Object.entries(f.ids)) assert.deepEqual(ids, range(1, out.rows), `${c}: every row written, consecutive`);
  assert.deepEqual(f.dir, ['full.h5'], 'the reserve file is gone');
});

test(
  'disk full with values stored far bigger than sent (lz4 images of zeros, stored decompressed): writing stops in time, the file stays readable',
  { timeout: 60_000 },
  async (t) => {
    const mnt = smallDisk(t, 'small3', '40m');
    if (mnt === null) return;
    const path = join(mnt, 'lz4.h5');
    // 66 kB on the wire, 16.8 MB in the file: an estimate from message sizes let libhdf5 hit the full disk.
    const script = `
    import { SwissFelFile } from ${JSON.stringify(join(ROOT, 'dist/src/writer/swissfel-file.js'))};
    import { BsreadReceiver, encodeMessage } from ${JSON.stringify(join(ROOT, 'dist/src/bsread/index.js'))};
    const r = new BsreadReceiver();
    const f = SwissFelFile.create({ path: ${JSON.stringify(path)}, bitshuffle: 'decompress' });
    const img = new Uint16Array(2900 * 2900);
    let failed = '';
    for (let p = 1; p < 100 && !failed; p++) {
      img[0] = p;
      const channels = [{ def: { name: 'IMG', type: 'uint16', shape: [2900, 2900], compression: 'lz4' }, value: img }, { def: { name: 'S', type: 'float64' }, value: p }];
      try { f.write(r.open(encodeMessage({ pulseId: p, globalTimestamp: { sec: 1, ns: 0 }, channels }))); } catch (e) { failed = e.code; }
    }
    f.close();
    process.stdout.write(JSON.stringify({ failed, rows: f.rows }));
  `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 50_000 });
    assert.equal(child.status, 0, `${child.signal ?? ''} ${child.stderr.slice(-1000)}`);
    const out = JSON.parse(child.stdout) as { failed: string; rows: number };
    assert.equal(out.failed, 'BSREAD_ERR_DISK_FULL');
    const f = await h5py<{ ids: number[]; img0: number[] }>(
      path,
      'f = h5py.File(path, "r")\nresult = {"ids": f["data/S/pulse_id"][:], "img0": [int(x) for x in f["data/IMG/data"][:, 0, 0]]}',
    );
    assert.deepEqual(f.ids, range(1, out.rows));
    assert.deepEqual(f.img0, range(1, out.rows), 'every image row as written');
  },
);

test('a symlink at the output path pointing to an existing file: refused with and without --overwrite, target untouched', async () => {
  const target = join(dir, 'precious.dat');
  writeFileSync(target, 'users data');
  const link = join(dir, 'link.h5');
  symlinkSync(target, link);
  const port = String(await freePort());
  const plain = await runProgram('sf_bsread_writer', ['tcp://127.0.0.1:9', link, '-1', port]);
  assert.equal(plain.code, 1, plain.stderr);
  const src = await newSender();
  const r = await runProgram('sf_bsread_writer', ['tcp://127.0.0.1:9', link, '-1', String(await freePort()), '--overwrite'], 5_000);
  // Either refused at start-up, or (if it started) it must not write through the link.
  if (r.code !== 1) {
    const w = await startWriter(src.endpoint, link, ['--overwrite']);
    await w.call('PUT', '/start_pulse_id/0');
    await w.call('PUT', '/stop_pulse_id/1');
    void src.send(testMessage(0)).catch(() => {});
    void src.send(testMessage(1)).catch(() => {});
    await Promise.race([w.proc.exited, new Promise((res) => setTimeout(res, 5000))]);
    await w.proc.stop('SIGTERM');
  }
  assert.equal(readFileSync(target, 'utf8'), 'users data', 'the symlink target is untouched');
});

test('a dangling symlink at the output path is not followed to create a file elsewhere', async () => {
  const elsewhere = join(dir, 'elsewhere.h5');
  const link = join(dir, 'dangling.h5');
  symlinkSync(elsewhere, link);
  const src = await newSender();
  const w = await startWriter(src.endpoint, link).catch(() => null);
  if (w !== null) {
    const r = await w.call('PUT', '/start_pulse_id/0');
    if (r.state === 'ok') {
      await w.call('PUT', '/stop_pulse_id/1');
      await src.send(testMessage(0));
      await src.send(testMessage(1));
    }
    await w.proc.stop('SIGTERM');
  }
  assert.equal(existsSync(elsewhere), false, 'nothing created through the link');
});

/** Whether a TCP connection to host:port is accepted (false when refused or silent for 2 s). */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect({ host, port });
    const done = (ok: boolean) => {
      c.destroy();
      resolve(ok);
    };
    c.setTimeout(2000, () => done(false));
    c.once('connect', () => done(true));
    c.once('error', () => done(false));
  });
}

// All of 127.0.0.0/8 is loopback on Linux: a socket bound to the wildcard address answers on
// 127.0.0.2, one bound to 127.0.0.1 does not. So the bind address is checked without leaving
// the loopback interface (this sandbox hides listening sockets from /proc/net/tcp and ss).
test('REST, status, output and replay ports listen on 127.0.0.1 only by default; --rest_host widens it', async (t) => {
  const control = createServer().listen(0, '0.0.0.0');
  await once(control, 'listening');
  const controlPort = (control.address() as AddressInfo).port;
  const routed = await accepts('127.0.0.2', controlPort);
  control.close();
  if (!routed) return t.skip('127.0.0.2 does not reach a wildcard listener here; cannot tell the bind address');
  const src = await newSender();
  const w = await startWriter(src.endpoint, '/dev/null');
  const status = await freePort();
  const out = await freePort();
  const b = await startBuffer([src.endpoint, '-o', String(out), '--status_port', String(status)]);
  const wide = await startWriter(src.endpoint, '/dev/null', ['--rest_host', '0.0.0.0']);
  try {
    for (const [what, port] of [
      ['writer REST', w.port],
      ['buffer status', status],
      ['buffer output', out],
      ['buffer replay', out + 1],
    ] as const) {
      assert.equal(await accepts('127.0.0.1', port), true, `${what} ${port} answers on 127.0.0.1`);
      assert.equal(await accepts('127.0.0.2', port), false, `${what} ${port} must not listen beyond 127.0.0.1`);
    }
    assert.equal(await accepts('127.0.0.2', wide.port), true, '--rest_host 0.0.0.0 listens on every address');
  } finally {
    await w.proc.stop('SIGTERM');
    await wide.proc.stop('SIGTERM');
    await b.stop('SIGTERM');
  }
});

function hazardMessage(pulseId: number, imgShape: number[], corruptBlock: boolean): Buffer[] {
  const defs = [
    resolveChannelDef({ name: 'SCALAR', type: 'float64', shape: [1] }),
    resolveChannelDef({ name: 'IMG', type: 'uint16', shape: imgShape, compression: 'bitshuffle_lz4' }),
  ];
  const img = new Uint16Array(128).map((_, i) => i + pulseId);
  const frames = encodeMessage({
    pulseId,
    globalTimestamp: { sec: 1_700_000_000, ns: 0 },
    channels: [
      { def: defs[0]!, value: pulseId * 1.5 },
      { def: resolveChannelDef({ name: 'IMG', type: 'uint16', shape: [16, 8], compression: 'bitshuffle_lz4' }), value: { shape: [8, 16], data: img } },
    ],
  });
  // The data header declares imgShape (the value frame stays the 16x8 image).
  const dh = JSON.parse(frames[1]!.toString('utf8')) as { channels: { shape: number[] }[] };
  dh.channels[1]!.shape = imgShape;
  frames[1] = Buffer.from(JSON.stringify(dh));
  const main = JSON.parse(frames[0]!.toString('utf8')) as Record<string, unknown>;
  main['hash'] = createHash('md5').update(frames[1]).digest('hex');
  frames[0] = Buffer.from(JSON.stringify(main));
  if (corruptBlock) {
    const f = Buffer.from(frames[4]!);
    // Keep the 12-byte header (declared size correct), scramble the LZ4 block.
    for (let i = 16; i < f.length; i++) f[i] = (f[i]! * 31 + 7) & 0xff;
    frames[4] = f;
  }
  return frames;
}

test('absurd but well-formed shapes ([2^40], [2^30]) for one message: the acquisition goes on, good rows before and after are kept', async () => {
  const src = await newSender();
  const path = newPath();
  const w = await startWriter(src.endpoint, path);
  await w.call('POST', '/parameters', JSON.stringify(PARAMETERS));
  await w.call('PUT', '/start_pulse_id/0');
  await w.call('PUT', '/stop_pulse_id/5');
  await src.send(hazardMessage(0, [16, 8], false));
  await src.send(hazardMessage(1, [2 ** 40], false));
  await src.send(hazardMessage(2, [2 ** 30], false));
  for (let p = 3; p <= 5; p++) await src.send(hazardMessage(p, [16, 8], false));
  const code = await Promise.race([w.proc.exited, new Promise((r) => setTimeout(() => r('timeout'), 15_000))]);
  assert.equal(code, 0, w.proc.stderr().slice(-1500));
  const f = await h5py<{ ids: number[]; keys: string[] }>(path, 'f = h5py.File(path, "r"); result = {"ids": f["/data/SCALAR/pulse_id"][:], "keys": sorted(f["/data/IMG"].keys())}');
  assert.deepEqual(f.ids, [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(f.keys, ['data', 'is_data_present', 'pulse_id'], 'no extra data(1)/data(2) datasets from values that never fitted their definition');
});

test('a corrupt LZ4 block inside a bitshuffle value (declared size right) is detected, not stored unreadable', async () => {
  const src = await newSender();
  const path = newPath();
  const w = await startWriter(src.endpoint, path);
  await w.call('POST', '/parameters', JSON.stringify(PARAMETERS));
  await w.call('PUT', '/start_pulse_id/0');
  await w.call('PUT', '/stop_pulse_id/2');
  await src.send(hazardMessage(0, [16, 8], false));
  await src.send(hazardMessage(1, [16, 8], true));
  await src.send(hazardMessage(2, [16, 8], false));
  assert.equal(await w.proc.exited, 0);
  const f = await h5py<{ readable: boolean | string; present: number[] }>(
    path,
    `
f = h5py.File(path, "r")
try:
    f["/data/IMG/data"][:]
    readable = True
except Exception as e:
    readable = str(e)
result = {"readable": readable, "present": f["/data/IMG/is_data_present"][:]}
`,
  );
  assert.equal(f.readable, true, 'the IMG dataset reads back in h5py');
  assert.deepEqual(f.present, [1, 0, 1], 'the corrupt value is recorded as missing');
});
