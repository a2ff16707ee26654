// `bsread h5` as a user runs it: a real child process fed by the test's own sender, by a
// `bsread simulate` child, or by the embedded dispatcher; every file is read back with h5py.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { encodeMessage } from '../../src/bsread/index.js';
import type { ChannelRequest } from '../../src/dispatcher/channels-file.js';
import { buildProfile, loadProfileFile, nthPulseId, predictMessage, selectChannels, type SimProfile } from '../../src/sim/index.js';
import { StreamSender } from '../helpers/stream-sender.js';
import { h5py } from '../helpers/h5py.js';
import { freePort } from '../helpers/net.js';
import { ROOT, runProgram, startProgram, stopAllPrograms } from '../helpers/process.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { withDispatcher } from '../helpers/sim-dispatcher.js';

after(stopAllPrograms);

const dir = mkdtempSync(join(tmpdir(), 'bsread-h5-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const newPath = (): string => join(dir, `out-${++files}.h5`);

const START = 20_000_000_000;
const ALL_TYPES = join(ROOT, 'examples', 'profiles', 'all-types.yaml');

/** The k-th message of the test's own stream (pulse ids with a gap of 3 after the 20th). */
function pulseOf(k: number): number {
  return START + k + (k >= 20 ? 3 : 0);
}

function message(p: number): Buffer[] {
  return encodeMessage({
    pulseId: p,
    globalTimestamp: { sec: 1_700_000_000 + (p % 1000), ns: 250 },
    channels: [
      { def: { name: 'SARFE10-PBPG050:HAMP-INTENSITY-CAL', type: 'float64' }, value: (p % 1000) / 4 },
      { def: { name: 'SINEG01-DBPM340:WF', type: 'int16', shape: [3], encoding: 'big', compression: 'bitshuffle_lz4' }, value: new Int16Array([-1, p % 1000, 7]) },
      { def: { name: 'CAM:IMG', type: 'uint8', shape: [3, 2], compression: 'lz4' }, value: { shape: [2, 3], data: new Uint8Array([1, 2, 3, 4, 5, p % 256]) } },
      { def: { name: 'TXT', type: 'string' }, value: `pulse ${p} µ` },
      { def: { name: 'GONE', type: 'int32' }, value: null },
      { def: { name: 'EVEN', type: 'uint32' }, value: p % 2 === 0 ? p % 100_000 : null },
    ],
  });
}

interface ChannelReadBack {
  pulse_id: number[];
  present: number[];
  data: unknown[] | null;
  dtype: string | null;
  shape: number[] | null;
}

/** Every channel group under /data with its datasets, plus /general and the root attributes. */
async function readBack(path: string): Promise<{ channels: Record<string, ChannelReadBack>; general: Record<string, string>; attrs: Record<string, unknown> }> {
  return h5py(
    path,
    `
f = h5py.File(path, 'r')
channels = {}
def visit(name, obj):
    if isinstance(obj, h5py.Group) and 'pulse_id' in obj:
        d = obj.get('data')
        channels[name] = {
            'pulse_id': obj['pulse_id'][()], 'present': obj['is_data_present'][()],
            'data': None if d is None else [x.decode() if isinstance(x, bytes) else x for x in d[()].tolist()],
            'dtype': None if d is None else str(d.dtype), 'shape': None if d is None else list(d.shape)}
f['data'].visititems(visit)
general = {k: f['general'][k][()].decode() for k in f['general']} if 'general' in f else {}
result = {'channels': channels, 'general': general, 'attrs': {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}}
`,
  );
}

test('bsread h5 -s -n 50: 50 messages in the SwissFEL layout, malformed ones skipped', async () => {
  const sender = await StreamSender.bind({ address: 'tcp://127.0.0.1:0', highWaterMark: 200 });
  const path = newPath();
  try {
    const h5 = startProgram('bsread', ['h5', path, '-s', sender.endpoint, '-n', '50']);
    // PUSH waits for the receiver to connect, so nothing is lost before it is up.
    for (let k = 0; k < 50; k++) {
      if (k === 10) await sender.send([Buffer.from('{not json'), Buffer.alloc(0)]);
      if (k === 30) await sender.send(message(pulseOf(k)).slice(0, -1)); // a frame short
      await sender.send(message(pulseOf(k)));
    }
    // More than asked for: not written (not awaited, the receiver may be gone already; one send
    // at a time, as the socket allows, and a send still waiting when the sender closes is fine).
    void (async () => {
      for (let k = 50; k < 55; k++) await sender.send(message(pulseOf(k)));
    })().catch(() => {});
    assert.equal(await h5.exited, 0, h5.stderr());
    const pulses = Array.from({ length: 50 }, (_, k) => pulseOf(k));
    assert.match(h5.stderr(), new RegExp(`bsread h5: 50 messages written to ${path}, pulse ids ${pulses[0]}\\.\\.${pulses[49]}; 2 malformed messages skipped`));

    const f = await readBack(path);
    assert.deepEqual(Object.keys(f.channels).sort(), ['CAM:IMG', 'EVEN', 'GONE', 'SARFE10-PBPG050:HAMP-INTENSITY-CAL', 'SINEG01-DBPM340:WF', 'TXT']);
    for (const [name, c] of Object.entries(f.channels)) assert.deepEqual(c.pulse_id, pulses, name);

    const cal = f.channels['SARFE10-PBPG050:HAMP-INTENSITY-CAL']!;
    assert.equal(cal.dtype, 'float64');
    assert.deepEqual(cal.shape, [50, 1]);
    assert.deepEqual(
      cal.data,
      pulses.map((p) => [(p % 1000) / 4]),
    );
    assert.deepEqual(cal.present, Array<number>(50).fill(1));

    const wf = f.channels['SINEG01-DBPM340:WF']!; // big-endian and bitshuffle_lz4 on the wire
    assert.equal(wf.dtype, 'int16');
    assert.deepEqual(wf.shape, [50, 3]);
    assert.deepEqual(
      wf.data,
      pulses.map((p) => [-1, p % 1000, 7]),
    );

    const img = f.channels['CAM:IMG']!; // bsread shape [3, 2] is [2, 3] in C order
    assert.equal(img.dtype, 'uint8');
    assert.deepEqual(img.shape, [50, 2, 3]);
    assert.deepEqual(img.data![7], [
      [1, 2, 3],
      [4, 5, pulses[7]! % 256],
    ]);

    const txt = f.channels['TXT']!;
    assert.deepEqual(
      txt.data,
      pulses.map((p) => `pulse ${p} µ`),
    );

    // Never a value: no data dataset, only pulse ids and is_data_present 0 (as the writer).
    assert.equal(f.channels['GONE']!.data, null);
    assert.deepEqual(f.channels['GONE']!.present, Array<number>(50).fill(0));

    const even = f.channels['EVEN']!;
    assert.equal(even.dtype, 'uint32');
    assert.deepEqual(
      even.present,
      pulses.map((p) => (p % 2 === 0 ? 1 : 0)),
    );
    assert.deepEqual(
      even.data!.filter((_, k) => pulses[k]! % 2 === 0),
      pulses.filter((p) => p % 2 === 0).map((p) => [p % 100_000]),
    );

    assert.equal(f.general['process'], 'bsread h5');
    assert.equal(f.general['user'], process.env['USER'] || userInfo().username);
    assert.ok(Math.abs(Date.parse(f.general['created']!) - Date.now()) < 120_000, f.general['created']);
    assert.equal(f.general['instrument'], 'not given');
    assert.equal(f.attrs['rows_written'], 50);
    assert.equal(f.attrs['first_pulse_id'], pulses[0]);
    assert.equal(f.attrs['last_pulse_id'], pulses[49]);
    assert.equal(f.attrs['missing_pulse_ids'], 3);
    assert.equal(f.attrs['malformed_messages'], 2);
    assert.equal(f.attrs['writer'], 'bsread h5');
    assert.equal(f.attrs['source'], sender.endpoint);
  } finally {
    sender.close();
  }
});

test('bsread h5 -s with channel names writes only those channels and names the ones never seen', async () => {
  const sender = await StreamSender.bind({ address: 'tcp://127.0.0.1:0', highWaterMark: 100 });
  const path = newPath();
  try {
    const h5 = startProgram('bsread', ['h5', path, 'TXT', 'EVEN', 'NOT:THERE', '-s', sender.endpoint, '-n', '4']);
    for (let k = 0; k < 4; k++) await sender.send(message(pulseOf(k)));
    assert.equal(await h5.exited, 0, h5.stderr());
    assert.match(h5.stderr(), /4 messages written .*; channels never seen: NOT:THERE/);
    const f = await readBack(path);
    assert.deepEqual(Object.keys(f.channels).sort(), ['EVEN', 'TXT']);
    assert.deepEqual(
      f.channels['TXT']!.data,
      [0, 1, 2, 3].map((k) => `pulse ${pulseOf(k)} µ`),
    );
    assert.deepEqual(
      f.channels['EVEN']!.present,
      [0, 1, 2, 3].map((k) => (pulseOf(k) % 2 === 0 ? 1 : 0)),
    );
  } finally {
    sender.close();
  }
});

test('SIGINT to bsread h5 without -n (bsread simulate, all types): exit 0, every received message in the file', async () => {
  const port = await freePort();
  const address = `tcp://127.0.0.1:${port}`;
  const path = newPath();
  const h5 = startProgram('bsread', ['h5', path, '-s', address, '--log_level', 'INFO']);
  const sim = startProgram('bsread', ['simulate', '-a', address, '-p', ALL_TYPES, '--start_pulse_id', String(START), '--rate', '100']);
  try {
    // Past the type change (pulses 10 and 15) and a pulse-id gap (after 50 pulses): ~1.2 s at 100 Hz.
    await waitFor('bsread h5 to connect', () => h5.stderr().includes('"msg":"writing"'));
    await waitFor('bsread simulate to send', () => sim.stderr().includes('sending on'));
    await sleep(1200);
    assert.equal(await h5.stop('SIGINT', 10_000), 0, h5.stderr());
  } finally {
    await sim.stop('SIGTERM');
  }
  const m = /bsread h5: (\d+) messages written to (\S+), pulse ids (\d+)\.\.(\d+)\n/.exec(h5.stderr());
  assert.ok(m !== null, h5.stderr());
  const rows = Number(m[1]);
  assert.equal(m[2], path);
  assert.ok(rows > 55, `only ${rows} rows`); // past the type change and the first pulse-id gap

  const profile: SimProfile = buildProfile(loadProfileFile(ALL_TYPES), ALL_TYPES);
  const f = await readBack(path);
  assert.deepEqual(Object.keys(f.channels).sort(), profile.channels.map((c) => c.name).sort());
  // PUSH waits for the receiver and nothing is dropped: the file holds the first `rows` pulses
  // the simulator sent, gap included, and every channel has exactly `rows` rows.
  const pulses = f.channels['SIM-ALL:FLOAT64']!.pulse_id;
  assert.deepEqual(
    pulses,
    Array.from({ length: rows }, (_, k) => nthPulseId(profile, START, k)),
  );
  assert.equal(pulses[rows - 1], Number(m[4]));
  for (const [name, c] of Object.entries(f.channels)) {
    assert.deepEqual(c.pulse_id, pulses, name);
    assert.equal(c.present.length, rows, name);
    if (c.shape !== null) assert.equal(c.shape[0], rows, name);
  }
  // Values and presence against the simulator's prediction, row by row.
  for (let k = 0; k < rows; k++) {
    const predicted = predictMessage(profile, pulses[k]!).channels;
    for (const name of ['SIM-ALL:FLOAT64', 'SIM-ALL:INT32', 'SIM-10HZ:X1']) {
      const v = predicted[name]!.value;
      assert.equal(f.channels[name]!.present[k], v === null ? 0 : 1, `${name} at ${pulses[k]}`);
      if (v !== null) assert.deepEqual(f.channels[name]!.data![k], [v], `${name} at ${pulses[k]}`);
    }
    const wf = predicted['SIM-WF:INT16']!.value as unknown as { values: number[] };
    assert.deepEqual(f.channels['SIM-WF:INT16']!.data![k], wf.values, `SIM-WF:INT16 at ${pulses[k]}`);
  }
  assert.equal(f.attrs['rows_written'], rows);
  assert.equal(f.attrs['end_reason'], 'signal SIGINT');
  // SIM-CHANGE:TYPE: int64 scalar, int64[3] from pulse START + 10, string from START + 15: the
  // writer's earlier incarnations data(1) and data(2), cut at the row where each was replaced.
  const change = await h5py<Record<string, [string, number[]]>>(
    path,
    "g = h5py.File(path, 'r')['data/SIM-CHANGE:TYPE']\nresult = {k: [str(g[k].dtype), list(g[k].shape)] for k in g if k.startswith('data')}",
  );
  const at = (p: number): number => pulses.findIndex((q) => q >= p);
  assert.deepEqual(change, { 'data(1)': ['int64', [at(START + 10), 1]], 'data(2)': ['int64', [at(START + 15), 3]], data: ['object', [rows]] });
});

test('SIGTERM to bsread h5 -s: exit 0, the file holds exactly the messages sent before it', async () => {
  const sender = await StreamSender.bind({ address: 'tcp://127.0.0.1:0', highWaterMark: 100 });
  const path = newPath();
  try {
    const h5 = startProgram('bsread', ['h5', path, '-s', sender.endpoint]);
    for (let k = 0; k < 5; k++) await sender.send(message(pulseOf(k)));
    await sleep(700); // five small messages are received and written long before that
    assert.equal(await h5.stop('SIGTERM', 10_000), 0, h5.stderr());
    assert.match(h5.stderr(), new RegExp(`bsread h5: 5 messages written to ${path}, pulse ids ${pulseOf(0)}\\.\\.${pulseOf(4)}\n`));
    const f = await readBack(path);
    assert.deepEqual(f.channels['TXT']!.pulse_id, [0, 1, 2, 3, 4].map(pulseOf));
    assert.equal(f.attrs['end_reason'], 'signal SIGTERM');
  } finally {
    sender.close();
  }
});

test('bsread h5 -s -m sub: a PUB source', async () => {
  const sender = await StreamSender.bind({ address: 'tcp://127.0.0.1:0', mode: 'pub', highWaterMark: 100 });
  const path = newPath();
  try {
    const h5 = startProgram('bsread', ['h5', path, '-s', sender.endpoint, '-m', 'sub', '-n', '10']);
    let ended = false;
    void h5.exited.then(() => (ended = true));
    // PUB drops what is sent before the subscription: keep sending until the tool has its 10.
    for (let k = 0; !ended && k < 2000; k++) {
      await sender.send(message(pulseOf(k)));
      await sleep(5);
    }
    assert.equal(await h5.exited, 0, h5.stderr());
    const f = await readBack(path);
    const pulses = f.channels['TXT']!.pulse_id;
    assert.equal(pulses.length, 10);
    for (let k = 1; k < 10; k++) assert.ok(pulses[k]! > pulses[k - 1]!, `pulse ids not increasing: ${pulses.join(', ')}`);
    assert.deepEqual(
      f.channels['TXT']!.data,
      pulses.map((p) => `pulse ${p} µ`),
    );
  } finally {
    sender.close();
  }
});

const streamsOf = async (base: string): Promise<unknown[]> => (await (await fetch(`${base}/streams`)).json()) as unknown[];

test('bsread h5 CHANNEL... without -s: a dispatcher stream of those channels, deleted after -n messages', () =>
  withDispatcher(async (base, d) => {
    const names = ['SINEG01-DBPM340:X1', 'SATMA01-DBLM070:STATUS'];
    const path = newPath();
    const r = await runProgram('bsread', ['h5', path, ...names, '--base_url', base, '-n', '20']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /bsread h5: 20 messages written to /);
    assert.deepEqual(await streamsOf(base), []);
    const expected = selectChannels(
      d.catalogue,
      names.map((name): ChannelRequest => ({ name })),
    );
    const f = await readBack(path);
    assert.deepEqual(Object.keys(f.channels).sort(), [...names].sort());
    const pulses = f.channels[names[0]!]!.pulse_id;
    assert.equal(pulses.length, 20);
    for (let k = 0; k < 20; k++) {
      const predicted = predictMessage(expected, pulses[k]!).channels;
      for (const name of names) {
        const v = predicted[name]!.value;
        assert.equal(f.channels[name]!.present[k], v === null ? 0 : 1, `${name} at ${pulses[k]}`);
        // A scalar is a row of one element; a string a row of its own (as the writer stores them).
        if (v !== null) assert.deepEqual(f.channels[name]!.data![k], typeof v === 'string' ? v : [v], `${name} at ${pulses[k]}`);
      }
    }
  }));

test('bsread h5 with a dispatcher stream: SIGINT closes the file and deletes the stream; unknown channels: status 1, no file', () =>
  withDispatcher(async (base) => {
    const path = newPath();
    const h5 = startProgram('bsread', ['h5', path, 'SINEG01-DBPM340:X1', '--base_url', base]);
    await waitFor('the stream to be requested', async () => (await streamsOf(base)).length === 1);
    await sleep(500);
    assert.equal(await h5.stop('SIGINT', 10_000), 0, h5.stderr());
    assert.deepEqual(await streamsOf(base), []);
    const m = /bsread h5: (\d+) messages written/.exec(h5.stderr());
    assert.ok(m !== null && Number(m[1]) > 0, h5.stderr());
    const f = await readBack(path);
    assert.equal(f.channels['SINEG01-DBPM340:X1']!.pulse_id.length, Number(m[1]));

    const refused = newPath();
    const r = await runProgram('bsread', ['h5', refused, 'NO:SUCH-CHANNEL', '--base_url', base]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /refused the stream: HTTP 400.*NO:SUCH-CHANNEL/);
    assert.equal(existsSync(refused), false);
  }));

test('bsread h5: bad arguments exit 2; an existing FILE is refused unless --overwrite', async () => {
  const cases: [string[], RegExp][] = [
    [['h5', newPath()], /give channel names \(a stream is requested from the dispatcher\) or -s\/--source ADDRESS/],
    [['h5', newPath(), '-s', 'localhost:9999'], /not of the form tcp:\/\/HOST:PORT/],
    [['h5', newPath(), '-s', 'tcp://127.0.0.1:9', '-n', '0'], /--n_messages must be an integer from 1/],
    [['h5', newPath(), '-s', 'tcp://127.0.0.1:9', '-m', 'req'], /argument 'req' is invalid/],
    [['h5', newPath(), 'A:B', '--base_url', 'ftp://example'], /dispatcher URL "ftp:\/\/example" must be http:\/\/ or https:\/\//],
    [['h5'], /missing required argument 'file'/],
  ];
  for (const [args, message] of cases) {
    const r = await runProgram('bsread', args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }

  const existing = newPath();
  writeFileSync(existing, 'keep me');
  const refused = await runProgram('bsread', ['h5', existing, '-s', 'tcp://127.0.0.1:9', '-n', '1']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /exists already; refusing to overwrite it \(use --overwrite\)/);
  assert.equal(readFileSync(existing, 'utf8'), 'keep me');

  const sender = await StreamSender.bind({ address: 'tcp://127.0.0.1:0', highWaterMark: 100 });
  try {
    const h5 = startProgram('bsread', ['h5', existing, '-s', sender.endpoint, '-n', '2', '--overwrite']);
    for (let k = 0; k < 2; k++) await sender.send(message(pulseOf(k)));
    assert.equal(await h5.exited, 0, h5.stderr());
  } finally {
    sender.close();
  }
  const f = await readBack(existing);
  assert.deepEqual(f.channels['TXT']!.pulse_id, [pulseOf(0), pulseOf(1)]);
});
