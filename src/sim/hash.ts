// Cheap, deterministic integer hashing for simulated values. Everything is 32-bit integer
// arithmetic (Math.imul), so the same inputs give the same bits on every run and every machine.

/** A 32-bit finaliser (the "lowbias32" variant of murmur3's fmix32). */
export function mix32(x: number): number {
  let h = x | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a over the UTF-16 code units of a string, then mixed. Stable across runs. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mix32(h);
}

const TWO32 = 4294967296;

/** Hash of a non-negative integer that may exceed 2^32 (pulse ids are ~2·10^10). */
export function hashInt(n: number): number {
  const lo = n % TWO32;
  const hi = Math.floor(n / TWO32);
  return mix32(mix32(lo ^ 0x9e3779b9) ^ Math.imul(hi + 1, 0x85ebca6b));
}

/** Combines hashes; order matters. */
export function combine(a: number, b: number): number {
  return mix32((a ^ Math.imul(b, 0x27d4eb2f)) + 0x165667b1);
}

/** A 32-bit value from (key, pulse, salt): the per-channel, per-pulse random word. */
export function word(key: number, pulseId: number, salt = 0): number {
  return combine(combine(key, hashInt(pulseId)), salt);
}

/** Uniform in [0, 1) from a 32-bit word. */
export function unit(w: number): number {
  return (w >>> 0) / TWO32;
}
