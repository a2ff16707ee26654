// Loads the bsread fixtures in test/fixtures (found from the package root, so the compiled
// tests under dist/test read the same files): real messages from PSI's Python sender plus what
// its receiver decoded. Their format is described in test/fixtures/README.md.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/native/addon.js';
import type { Compression } from '../../src/bsread/index.js';

/** The decoded value of one channel, as the fixtures write it (see test/fixtures/README.md). */
export type FixtureValue = number | string | null | { dtype: string; shape: number[]; values: (number | string)[] };

export interface FixtureExpected {
  pulse_id: number;
  global_timestamp: { sec: number; ns: number };
  channels: Record<string, { value: FixtureValue; timestamp: [number, number] | null }>;
}

export interface FixtureMessage {
  /** The frames exactly as captured. */
  frames: Buffer[];
  expected: FixtureExpected;
}

export interface FixtureFile {
  /** File name without .json, e.g. "all-types-none". */
  file: string;
  name: string;
  description: string;
  dataCompression: Compression;
  dhCompression: Compression;
  messages: FixtureMessage[];
}

/** `<package root>/test/fixtures`: the JSON files are not compiled, so dist/ has no copy. */
export function fixturesDir(): string {
  return join(packageRoot(), 'test', 'fixtures');
}

interface RawFile {
  name: string;
  description: string;
  data_compression: Compression;
  dh_compression: Compression;
  messages: { frames_base64: string[]; expected: FixtureExpected }[];
}

const cache = new Map<string, FixtureFile>();

export function loadFixture(file: string): FixtureFile {
  const hit = cache.get(file);
  if (hit) return hit;
  const raw = JSON.parse(readFileSync(join(fixturesDir(), `${file}.json`), 'utf8')) as RawFile;
  const f: FixtureFile = {
    file,
    name: raw.name,
    description: raw.description,
    dataCompression: raw.data_compression,
    dhCompression: raw.dh_compression,
    messages: raw.messages.map((m) => ({ frames: m.frames_base64.map((b) => Buffer.from(b, 'base64')), expected: m.expected })),
  };
  cache.set(file, f);
  return f;
}

/** Every fixture file, uncompressed ones first (they need no addon). */
export function fixtureFiles(): string[] {
  const dir = fixturesDir();
  if (!existsSync(dir)) throw new Error(`fixtures not found at ${dir}`);
  const names = readdirSync(dir)
    .filter((n) => n.endsWith('.json'))
    .map((n) => n.slice(0, -5))
    .sort();
  const compressed = (n: string): boolean => {
    const f = loadFixture(n);
    return f.dataCompression !== 'none' || f.dhCompression !== 'none';
  };
  return [...names.filter((n) => !compressed(n)), ...names.filter(compressed)];
}

export function loadAllFixtures(): FixtureFile[] {
  return fixtureFiles().map(loadFixture);
}
