// Profiles: JSON and YAML files, command-line style specs, and clear errors naming the field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BsreadError } from '../../../src/errors.js';
import { buildProfile, CAMERA_NAME, loadProfileFile, parseProfileText, selectChannels, simulatedValue } from '../../../src/sim/index.js';

function rejects(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof BsreadError, `a BsreadError, got ${String(e)}`);
    assert.equal(e.code, 'BSREAD_ERR_INVALID_ARGUMENT');
    assert.match(e.message, pattern);
    return true;
  });
}

test('YAML and JSON profiles give the same profile', () => {
  const yaml = parseProfileText('seed: 3\nscalars: 2\ncamera: 8x4\nchannels:\n  - {name: "A:B", type: int16, modulo: 10}\n', 'p.yaml');
  const json = parseProfileText('{"seed": 3, "scalars": 2, "camera": "8x4", "channels": [{"name": "A:B", "type": "int16", "modulo": 10}]}', 'p.json');
  assert.deepEqual(buildProfile(yaml), buildProfile(json));
  const p = buildProfile(yaml);
  assert.equal(p.channels.length, 4);
  assert.equal(p.channels[2]!.name, CAMERA_NAME);
  // bsread shape is fastest-first: [width, height].
  assert.deepEqual(p.channels[2]!.segments[0]!.def.shape, [8, 4]);
  assert.deepEqual(p.channels[2]!.segments[0]!.def.cShape, [4, 8]);
});

test('profile errors name the file and the field', () => {
  rejects(() => parseProfileText('{"rate": -1}', 'x.json'), /profile x\.json\.rate: -1 is not a number from 0/);
  rejects(() => parseProfileText('channels:\n  - {name: A, type: float}\n', 'x.yaml'), /profile x\.yaml\.channels\[0\]\.type: "float" is not one of bool, int8/);
  rejects(() => parseProfileText('channels:\n  - {name: A, modulo: 0}\n', 'x.yaml'), /channels\[0\]\.modulo: 0 is not an integer from 1/);
  rejects(() => parseProfileText('channels:\n  - {name: A, missing: {pattern: "12"}}\n', 'x.yaml'), /missing\.pattern/);
  rejects(() => parseProfileText('channels:\n  - {name: A, compresion: lz4}\n', 'x.yaml'), /unknown field "compresion"/);
  rejects(() => parseProfileText('camera: 10by10\n', 'x.yaml'), /camera: "10by10" is not WIDTHxHEIGHT/);
  rejects(() => parseProfileText('{"seed": 1,', 'x.json'), /profile x\.json: not valid JSON/);
  rejects(() => parseProfileText('a: [1, 2\n', 'x.yaml'), /profile x\.yaml: not valid YAML/);
  rejects(() => parseProfileText('- 1\n- 2\n', 'x.yaml'), /is not an object/);
  rejects(() => buildProfile({ channels: [{ name: 'A' }, { name: 'A' }] }), /channel A: appears twice/);
  rejects(() => buildProfile({ channels: [{ name: 'A', type: 'float64', generator: 'text' }] }), /generator "text" needs type string/);
  rejects(
    () =>
      buildProfile({
        channels: [
          {
            name: 'A',
            changes: [
              { at_pulse: 5, type: 'int8' },
              { at_pulse: 5, type: 'int16' },
            ],
          },
        ],
      }),
    /two changes at pulse 5/,
  );
});

test('a missing profile file is a clear error', () => {
  rejects(() => loadProfileFile('/nonexistent/p.yaml'), /profile \/nonexistent\/p\.yaml: cannot read/);
  const dir = mkdtempSync(join(tmpdir(), 'sim-profile-'));
  try {
    writeFileSync(join(dir, 'p.yml'), 'rate: fast\n');
    rejects(() => loadProfileFile(join(dir, 'p.yml')), /rate: "fast" is not a number/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('selectChannels keeps values, applies modulo, and names unknown channels', () => {
  const cat = buildProfile({ channels: [{ name: 'A', type: 'int32' }, { name: 'B' }, { name: 'C', compression: 'lz4' }] });
  const sel = selectChannels(cat, [{ name: 'C' }, { name: 'A', modulo: 10 }], { forceUncompressed: true });
  assert.deepEqual(
    sel.channels.map((c) => c.name),
    ['C', 'A'],
  );
  assert.equal(sel.channels[0]!.segments[0]!.def.compression, 'none');
  assert.deepEqual(simulatedValue(sel, 1, 20_000_000_000), simulatedValue(cat, 0, 20_000_000_000));
  assert.equal(simulatedValue(sel, 1, 20_000_000_001), null);
  rejects(() => selectChannels(cat, [{ name: 'X' }, { name: 'A' }, { name: 'Y' }]), /unknown channels: X, Y/);
  assert.equal(selectChannels(cat, [{ name: 'X' }], { unknown: 'scalar' }).channels[0]!.segments[0]!.def.type, 'float64');
});
