// Every row of every channel carries its own pulse id, through the real writer program: a
// malformed value (here a bitshuffle_lz4 header that claims 2^40 bytes, as in a message damaged
// on the way) makes that channel's row "not present" and nothing else; later copies of pulses
// already written are counted and never replace or shift a row. Read back with h5py.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { encodeMessage, prepareDataHeader, resolveChannelDef } from '../../src/bsread/index.js';
import type { StreamSender } from '../helpers/stream-sender.js';
import { h5py } from '../helpers/h5py.js';
import { stopAllPrograms } from '../helpers/process.js';
import { waitFor } from '../helpers/wait.js';
import { sender, startWriter } from './writer-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'writer-pulse-ids-'));
const senders: StreamSender[] = [];
after(async () => {
  for (const s of senders) s.close();
  await stopAllPrograms();
  rmSync(dir, { recursive: true, force: true });
});

// The channels of the reproduction, all compressed as PSI's sender does with bitshuffle_lz4.
const DEFS = [
  resolveChannelDef({ name: 'F:A', type: 'float64', shape: [1], compression: 'bitshuffle_lz4' }),
  resolveChannelDef({ name: 'F:WF', type: 'float32', shape: [100], compression: 'bitshuffle_lz4' }),
  resolveChannelDef({ name: 'F:S', type: 'string', shape: [1], compression: 'bitshuffle_lz4' }),
];
const NAMES = DEFS.map((d) => d.name);
const header = prepareDataHeader(DEFS);

/** Pulse p: F:A = p + 0.5 (or `a`), F:WF = [p, p+1, ...], F:S = "s<p>" (or `s`). */
function pulse(p: number, a = p + 0.5, s = `s${p}`): Buffer[] {
  return encodeMessage({
    pulseId: p,
    globalTimestamp: { sec: 1_700_000_000 + p, ns: 0 },
    header,
    channels: [
      { def: DEFS[0]!, value: a },
      { def: DEFS[1]!, value: Float32Array.from({ length: 100 }, (_, k) => p + k) },
      { def: DEFS[2]!, value: s },
    ],
  });
}

/** The message with channel `c`'s bitshuffle header replaced by one that claims 2^40 bytes. */
function lyingSize(frames: Buffer[], c: number): Buffer[] {
  const out = [...frames];
  const v = frames[2 + 2 * c]!;
  out[2 + 2 * c] = Buffer.concat([Buffer.from('000001000000000000002000', 'hex'), v.subarray(12)]);
  return out;
}

interface Stats {
  messages_received: number;
  discarded_repeated: number;
  channel_errors: Record<string, number>;
}

interface View {
  pulse_id: Record<string, number[]>;
  present: Record<string, number[]>;
  a: number[];
  s: string[];
}

const READ = `
f = h5py.File(path, "r")
chs = ${JSON.stringify(NAMES)}
result = {
  "pulse_id": {c: f["data"][c]["pulse_id"][:] for c in chs},
  "present": {c: f["data"][c]["is_data_present"][:] for c in chs},
  "a": f["data"]["F:A"]["data"][:, 0],
  "s": [x.decode() if isinstance(x, bytes) else x for x in f["data"]["F:S"]["data"][:]],
}
`;

for (const [c, name] of NAMES.entries()) {
  test(`range 1..3, pulse 2's ${name} claims 2^40 bytes: every channel's pulse_id is [1, 2, 3]; copies of written pulses change nothing`, async () => {
    const src = await sender();
    senders.push(src);
    const path = join(dir, `lying-${c}.h5`);
    const w = await startWriter(src.endpoint, path);
    assert.equal((await w.call('PUT', '/stop_pulse_id/3')).state, 'ok');
    assert.equal((await w.call('PUT', '/start_pulse_id/1')).state, 'ok');
    await src.send(pulse(1));
    await src.send(lyingSize(pulse(2), c));
    await src.send(pulse(2, -1, 'copy')); // a good later copy of pulse 2 must not replace its row
    await src.send(lyingSize(pulse(1, -1, 'copy'), c)); // nor a damaged copy of pulse 1
    const stats = async (): Promise<Stats> => (await w.call('GET', '/statistics'))['statistics'] as Stats;
    await waitFor('4 messages received', async () => (await stats()).messages_received === 4);
    const st = await stats();
    assert.equal(st.discarded_repeated, 2, 'both copies are counted as repeated');
    assert.equal(
      Object.values(st.channel_errors).reduce((x, y) => x + y, 0),
      1,
      `one malformed value: ${JSON.stringify(st.channel_errors)}`,
    );
    await src.send(pulse(3));
    void src.send(pulse(4)).catch(() => {});
    assert.equal(await w.proc.exited, 0, w.proc.stderr());

    const f = await h5py<View>(path, READ);
    for (const n of NAMES) {
      assert.deepEqual(f.pulse_id[n], [1, 2, 3], `${n}/pulse_id`);
      assert.deepEqual(f.present[n], n === name ? [1, 0, 1] : [1, 1, 1], `${n}/is_data_present`);
    }
    assert.deepEqual(f.a, [1.5, name === 'F:A' ? 0 : 2.5, 3.5]);
    assert.deepEqual(f.s, ['s1', name === 'F:S' ? '' : 's2', 's3']);
  });
}
