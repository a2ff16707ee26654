// Reliability: seeded bad-input fuzz against the real buffer and writer processes.
//
// One planned sequence (test/helpers/mutate.ts; seed SF_BSREAD_FUZZ_SEED, count
// SF_BSREAD_FUZZ_COUNT, default 3000) of good and mutated messages is sent over two real PUSH
// sockets:  sender A → writer A (plain source)  and  sender B → buffer → writer B (replay).
// Both writers acquire the range [first row .. last row] of the plan. Pass:
//   - no process crashes; RSS growth between 20 % and the end of the run stays bounded;
//   - the buffer counts exactly the frame-0 faults by kind (it reads only frame 0) and not_data;
//   - writer A counts every frame-0 and message-level fault by kind; writer B (behind the
//     buffer) counts exactly the message-level faults; both count every channel-level fault by
//     kind in channel_errors;
//   - both files hold exactly one row per pulse id of the range, the faulty channel of a channel
//     fault marked missing and every other value as sent (h5py);
//   - row k of EVERY channel's pulse_id is the k-th pulse of the range, whether that channel had
//     a value, a malformed value or none (a reader joins channels by pulse_id);
//   - later copies of written pulse ids (repeat layer) are counted and change no row.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { rssKiB } from '../../src/demo/process-stats.js';
import { StreamSender } from '../helpers/stream-sender.js';
import { h5py } from '../helpers/h5py.js';
import { buildFrames, checkKinds, expectationOf, FUZZ_CHANNELS, fuzzPlan, type FuzzExpectation } from '../helpers/mutate.js';
import { freePort } from '../helpers/net.js';
import { stopAllPrograms } from '../helpers/process.js';
import { waitFor } from '../helpers/wait.js';
import { bufferStatus, startBuffer } from '../unit/buffer/helpers.js';
import { PARAMETERS, startWriter, type Writer } from './writer-helpers.js';

const COUNT = Number(process.env['SF_BSREAD_FUZZ_COUNT'] ?? 3000);
const SEED = Number(process.env['SF_BSREAD_FUZZ_SEED'] ?? 20240501);
const FIRST_PULSE = 1_000_000;
/** RSS growth allowed between the 20 % sample and the end (bounded, not a leak per message). */
const RSS_GROWTH_LIMIT_KB = 96 * 1024;

const dir = mkdtempSync(join(tmpdir(), 'reliability-fuzz-'));
const senders: StreamSender[] = [];
after(async () => {
  for (const s of senders) s.close();
  await stopAllPrograms();
  rmSync(dir, { recursive: true, force: true });
});

interface Stats {
  messages_received: number;
  messages_written: number;
  discarded_before_start: number;
  discarded_repeated: number;
  control_messages: number;
  malformed: Record<string, number>;
  channel_errors: Record<string, number>;
}
const stats = async (w: Writer): Promise<Stats> => (await w.call('GET', '/statistics'))['statistics'] as Stats;

interface FileView {
  rows: number;
  /** Per channel, its pulse_id dataset. */
  pulse_ids: Record<string, number[]>;
  present: Record<string, number[]>;
  scalar: number[];
  pair: number[][];
  text_len: number[];
  text_ok: number;
  lz: number[][];
  img_ok: number | string;
  attrs: Record<string, unknown>;
}

const READ = `
f = h5py.File(path, "r")
chs = ${JSON.stringify(FUZZ_CHANNELS)}
pid_of = {c: f["/data/%s/pulse_id" % c][:] for c in chs}
# The pulse each row must hold: the range is consecutive from FIRST_PULSE.
pids = np.arange(len(pid_of["SCALAR"])) + ${FIRST_PULSE}
present = {c: f["/data/%s/is_data_present" % c][:] for c in chs}
text = [s.decode() if isinstance(s, bytes) else s for s in f["/data/TEXT/data"][:]]
text_ok = sum(1 for i, s in enumerate(text) if ((s == "p%d" % pids[i] or len(s) > 1000) if present["TEXT"][i] else s == ""))
img_ok = 0
try:
    img = f["/data/IMG/data"][:]
    for i in range(len(pids)):
        if present["IMG"][i] and np.array_equal(img[i].ravel(), (np.arange(128) + pids[i]) & 0xffff):
            img_ok += 1
except Exception as e:
    img_ok = "IMG unreadable: %s" % e
result = {
  "rows": int(len(pids)),
  "pulse_ids": pid_of,
  "present": present,
  "scalar": f["/data/SCALAR/data"][:, 0],
  "pair": f["/data/PAIR/data"][:],
  "text_len": [len(s) for s in text],
  "text_ok": text_ok,
  "lz": f["/data/LZ/data"][:],
  "img_ok": img_ok,
  "attrs": {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in f.attrs.items()},
}
`;

function checkFile(name: string, f: FileView, e: FuzzExpectation): void {
  assert.equal(f.rows, e.rows, `${name}: rows`);
  const problems: string[] = [];
  let imgPresent = 0;
  for (const c of FUZZ_CHANNELS) assert.equal(f.pulse_ids[c]!.length, e.rows, `${name}: ${c}/pulse_id rows`);
  for (let i = 0; i < f.rows; i++) {
    const p = e.firstPulseId + i;
    const wrong = FUZZ_CHANNELS.filter((c) => f.pulse_ids[c]![i] !== p);
    if (wrong.length > 0) {
      problems.push(`row ${i}: pulse_id ${wrong.map((c) => `${c}=${f.pulse_ids[c]![i]}`).join(' ')}, expected ${p} in every channel`);
      if (problems.length > 10) break;
      continue;
    }
    const missing = e.missing.get(p);
    for (const c of FUZZ_CHANNELS) {
      const want = c === missing ? 0 : 1;
      if (f.present[c]![i] !== want) problems.push(`pulse ${p}: ${c} present=${f.present[c]![i]}, expected ${want}`);
    }
    if (missing !== 'IMG') imgPresent++;
    if (missing !== 'SCALAR' && f.scalar[i] !== p * 1.5) problems.push(`pulse ${p}: SCALAR ${f.scalar[i]}`);
    if (missing !== 'PAIR' && (f.pair[i]![0] !== p || f.pair[i]![1] !== -p)) problems.push(`pulse ${p}: PAIR ${JSON.stringify(f.pair[i])}`);
    if (missing !== 'LZ' && f.lz[i]!.some((v, k) => v !== p + k)) problems.push(`pulse ${p}: LZ ${JSON.stringify(f.lz[i])}`);
    const tl = missing === 'TEXT' ? 0 : (e.textLength.get(p) ?? `p${p}`.length);
    if (f.text_len[i] !== tl) problems.push(`pulse ${p}: TEXT length ${f.text_len[i]}, expected ${tl}`);
    if (problems.length > 10) break;
  }
  assert.deepEqual(problems, [], `${name}: file content`);
  assert.equal(f.text_ok, e.rows, `${name}: every TEXT value as sent`);
  assert.equal(f.img_ok, imgPresent, `${name}: every present IMG value bit-exact`);
  assert.equal(f.attrs['missing_pulse_ids'], 0, `${name}: missing_pulse_ids attribute`);
  assert.equal(f.attrs['rows_written'], e.rows, `${name}: rows_written attribute`);
}

test(
  `fuzz: ${COUNT} messages (seed ${SEED}) into a buffer and two writers: nothing crashes, every bad message counted by kind, every good row in the files`,
  { timeout: Math.max(180_000, COUNT * 20) },
  async () => {
    const plan = fuzzPlan(SEED, COUNT, FIRST_PULSE);
    const e = expectationOf(plan);
    const last = plan[plan.length - 1]!;
    assert.equal(last.mutation, null);

    const srcA = await StreamSender.bind({ address: 'tcp://127.0.0.1:0', mode: 'push', highWaterMark: 1000 });
    const srcB = await StreamSender.bind({ address: 'tcp://127.0.0.1:0', mode: 'push', highWaterMark: 1000 });
    senders.push(srcA, srcB);
    const out = await freePort();
    const statusPort = await freePort();
    const buffer = await startBuffer([srcB.endpoint, '-o', String(out), '-b', '5000', '--status_port', String(statusPort), '--analyzer']);
    const pathA = join(dir, 'direct.h5');
    const pathB = join(dir, 'via-buffer.h5');
    const wA = await startWriter(srcA.endpoint, pathA);
    const wB = await startWriter(`tcp://127.0.0.1:${out}`, pathB);
    for (const w of [wA, wB]) {
      assert.equal((await w.call('POST', '/parameters', JSON.stringify(PARAMETERS))).state, 'ok');
      assert.equal((await w.call('PUT', `/stop_pulse_id/${e.lastPulseId}`)).state, 'ok');
      const r = await w.call('PUT', `/start_pulse_id/${e.firstPulseId}`);
      assert.equal(r.state, 'ok', r.status);
    }
    const stB0 = await stats(wB);
    assert.equal((await wB.call('GET', '/statistics'))['statistics'] && stB0.messages_received, 0);

    // Messages writer B can get: everything that passes the buffer and is in the replayed range.
    const reachesB = (i: number): boolean => {
      const m = plan[i]!.mutation;
      return m === null || m.layer === 'message' || m.layer === 'channel' || m.layer === 'good' || m.layer === 'repeat';
    };
    const pids = { buffer: buffer.child.pid!, writerA: wA.proc.child.pid!, writerB: wB.proc.child.pid! };
    const rss: Record<string, { at20: number; end: number }> = {};
    let toB = 0;
    const started = Date.now();
    for (let i = 0; i < plan.length - 1; i++) {
      const frames = buildFrames(plan[i]!);
      await srcA.send(frames);
      await srcB.send(frames);
      if (reachesB(i)) toB++;
      if (i % 500 === 499) {
        // Bounded lag behind the buffer, so its per-consumer queue (-b 5000) never overflows.
        const want = toB - 1500;
        await waitFor(`writer B to keep up (${want})`, async () => (await stats(wB)).messages_received >= want, 60_000, 50);
      }
      if (i === Math.floor(plan.length / 5)) for (const [k, pid] of Object.entries(pids)) rss[k] = { at20: rssKiB(pid), end: NaN };
    }
    const sentButLast = plan.length - 1;
    await waitFor('buffer took everything', async () => (await bufferStatus(statusPort)).input.received === sentButLast, 60_000, 50);
    await waitFor('writer A received everything', async () => (await stats(wA)).messages_received === sentButLast, 60_000, 50);
    await waitFor('writer B received everything', async () => (await stats(wB)).messages_received === toB, 60_000, 50);
    for (const [k, pid] of Object.entries(pids)) rss[k]!.end = rssKiB(pid);
    const seconds = (Date.now() - started) / 1000;

    const bs = (await bufferStatus(statusPort)) as unknown as { input: { malformed: Record<string, number>; not_data: number; received: number } };
    const sA = await stats(wA);
    const sB = await stats(wB);
    const problems: string[] = [];
    const bufBounds = { total: Object.values(e.bufferMalformed).reduce((a, b) => a + b, 0), min: e.bufferMalformed, max: e.bufferMalformed };
    problems.push(...checkKinds('buffer malformed', bs.input.malformed, bufBounds));
    if (bs.input.not_data !== e.bufferNotData) problems.push(`buffer not_data ${bs.input.not_data}, expected ${e.bufferNotData}`);
    problems.push(...checkKinds('writer A malformed', sA.malformed, e.writerMalformedDirect));
    problems.push(...checkKinds('writer B malformed', sB.malformed, e.writerMalformedViaBuffer));
    problems.push(...checkKinds('writer A channel_errors', sA.channel_errors, e.channelErrors));
    problems.push(...checkKinds('writer B channel_errors', sB.channel_errors, e.channelErrors));
    if (sA.control_messages !== e.layers.control) problems.push(`writer A control_messages ${sA.control_messages}, expected ${e.layers.control}`);
    for (const [w, st] of [
      ['A', sA],
      ['B', sB],
    ] as const) {
      if (st.discarded_repeated !== e.layers.repeat) problems.push(`writer ${w} discarded_repeated ${st.discarded_repeated}, expected ${e.layers.repeat}`);
    }
    if (sA.discarded_before_start !== e.layers.early) problems.push(`writer A discarded_before_start ${sA.discarded_before_start}, expected ${e.layers.early}`);
    if (sA.messages_written !== e.rows - 1 || sB.messages_written !== e.rows - 1)
      problems.push(`written A ${sA.messages_written} B ${sB.messages_written}, expected ${e.rows - 1}`);
    for (const [k, r] of Object.entries(rss)) if (!(r.end - r.at20 <= RSS_GROWTH_LIMIT_KB)) problems.push(`${k} RSS grew from ${r.at20} kB to ${r.end} kB`);
    const report = {
      seed: SEED,
      sent: e.sent,
      seconds,
      layers: e.layers,
      rows: e.rows,
      buffer: bs.input.malformed,
      writerA: { malformed: sA.malformed, channel_errors: sA.channel_errors },
      writerB: { malformed: sB.malformed, channel_errors: sB.channel_errors },
      rss_kb: rss,
    };
    console.log(`# fuzz result ${JSON.stringify(report)}`);
    assert.deepEqual(problems, [], JSON.stringify(report));

    // The last good message completes both ranges: single-use writers exit 0.
    const lastFrames = buildFrames(last);
    await srcA.send(lastFrames);
    await srcB.send(lastFrames);
    assert.equal(await wA.proc.exited, 0, wA.proc.stderr().slice(-2000));
    assert.equal(await wB.proc.exited, 0, wB.proc.stderr().slice(-2000));
    assert.equal(buffer.child.exitCode, null, 'the buffer is still running');
    for (const [name, path] of [
      ['writer A (direct)', pathA],
      ['writer B (via buffer)', pathB],
    ] as const) {
      checkFile(name, await h5py<FileView>(path, READ), e);
    }
    assert.equal(await buffer.stop('SIGTERM'), 0);
  },
);
