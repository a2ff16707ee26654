// Simulation profiles: what a simulated source sends. A profile file (JSON or YAML) and the
// command-line options both produce a ProfileSpec (plain data, snake_case keys as in the file);
// buildProfile() checks it and resolves it into a SimProfile, the immutable input of the pure
// value functions in values.ts. Every problem is a BsreadError('BSREAD_ERR_INVALID_ARGUMENT')
// naming the field, e.g. `profile x.yaml: channels[2].type: "float" is not one of bool, int8, ...`.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { BSREAD_TYPES, COMPRESSIONS, ENCODINGS, resolveChannelDef, type BsreadType, type ChannelDef, type Compression, type Encoding } from '../bsread/index.js';
import type { ChannelRequest } from '../dispatcher/channels-file.js';
import { BsreadError, errorMessage } from '../errors.js';
import { combine, hashString, mix32 } from './hash.js';
import { CAMERA_NAME, scalarName, waveformName } from './names.js';

/** How a channel's values are made (see values.ts). `auto` picks from type and shape. */
export const GENERATORS = ['auto', 'scalar', 'counter', 'waveform', 'image', 'text'] as const;
export type Generator = (typeof GENERATORS)[number];
/** A resolved generator (never auto). */
export type ValueKind = Exclude<Generator, 'auto'>;

/** A channel as written in a profile file. */
export interface ChannelSpec {
  name: string;
  type?: BsreadType;
  /** bsread order, fastest-varying first: an image is [width, height]. Default [1]. */
  shape?: number[];
  encoding?: Encoding;
  compression?: Compression;
  /** The channel has data only when (pulse_id - offset) % modulo == 0 (e.g. 10 for 10 Hz). */
  modulo?: number;
  offset?: number;
  generator?: Generator;
  /** Values that go missing: at random with `probability`, and/or where `pattern` (over pulse_id % length) has a 0. */
  missing?: { probability?: number; pattern?: string };
  /** Definition changes from a given pulse id on (e.g. a type change midway). */
  changes?: ChangeSpec[];
}

export interface ChangeSpec {
  at_pulse: number;
  type?: BsreadType;
  shape?: number[];
  encoding?: Encoding;
  compression?: Compression;
  generator?: Generator;
}

/** A profile file's content (every field optional). */
export interface ProfileSpec {
  seed?: number;
  /** Messages per second; 0 = as fast as possible. */
  rate?: number;
  /** First pulse id; default: derived from the wall clock (see pulseIdAt in values.ts). */
  start_pulse_id?: number | null;
  /** After every `gap_every` pulses, `gap_length` pulse ids are skipped (0 = no gaps). */
  gap_every?: number;
  gap_length?: number;
  dh_compression?: Compression;
  /** Defaults for channels that do not say. */
  encoding?: Encoding;
  compression?: Compression;
  /** Generated channels, sent before the explicit `channels`. */
  scalars?: number;
  waveforms?: number;
  waveform_length?: number;
  /** "WIDTHxHEIGHT" (uint16) or an object. */
  camera?: string | CameraSpec;
  channels?: ChannelSpec[];
}

export interface CameraSpec {
  width: number;
  height: number;
  name?: string;
  type?: BsreadType;
  compression?: Compression;
}

/** The definition of a channel from a pulse id on. */
export interface ChannelSegment {
  readonly fromPulse: number;
  readonly def: ChannelDef;
  readonly kind: ValueKind;
}

export interface MissingRule {
  /** 0 = never missing at random. */
  readonly probability: number;
  /** '1' = present, '0' = missing, indexed by pulse_id % length; '' = no pattern. */
  readonly pattern: string;
}

export interface SimChannel {
  readonly name: string;
  /** hash(seed, name): the key of every value of this channel. */
  readonly key: number;
  /** Sorted by fromPulse; the first starts at 0. */
  readonly segments: readonly ChannelSegment[];
  readonly missing: MissingRule;
}

/** A resolved, validated profile: the input of the pure value functions. */
export interface SimProfile {
  readonly seed: number;
  readonly rate: number;
  readonly startPulseId: number | null;
  readonly gapEvery: number;
  readonly gapLength: number;
  readonly dhCompression: Compression;
  readonly channels: readonly SimChannel[];
}

export const DEFAULT_RATE = 100;
export const DEFAULT_SEED = 1;
/** Upper bound on elements per value (a 4096 × 4096 image). */
export const MAX_ELEMENTS = 4096 * 4096;
export const MAX_CHANNELS = 100_000;

function bad(where: string, msg: string): BsreadError {
  return new BsreadError('BSREAD_ERR_INVALID_ARGUMENT', `${where}: ${msg}`);
}

// ---- field checks --------------------------------------------------------------------------

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkKeys(o: Obj, allowed: readonly string[], where: string): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw bad(where, `unknown field "${k}" (allowed: ${allowed.join(', ')})`);
  }
}

function int(v: unknown, where: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw bad(where, `${JSON.stringify(v)} is not an integer from ${min} to ${max}`);
  }
  return v;
}

function num(v: unknown, where: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw bad(where, `${JSON.stringify(v)} is not a number from ${min} to ${max}`);
  }
  return v;
}

function oneOf<T extends string>(v: unknown, values: readonly T[], where: string): T {
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
    throw bad(where, `${JSON.stringify(v)} is not one of ${values.join(', ')}`);
  }
  return v as T;
}

function shapeOf(v: unknown, where: string): number[] {
  if (!Array.isArray(v) || v.length === 0 || v.length > 8) throw bad(where, `${JSON.stringify(v)} is not a list of 1 to 8 dimensions`);
  const s = v.map((d, i) => int(d, `${where}[${i}]`, 1, MAX_ELEMENTS));
  if (s.reduce((a, b) => a * b, 1) > MAX_ELEMENTS) throw bad(where, `${JSON.stringify(s)} has more than ${MAX_ELEMENTS} elements`);
  return s;
}

/** Parses "WIDTHxHEIGHT" (e.g. 1024x1024). */
export function parseCameraSize(s: string, where = '--camera'): { width: number; height: number } {
  const m = /^(\d{1,5})[xX](\d{1,5})$/.exec(s.trim());
  if (m === null) throw bad(where, `"${s}" is not WIDTHxHEIGHT (e.g. 1024x1024)`);
  const width = int(Number(m[1]), `${where} width`, 1, 4096);
  const height = int(Number(m[2]), `${where} height`, 1, 4096);
  return { width, height };
}

function channelName(v: unknown, where: string): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > 256 || v.trim() !== v) {
    throw bad(where, `${JSON.stringify(v)} is not a channel name (1 to 256 characters, no surrounding spaces)`);
  }
  return v;
}

function checkChange(v: unknown, where: string): ChangeSpec {
  if (!isObj(v)) throw bad(where, 'is not an object');
  checkKeys(v, ['at_pulse', 'type', 'shape', 'encoding', 'compression', 'generator'], where);
  const c: ChangeSpec = { at_pulse: int(v['at_pulse'], `${where}.at_pulse`, 0, Number.MAX_SAFE_INTEGER) };
  if (v['type'] !== undefined) c.type = oneOf(v['type'], BSREAD_TYPES, `${where}.type`);
  if (v['shape'] !== undefined) c.shape = shapeOf(v['shape'], `${where}.shape`);
  if (v['encoding'] !== undefined) c.encoding = oneOf(v['encoding'], ENCODINGS, `${where}.encoding`);
  if (v['compression'] !== undefined) c.compression = oneOf(v['compression'], COMPRESSIONS, `${where}.compression`);
  if (v['generator'] !== undefined) c.generator = oneOf(v['generator'], GENERATORS, `${where}.generator`);
  return c;
}

function checkChannel(v: unknown, where: string): ChannelSpec {
  if (typeof v === 'string') return { name: channelName(v, where) };
  if (!isObj(v)) throw bad(where, 'is neither a channel name nor an object');
  checkKeys(v, ['name', 'type', 'shape', 'encoding', 'compression', 'modulo', 'offset', 'generator', 'missing', 'changes'], where);
  const c: ChannelSpec = { name: channelName(v['name'], `${where}.name`) };
  if (v['type'] !== undefined) c.type = oneOf(v['type'], BSREAD_TYPES, `${where}.type`);
  if (v['shape'] !== undefined) c.shape = shapeOf(v['shape'], `${where}.shape`);
  if (v['encoding'] !== undefined) c.encoding = oneOf(v['encoding'], ENCODINGS, `${where}.encoding`);
  if (v['compression'] !== undefined) c.compression = oneOf(v['compression'], COMPRESSIONS, `${where}.compression`);
  if (v['modulo'] !== undefined) c.modulo = int(v['modulo'], `${where}.modulo`, 1, 1_000_000_000);
  if (v['offset'] !== undefined) c.offset = int(v['offset'], `${where}.offset`, 0, 1_000_000_000);
  if (v['generator'] !== undefined) c.generator = oneOf(v['generator'], GENERATORS, `${where}.generator`);
  const m = v['missing'];
  if (m !== undefined) {
    if (!isObj(m)) throw bad(`${where}.missing`, 'is not an object like {probability: 0.1} or {pattern: "1110"}');
    checkKeys(m, ['probability', 'pattern'], `${where}.missing`);
    c.missing = {};
    if (m['probability'] !== undefined) c.missing.probability = num(m['probability'], `${where}.missing.probability`, 0, 1);
    if (m['pattern'] !== undefined) {
      const p = m['pattern'];
      if (typeof p !== 'string' || !/^[01]{1,10000}$/.test(p)) {
        throw bad(`${where}.missing.pattern`, `${JSON.stringify(p)} is not a string of 0 (missing) and 1 (present), 1 to 10000 long`);
      }
      c.missing.pattern = p;
    }
  }
  const ch = v['changes'];
  if (ch !== undefined) {
    if (!Array.isArray(ch) || ch.length > 1000) throw bad(`${where}.changes`, 'is not a list (at most 1000 entries)');
    c.changes = ch.map((x, i) => checkChange(x, `${where}.changes[${i}]`));
  }
  return c;
}

/** Checks untrusted data (a parsed profile file) field by field and returns it typed. */
export function checkProfileSpec(v: unknown, where = 'profile'): ProfileSpec {
  if (!isObj(v)) throw bad(where, 'is not an object (a mapping of profile fields)');
  checkKeys(
    v,
    ['seed', 'rate', 'start_pulse_id', 'gap_every', 'gap_length', 'dh_compression', 'encoding', 'compression', 'scalars', 'waveforms', 'waveform_length', 'camera', 'channels'],
    where,
  );
  const p: ProfileSpec = {};
  if (v['seed'] !== undefined) p.seed = int(v['seed'], `${where}.seed`, 0, 0xffffffff);
  if (v['rate'] !== undefined) p.rate = num(v['rate'], `${where}.rate`, 0, 1_000_000);
  if (v['start_pulse_id'] !== undefined && v['start_pulse_id'] !== null) {
    p.start_pulse_id = int(v['start_pulse_id'], `${where}.start_pulse_id`, 0, Number.MAX_SAFE_INTEGER);
  }
  if (v['gap_every'] !== undefined) p.gap_every = int(v['gap_every'], `${where}.gap_every`, 0, 1_000_000_000);
  if (v['gap_length'] !== undefined) p.gap_length = int(v['gap_length'], `${where}.gap_length`, 1, 1_000_000_000);
  if (v['dh_compression'] !== undefined) p.dh_compression = oneOf(v['dh_compression'], COMPRESSIONS, `${where}.dh_compression`);
  if (v['encoding'] !== undefined) p.encoding = oneOf(v['encoding'], ENCODINGS, `${where}.encoding`);
  if (v['compression'] !== undefined) p.compression = oneOf(v['compression'], COMPRESSIONS, `${where}.compression`);
  if (v['scalars'] !== undefined) p.scalars = int(v['scalars'], `${where}.scalars`, 0, MAX_CHANNELS);
  if (v['waveforms'] !== undefined) p.waveforms = int(v['waveforms'], `${where}.waveforms`, 0, MAX_CHANNELS);
  if (v['waveform_length'] !== undefined) p.waveform_length = int(v['waveform_length'], `${where}.waveform_length`, 1, MAX_ELEMENTS);
  const cam = v['camera'];
  if (cam !== undefined && cam !== null) {
    if (typeof cam === 'string') {
      parseCameraSize(cam, `${where}.camera`);
      p.camera = cam;
    } else if (isObj(cam)) {
      checkKeys(cam, ['width', 'height', 'name', 'type', 'compression'], `${where}.camera`);
      const c: CameraSpec = { width: int(cam['width'], `${where}.camera.width`, 1, 4096), height: int(cam['height'], `${where}.camera.height`, 1, 4096) };
      if (cam['name'] !== undefined) c.name = channelName(cam['name'], `${where}.camera.name`);
      if (cam['type'] !== undefined) {
        const t = oneOf(cam['type'], BSREAD_TYPES, `${where}.camera.type`);
        if (t === 'string') throw bad(`${where}.camera.type`, 'a camera image cannot be a string');
        c.type = t;
      }
      if (cam['compression'] !== undefined) c.compression = oneOf(cam['compression'], COMPRESSIONS, `${where}.camera.compression`);
      p.camera = c;
    } else {
      throw bad(`${where}.camera`, 'is neither "WIDTHxHEIGHT" nor {width, height, ...}');
    }
  }
  const chs = v['channels'];
  if (chs !== undefined) {
    if (!Array.isArray(chs) || chs.length > MAX_CHANNELS) throw bad(`${where}.channels`, `is not a list of at most ${MAX_CHANNELS} channels`);
    p.channels = chs.map((c, i) => checkChannel(c, `${where}.channels[${i}]`));
  }
  return p;
}

/** Reads a profile file: YAML for .yaml/.yml, JSON for .json, otherwise JSON then YAML. */
export function loadProfileFile(path: string): ProfileSpec {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new BsreadError('BSREAD_ERR_INVALID_ARGUMENT', `profile ${path}: cannot read: ${errorMessage(e)}`, { cause: e });
  }
  return parseProfileText(text, path);
}

/** Parses profile text (JSON or YAML by the file name, else whichever parses). */
export function parseProfileText(text: string, name = 'profile'): ProfileSpec {
  const lower = name.toLowerCase();
  let data: unknown;
  try {
    if (lower.endsWith('.json')) data = JSON.parse(text);
    else if (lower.endsWith('.yaml') || lower.endsWith('.yml')) data = parseYaml(text, { maxAliasCount: 100 });
    else {
      try {
        data = JSON.parse(text);
      } catch {
        data = parseYaml(text, { maxAliasCount: 100 });
      }
    }
  } catch (e) {
    throw new BsreadError('BSREAD_ERR_INVALID_ARGUMENT', `profile ${name}: not valid ${lower.endsWith('.json') ? 'JSON' : 'YAML/JSON'}: ${errorMessage(e)}`, { cause: e });
  }
  return checkProfileSpec(data, `profile ${name}`);
}

// ---- resolving -----------------------------------------------------------------------------

function defaultKind(def: ChannelDef): ValueKind {
  if (def.type === 'string') return 'text';
  if (def.elements === 1 && def.shape.length <= 1) return 'scalar';
  if (def.shape.length >= 2) return 'image';
  return 'waveform';
}

function resolveKind(g: Generator | undefined, def: ChannelDef, where: string): ValueKind {
  const kind = g === undefined || g === 'auto' ? defaultKind(def) : g;
  if (def.type === 'string' && kind !== 'text') throw bad(where, `generator "${kind}" cannot make string values (use text)`);
  if (def.type !== 'string' && kind === 'text') throw bad(where, `generator "text" needs type string, not ${def.type}`);
  if (kind === 'image' && def.shape.length < 2) throw bad(where, `generator "image" needs a shape of 2 or more dimensions, not ${JSON.stringify(def.shape)}`);
  return kind;
}

function segmentsOf(c: ChannelSpec, defaults: { encoding: Encoding; compression: Compression }, where: string): ChannelSegment[] {
  const base = {
    name: c.name,
    type: c.type ?? 'float64',
    shape: c.shape ?? [1],
    encoding: c.encoding ?? defaults.encoding,
    compression: c.compression ?? defaults.compression,
    modulo: c.modulo ?? 1,
    offset: c.offset ?? 0,
  };
  const first = resolveChannelDef(base);
  const out: ChannelSegment[] = [{ fromPulse: 0, def: first, kind: resolveKind(c.generator, first, where) }];
  const changes = [...(c.changes ?? [])].sort((a, b) => a.at_pulse - b.at_pulse);
  let cur = { ...base, generator: c.generator };
  for (let i = 0; i < changes.length; i++) {
    const ch = changes[i]!;
    if (i > 0 && ch.at_pulse === changes[i - 1]!.at_pulse) throw bad(`${where}.changes`, `two changes at pulse ${ch.at_pulse}`);
    cur = {
      ...cur,
      type: ch.type ?? cur.type,
      // A new type without a new shape keeps the shape, except that strings are always [1].
      shape: ch.shape ?? (ch.type === 'string' ? [1] : cur.shape),
      encoding: ch.encoding ?? cur.encoding,
      compression: ch.compression ?? cur.compression,
      // A new type or shape re-picks the generator unless the change names one.
      generator: ch.generator ?? (ch.type !== undefined || ch.shape !== undefined ? undefined : cur.generator),
    };
    const def = resolveChannelDef(cur);
    const seg = { fromPulse: ch.at_pulse, def, kind: resolveKind(cur.generator, def, `${where}.changes[${i}]`) };
    if (ch.at_pulse === 0) out[0] = seg;
    else out.push(seg);
  }
  return out;
}

/** The built-in set of channels (also the embedded dispatcher's default catalogue). */
export function defaultChannelSpecs(options: { camera?: boolean } = {}): ChannelSpec[] {
  const named: ChannelSpec[] = [
    { name: 'SARFE10-PBPG050:HAMP-INTENSITY-CAL', type: 'float64' },
    { name: 'SINEG01-DBPM340:X1', type: 'float32' },
    { name: 'SINEG01-DBPM340:Y1', type: 'float32' },
    { name: 'SINEG01-DBPM340:Q1', type: 'float32' },
    { name: 'S10BC01-DBPM410:X1', type: 'float64', modulo: 10 },
    { name: 'S10BC01-DBPM410:Y1', type: 'float64', modulo: 10 },
    { name: 'SAROP21-PBPS053:INTENSITY', type: 'float64', modulo: 100 },
    { name: 'SINLH01-DBAM110:EOM1_T1', type: 'int32' },
    { name: 'SARCL01-DBLM070:LOSS-COUNT', type: 'uint32' },
    { name: 'SINEG01-RLLE-EVR0:PULSE-ID', type: 'int64', generator: 'counter' },
    { name: 'SIN-CVME-TIFGUN-EVR0:BUNCH-1-OK', type: 'bool' },
    { name: 'SINEG01-RLLE-DSP:AMPLT-WF', type: 'int16', shape: [512] },
    { name: 'SARFE10-PSSS059:SPECTRUM_X', type: 'float64', shape: [1024] },
    { name: 'SARFE10-PSSS059:SPECTRUM_Y', type: 'float32', shape: [1024], compression: 'bitshuffle_lz4' },
    { name: 'SATMA01-DBLM070:STATUS', type: 'string' },
  ];
  for (let i = 100; i < 120; i++) named.push({ name: scalarName(i), type: 'float64' });
  if (options.camera ?? true) {
    named.push({ name: CAMERA_NAME, type: 'uint16', shape: [1024, 1024], compression: 'bitshuffle_lz4' });
  }
  return named;
}

/** The explicit channel list a spec stands for: generated channels first, then `channels`. */
export function channelSpecsOf(spec: ProfileSpec): ChannelSpec[] {
  const generated = spec.scalars !== undefined || spec.waveforms !== undefined || spec.camera !== undefined;
  if (!generated && spec.channels === undefined) return defaultChannelSpecs({ camera: false });
  const out: ChannelSpec[] = [];
  for (let i = 0; i < (spec.scalars ?? 0); i++) out.push({ name: scalarName(i), type: 'float64' });
  for (let i = 0; i < (spec.waveforms ?? 0); i++) {
    out.push({ name: waveformName(i), type: 'float64', shape: [spec.waveform_length ?? 1024] });
  }
  if (spec.camera !== undefined) {
    const c: CameraSpec = typeof spec.camera === 'string' ? parseCameraSize(spec.camera, 'camera') : spec.camera;
    const cam: ChannelSpec = { name: c.name ?? CAMERA_NAME, type: c.type ?? 'uint16', shape: [c.width, c.height], generator: 'image' };
    if (c.compression !== undefined) cam.compression = c.compression;
    out.push(cam);
  }
  out.push(...(spec.channels ?? []));
  return out;
}

/** Checks a spec as a whole (names unique, generators fit) and resolves it. */
export function buildProfile(spec: ProfileSpec, where = 'profile'): SimProfile {
  const checked = checkProfileSpec(spec, where); // also accepts specs built in code
  const seed = checked.seed ?? DEFAULT_SEED;
  const defaults = { encoding: checked.encoding ?? 'little', compression: checked.compression ?? 'none' } as const;
  const specs = channelSpecsOf(checked);
  if (specs.length > MAX_CHANNELS) throw bad(where, `${specs.length} channels (at most ${MAX_CHANNELS})`);
  const seen = new Set<string>();
  const channels: SimChannel[] = specs.map((c) => {
    const w = `${where}: channel ${c.name}`;
    if (seen.has(c.name)) throw bad(w, 'appears twice');
    seen.add(c.name);
    let segments: ChannelSegment[];
    try {
      segments = segmentsOf(c, defaults, w);
    } catch (e) {
      if (e instanceof BsreadError && !e.message.startsWith(w)) throw bad(w, e.message);
      throw e;
    }
    return Object.freeze({
      name: c.name,
      key: combine(mix32(seed ^ 0x5bd1e995), hashString(c.name)),
      segments: Object.freeze(segments),
      missing: Object.freeze({ probability: c.missing?.probability ?? 0, pattern: c.missing?.pattern ?? '' }),
    });
  });
  return Object.freeze({
    seed,
    rate: checked.rate ?? DEFAULT_RATE,
    startPulseId: checked.start_pulse_id ?? null,
    gapEvery: checked.gap_every ?? 0,
    gapLength: checked.gap_length ?? 1,
    dhCompression: checked.dh_compression ?? 'none',
    channels: Object.freeze(channels),
  });
}

/** Command-line overrides merged over a profile file (options win; channel options replace generated counts). */
export function mergeSpecs(base: ProfileSpec, over: ProfileSpec): ProfileSpec {
  const out: ProfileSpec = { ...base };
  for (const [k, v] of Object.entries(over) as [keyof ProfileSpec, unknown][]) {
    if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  }
  return out;
}

/**
 * A profile with exactly the requested channels, in request order, with the request's
 * modulo/offset (and `compression: none` when asked). Values stay those of the source profile:
 * they depend on (seed, name, pulse id) only. Unknown names throw (listing all of them) unless
 * `unknown: 'scalar'`, which simulates them as float64 scalars.
 */
export function selectChannels(profile: SimProfile, requests: readonly ChannelRequest[], options: { unknown?: 'error' | 'scalar'; forceUncompressed?: boolean } = {}): SimProfile {
  const byName = new Map(profile.channels.map((c) => [c.name, c]));
  const unknown = requests.filter((r) => !byName.has(r.name)).map((r) => r.name);
  if (unknown.length > 0 && (options.unknown ?? 'error') === 'error') {
    throw new BsreadError('BSREAD_ERR_INVALID_ARGUMENT', `unknown channels: ${unknown.join(', ')}`);
  }
  const seen = new Set<string>();
  const channels = requests.map((r): SimChannel => {
    if (seen.has(r.name)) throw bad('channels', `${r.name} requested twice`);
    seen.add(r.name);
    const src: SimChannel = byName.get(r.name) ?? {
      name: r.name,
      key: combine(mix32(profile.seed ^ 0x5bd1e995), hashString(r.name)),
      segments: [{ fromPulse: 0, def: resolveChannelDef({ name: r.name, type: 'float64' }), kind: 'scalar' }],
      missing: { probability: 0, pattern: '' },
    };
    const segments = src.segments.map((s) => ({
      ...s,
      def: resolveChannelDef({
        ...s.def,
        modulo: r.modulo ?? s.def.modulo,
        offset: r.offset ?? s.def.offset,
        compression: options.forceUncompressed ? 'none' : s.def.compression,
      }),
    }));
    return Object.freeze({ ...src, segments: Object.freeze(segments) });
  });
  return Object.freeze({ ...profile, channels: Object.freeze(channels) });
}
