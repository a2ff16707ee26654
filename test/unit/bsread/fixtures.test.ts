// Every message of every fixture file decodes to exactly what PSI's Python receiver decoded.
// The fixtures come from another implementation, so they are the judge. Uncompressed files
// come first; the compressed ones need src/bsread/compression.ts (the native addon).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BsreadReceiver, formatMessageJson, md5hex, messageToJson, type BsreadMessage } from '../../../src/bsread/index.js';
import { fixtureFiles, fixturesDir, loadFixture } from '../../helpers/fixtures.js';

function open(r: BsreadReceiver, frames: Buffer[]): BsreadMessage {
  const m = r.open(frames);
  assert.equal(m.kind, 'data');
  return m as BsreadMessage;
}

/** json.dumps(expected) per message, as Python writes it, or undefined without Debian's python. */
function pythonLines(file: string): string[] | undefined {
  const py = '/usr/bin/python3';
  if (!existsSync(py)) return undefined;
  const script = 'import json,sys\nd=json.load(open(sys.argv[1]))\nfor m in d["messages"]: print(json.dumps(m["expected"]))';
  return execFileSync(py, ['-c', script, join(fixturesDir(), `${file}.json`)], { encoding: 'utf8' })
    .trimEnd()
    .split('\n');
}

for (const file of fixtureFiles()) {
  test(`fixture ${file}: every message decodes to its expected values`, () => {
    const f = loadFixture(file);
    const r = new BsreadReceiver({ verifyHash: true });
    assert.ok(f.messages.length > 0);
    for (const [k, m] of f.messages.entries()) {
      const msg = open(r, m.frames);
      assert.equal(msg.hash, md5hex(m.frames[1]!), `message ${k}: hash is md5 of frame 1`);
      assert.equal(msg.dhCompression, f.dhCompression);
      // deepStrictEqual compares numbers with Object.is: -0.0 and NaN ("NaN") are checked exactly.
      assert.deepStrictEqual(messageToJson(msg), m.expected, `${file} message ${k}`);
      assert.deepStrictEqual(msg.errors(), []);
    }
    assert.equal(r.stats.hashMismatches, 0);
  });

  test(`fixture ${file}: formatMessageJson is json.dumps of the expected object`, (t) => {
    const f = loadFixture(file);
    const lines = pythonLines(file);
    const r = new BsreadReceiver();
    for (const [k, m] of f.messages.entries()) {
      const text = formatMessageJson(open(r, m.frames));
      assert.deepStrictEqual(JSON.parse(text), m.expected);
      if (lines !== undefined) assert.equal(text, lines[k], `${file} message ${k}: same text as Python`);
    }
    if (lines === undefined) t.diagnostic('no /usr/bin/python3: text comparison skipped');
  });
}

test('fixtures: the data-header cache parses each distinct header once per stream', () => {
  for (const file of fixtureFiles()) {
    const f = loadFixture(file);
    const r = new BsreadReceiver();
    for (const m of f.messages) open(r, m.frames);
    const distinct = new Set(f.messages.map((m) => m.frames[1]!.toString('base64'))).size;
    assert.equal(r.stats.headerParses, distinct, file);
    assert.equal(r.stats.cacheHits, f.messages.length - distinct, file);
  }
});

test('fixtures: uncompressed little-endian values are handed out without a copy', () => {
  const f = loadFixture('all-types-none');
  const msg = open(new BsreadReceiver(), f.messages[0]!.frames);
  for (let i = 0; i < msg.channelCount; i++) {
    const b = msg.bytes(i)!;
    assert.equal(b, msg.valueFrame(i), msg.entry(i).name);
  }
});

test('fixtures: big-endian bytes() are the little-endian conversion', () => {
  const f = loadFixture('big-endian');
  const msg = open(new BsreadReceiver(), f.messages[1]!.frames);
  const i = msg.indexOf('BE:INT32-WF');
  assert.deepStrictEqual([...new Int32Array(Uint8Array.from(msg.bytes(i)!).buffer)], [0, 2, 4, 6, 8, 10, 12, 14, 16]);
  // The frame itself is untouched (the buffer relays it byte for byte).
  assert.equal(Buffer.from(msg.valueFrame(i)).readInt32BE(4), 2);
});
