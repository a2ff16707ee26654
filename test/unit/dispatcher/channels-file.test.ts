import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseChannelsFile, readChannelsFile } from '../../../src/dispatcher/channels-file.js';
import { BsreadError } from '../../../src/errors.js';

test('JSON format: names and {name, modulo, offset} objects', () => {
  const c = parseChannelsFile('{"channels": ["A", {"name": "B", "modulo": 10, "offset": 2}, {"name": "C"}]}');
  assert.deepEqual(c, [{ name: 'A' }, { name: 'B', modulo: 10, offset: 2 }, { name: 'C' }]);
});

test('text format: trimmed, # lines and empty lines skipped, no inline comments', () => {
  const c = parseChannelsFile('# header\n  A  \n\nB # not a comment\r\n   # indented comment\nC\n');
  assert.deepEqual(
    c.map((x) => x.name),
    ['A', 'B # not a comment', 'C'],
  );
});

test('errors have the channels-file code and say what is wrong', () => {
  const cases: [string, RegExp][] = [
    ['', /no channels/],
    ['# only comments\n\n', /no channels/],
    ['{"channels": []}', /no channels/],
    ['{"chans": ["A"]}', /"channels" array/],
    ['{"channels": [""]}', /empty name/],
    ['{"channels": [{"modulo": 2}]}', /"name"/],
    ['{"channels": [{"name": "A", "modulo": 0}]}', /modulo must be an integer >= 1/],
    ['{"channels": [{"name": "A", "modulo": 1.5}]}', /modulo/],
    ['{"channels": [{"name": "A", "offset": "x"}]}', /offset must be an integer/],
    ['{"channels": [42]}', /name or an object/],
    ['{"channels": [', /does not parse/],
  ];
  for (const [text, re] of cases) {
    assert.throws(
      () => parseChannelsFile(text),
      (e: unknown) => e instanceof BsreadError && e.code === 'BSREAD_ERR_CHANNELS_FILE' && re.test(e.message),
      text,
    );
  }
});

test('readChannelsFile reads a file and reports a missing one', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'chfile-'));
  try {
    const p = join(dir, 'ch.txt');
    await writeFile(p, 'X\nY\n');
    assert.deepEqual(await readChannelsFile(p), [{ name: 'X' }, { name: 'Y' }]);
    await assert.rejects(readChannelsFile(join(dir, 'nope.txt')), /cannot read channels file/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('names with control characters are refused in both formats', () => {
  assert.throws(
    () => parseChannelsFile('SAR-A\u0000B\n', 'f.txt'),
    (e: unknown) => e instanceof BsreadError && e.code === 'BSREAD_ERR_CHANNELS_FILE' && /control character U\+0000/.test(e.message),
  );
  assert.throws(() => parseChannelsFile('{"channels": ["A\\u001bB"]}', 'f.json'), /control character U\+001B/);
  assert.throws(() => parseChannelsFile('{"channels": [{"name": "A\\tB"}]}', 'f.json'), /control character U\+0009/);
});
