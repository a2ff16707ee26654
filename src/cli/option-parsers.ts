// The one set of checks for command-line values, shared by every program: each parser returns
// the value or throws UsageError naming the option, what it accepts and what it was given.
// The `...Option` forms are commander argument parsers; runCli and the buffer's parser turn a
// UsageError into "<program>: error: <message>" and exit status 2.
import { BsreadError } from '../errors.js';

/** A bad command line: printed, exit status 2. */
export class UsageError extends BsreadError {
  constructor(message: string) {
    super('BSREAD_ERR_INVALID_ARGUMENT', message);
    this.name = 'UsageError';
  }
}

export function parseInteger(v: string, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(v);
  if (!/^\s*-?\d+\s*$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${name} must be an integer from ${min} to ${max}, got "${v}"`);
  }
  return n;
}

export function parseNumber(v: string, name: string, min: number, max = Number.MAX_VALUE): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
    throw new UsageError(`${name} must be a number from ${min} to ${max}, got "${v}"`);
  }
  return n;
}

export function parsePositive(v: string, name: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= 0) throw new UsageError(`${name} must be a positive number, got "${v}"`);
  return n;
}

export function parseChoice<T extends string>(v: string, name: string, values: readonly T[]): T {
  if (!(values as readonly string[]).includes(v)) throw new UsageError(`${name} must be one of ${values.join(', ')}, got "${v}"`);
  return v as T;
}

/** Bytes with an optional K/M/G/T suffix (powers of 1024): 500M, 2G, 1048576. */
export function parseByteSize(v: string, name: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)i?[bB]?\s*$/.exec(v);
  const mult: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };
  if (m === null) throw new UsageError(`${name} must be a size such as 1048576, 500M or 2G, got "${v}"`);
  const n = Math.floor(Number(m[1]) * mult[m[2]!.toLowerCase()]!);
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`${name} must be at least 1 byte, got "${v}"`);
  return n;
}

/** A host name or IP address to bind or connect to ('*' too). */
export function parseHost(v: string, name: string): string {
  if (!/^[A-Za-z0-9_.:-]+$/.test(v) && v !== '*') throw new UsageError(`${name} "${v}" is not a host name or IP address`);
  return v;
}

export const integerOption =
  (name: string, min: number, max = Number.MAX_SAFE_INTEGER) =>
  (v: string): number =>
    parseInteger(v, name, min, max);

export const numberOption =
  (name: string, min: number, max = Number.MAX_VALUE) =>
  (v: string): number =>
    parseNumber(v, name, min, max);

export const positiveOption =
  (name: string) =>
  (v: string): number =>
    parsePositive(v, name);

export const choiceOption =
  <T extends string>(name: string, values: readonly T[]) =>
  (v: string): T =>
    parseChoice(v, name, values);

export const byteSizeOption =
  (name: string) =>
  (v: string): number =>
    parseByteSize(v, name);

export const hostOption =
  (name: string) =>
  (v: string): string =>
    parseHost(v, name);
