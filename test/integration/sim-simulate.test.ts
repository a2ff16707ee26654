// `bsread simulate` as a real child process, received by a real PULL/SUB socket: every message
// equals predictMessage for its pulse id. And the project's acceptance test: what
// `bsread receive --json` prints equals what the profile predicts.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BsreadReceiver, messageToJson, type BsreadMessage } from '../../src/bsread/index.js';
import { StreamReceiver, type ReceiveMode } from '../../src/transport/index.js';
import { buildProfile, loadProfileFile, predictMessage, pulseTimestamp, type SimProfile } from '../../src/sim/index.js';
import { freePort } from '../helpers/net.js';
import { ROOT, runProgram, startProgram, stopAllPrograms } from '../helpers/process.js';
import { waitFor } from '../helpers/wait.js';

after(stopAllPrograms);

const ALL_TYPES = join(ROOT, 'examples', 'profiles', 'all-types.yaml');
const BSREAD = join(ROOT, 'dist', 'src', 'cli', 'bsread.js');
const START = 20_000_000_000;

/** Receives `n` messages (or fails after timeoutMs) and closes the socket. */
async function receiveMessages(address: string, n: number, mode: ReceiveMode = 'pull', timeoutMs = 20_000): Promise<BsreadMessage[]> {
  const rx = new StreamReceiver({ address, mode, receiveTimeoutMs: 200 });
  const decoder = new BsreadReceiver({ verifyHash: true });
  const out: BsreadMessage[] = [];
  const deadline = Date.now() + timeoutMs;
  try {
    while (out.length < n) {
      if (Date.now() > deadline) throw new Error(`only ${out.length} of ${n} messages from ${address}`);
      const frames = await rx.receive();
      if (frames === null) continue;
      const m = decoder.open(frames);
      assert.equal(m.kind, 'data');
      out.push(m as BsreadMessage);
    }
  } finally {
    rx.close();
  }
  return out;
}

function allTypes(): SimProfile {
  return buildProfile(loadProfileFile(ALL_TYPES), ALL_TYPES);
}

test('bsread simulate -n 20: every message equals predictMessage (all types, compressions, camera, type change)', async () => {
  const port = await freePort();
  const address = `tcp://127.0.0.1:${port}`;
  const sim = startProgram('bsread', ['simulate', '-a', address, '-p', ALL_TYPES, '-n', '20', '--start_pulse_id', String(START), '--rate', '200']);
  const messages = await receiveMessages(address, 20);
  const profile = allTypes();
  assert.deepEqual(
    messages.map((m) => m.pulseId),
    Array.from({ length: 20 }, (_, k) => START + k),
  );
  for (const m of messages) assert.deepEqual(messageToJson(m), predictMessage(profile, m.pulseId), `pulse ${m.pulseId}`);
  // The camera is [width, height] on the wire, [height, width] in C order.
  const cam = messages[0]!.indexOf('SLG-LCAM-C041:FPICTURE');
  assert.deepEqual(messages[0]!.def(cam).shape, [64, 48]);
  assert.equal(await sim.exited, 0, sim.stderr());
});

test('bsread simulate: default start pulse id follows the wall clock; gaps on request', async () => {
  const port = await freePort();
  const address = `tcp://127.0.0.1:${port}`;
  const sim = startProgram('bsread', ['simulate', '-a', address, '--scalars', '2', '-n', '8', '--gap_every', '3', '--gap_length', '2', '--rate', '0']);
  const messages = await receiveMessages(address, 8);
  const first = messages[0]!.pulseId;
  assert.ok(first > 2.0e10 && first < 2.3e10, `first pulse id ${first}`);
  assert.deepEqual(
    messages.map((m) => m.pulseId - first),
    [0, 1, 2, 5, 6, 7, 10, 11],
  );
  const profile = buildProfile({ scalars: 2 });
  for (const m of messages) assert.deepEqual(messageToJson(m), predictMessage(profile, m.pulseId));
  assert.equal(await sim.exited, 0, sim.stderr());
});

test('bsread simulate --mode pub runs until SIGTERM, exits 0, and reports its rate', async () => {
  const port = await freePort();
  const address = `tcp://127.0.0.1:${port}`;
  const sim = startProgram('bsread', ['simulate', '-a', address, '--mode', 'pub', '--waveforms', '1', '--waveform_length', '100', '--stats_interval', '0.3', '--seed', '9']);
  const messages = await receiveMessages(address, 5, 'sub');
  const profile = buildProfile({ waveforms: 1, waveform_length: 100, seed: 9 });
  for (const m of messages) assert.deepEqual(messageToJson(m), predictMessage(profile, m.pulseId));
  await waitFor('a rate report', () => /messages\/s, [\d.]+ MB\/s, \d+ sent, 0 dropped/.test(sim.stderr()));
  assert.equal(await sim.stop('SIGTERM'), 0, sim.stderr());
});

test('bsread simulate --drop_when_full counts drops when nobody receives; SIGINT exits 0', async () => {
  const port = await freePort();
  const sim = startProgram('bsread', ['simulate', '-a', `tcp://127.0.0.1:${port}`, '--scalars', '1', '--drop_when_full', '--stats_interval', '0.3']);
  await waitFor('drops reported', () => /"dropped":[1-9]/.test(sim.stderr()));
  assert.equal(await sim.stop('SIGINT'), 0, sim.stderr());
});

test('bsread simulate --channels sends only those channels, in file order', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sim-channels-'));
  try {
    const file = join(dir, 'channels.txt');
    writeFileSync(file, '# test\nSINEG01-DBPM340:X1\nSOME-UNKNOWN:CHANNEL\nSARFE10-PBPG050:HAMP-INTENSITY-CAL\n');
    const port = await freePort();
    const address = `tcp://127.0.0.1:${port}`;
    const sim = startProgram('bsread', ['simulate', '-a', address, '--channels', file, '-n', '3', '--rate', '0']);
    const [m] = await receiveMessages(address, 3);
    assert.deepEqual(
      m!.channels.map((c) => c.name),
      ['SINEG01-DBPM340:X1', 'SOME-UNKNOWN:CHANNEL', 'SARFE10-PBPG050:HAMP-INTENSITY-CAL'],
    );
    assert.equal(await sim.exited, 0, sim.stderr());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bsread simulate --camera_compression compresses the image only; values still decode to the prediction', async () => {
  const port = await freePort();
  const address = `tcp://127.0.0.1:${port}`;
  const sim = startProgram('bsread', ['simulate', '-a', address, '--scalars', '3', '--camera', '32x16', '--camera_compression', 'bitshuffle_lz4', '-n', '2', '--rate', '0']);
  const [m] = await receiveMessages(address, 2);
  const compressions = m!.channels.map((_, i) => [m!.def(i).name, m!.def(i).compression]);
  assert.deepEqual(compressions.slice(3), [['SLG-LCAM-C041:FPICTURE', 'bitshuffle_lz4']]);
  assert.deepEqual(new Set(compressions.slice(0, 3).map((c) => c[1])), new Set(['none']));
  assert.equal(m!.def(3).type, 'uint16');
  assert.equal(await sim.exited, 0, sim.stderr());
});

test('bsread simulate: bad options and profiles exit 2 with a clear message', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sim-bad-'));
  try {
    const badYaml = join(dir, 'bad.yaml');
    writeFileSync(badYaml, 'channels:\n  - {name: A, type: float}\n');
    const cases: [string[], RegExp][] = [
      [['--compression', 'zip'], /--compression must be one of none, bitshuffle_lz4, lz4, got "zip"/],
      [['--camera', '10by10'], /--camera: "10by10" is not WIDTHxHEIGHT/],
      [['--camera_compression', 'lz4'], /--camera_compression needs --camera/],
      [['--camera', '8x8', '--camera_compression', 'zip'], /--camera_compression must be one of .*, got "zip"/],
      [['-r', 'fast'], /--rate must be a number from 0 to 1000000, got "fast"/],
      [['-n', '-3'], /--count/],
      [['-p', badYaml], /channels\[0\]\.type: "float" is not one of/],
      [['-p', join(dir, 'missing.yaml')], /cannot read/],
      [['--mode', 'router'], /router/],
      [['-a', 'localhost:9999'], /not of the form tcp:\/\/HOST:PORT/],
    ];
    for (const [args, pattern] of cases) {
      const r = await runProgram('bsread', ['simulate', '-n', '1', '-a', 'tcp://127.0.0.1:1', ...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, pattern, args.join(' '));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// Acceptance: two real programs; what receive prints is what the profile predicts.
test('acceptance: bsread receive --json prints exactly what the profile predicts', { skip: !existsSync(BSREAD) && 'bsread CLI not built' }, async () => {
  const port = await freePort();
  const address = `tcp://127.0.0.1:${port}`;
  const start = START + 5; // crosses the type changes at +10 and +15
  const sim = startProgram('bsread', ['simulate', '-a', address, '-p', ALL_TYPES, '-n', '12', '--start_pulse_id', String(start)]);
  const rx = startProgram('bsread', ['receive', '-s', address, '--json', '-n', '12']);
  assert.equal(await rx.exited, 0, rx.stderr());
  assert.equal(await sim.exited, 0, sim.stderr());
  const lines = rx.stdout().trimEnd().split('\n');
  assert.equal(lines.length, 12);
  const profile = allTypes();
  lines.forEach((line, k) => {
    const got = JSON.parse(line) as unknown;
    const want = JSON.parse(JSON.stringify(predictMessage(profile, start + k))) as unknown;
    assert.deepEqual(got, want, `line ${k}`);
  });
});

test('bsread simulate --pre_encode 3: message k carries the values recorded for pulse start + k mod 3, with its own pulse id and timestamps', async () => {
  const port = await freePort();
  const address = `tcp://127.0.0.1:${port}`;
  startProgram('bsread', ['simulate', '-a', address, '-p', ALL_TYPES, '-n', '8', '--start_pulse_id', String(START), '--rate', '200', '--pre_encode', '3']);
  const messages = await receiveMessages(address, 8);
  const profile = allTypes();
  assert.deepEqual(
    messages.map((m) => m.pulseId),
    Array.from({ length: 8 }, (_, k) => START + k),
  );
  for (const m of messages) {
    const recorded = predictMessage(profile, START + ((m.pulseId - START) % 3));
    const own = pulseTimestamp(m.pulseId);
    // Values and presence as recorded; pulse id and every timestamp of the message's own pulse.
    const expected = {
      ...recorded,
      pulse_id: m.pulseId,
      global_timestamp: { sec: own.sec, ns: own.ns },
      channels: Object.fromEntries(Object.entries(recorded.channels).map(([name, c]) => [name, { ...c, timestamp: c.timestamp === null ? null : [own.sec, own.ns] }])),
    };
    assert.deepEqual(messageToJson(m), expected, `pulse ${m.pulseId}`);
  }
});

test('bsread simulate --pre_encode: a count out of range is a usage error (exit 2)', async () => {
  for (const bad of ['0', '-1', '1.5', '10001', 'x']) {
    const r = await runProgram('bsread', ['simulate', '-a', 'tcp://127.0.0.1:1', '--pre_encode', bad, '-n', '1']);
    assert.equal(r.code, 2, `--pre_encode ${bad}: ${r.stderr}`);
    assert.match(r.stderr, /--pre_encode/);
  }
});
