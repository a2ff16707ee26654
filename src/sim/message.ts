// One simulated message: the profile's values at a pulse id, encoded with src/bsread. Pure
// apart from a small cache of prepared data headers (the header only changes when a channel's
// definition does, e.g. at a type change).
import { encodeMessage, prepareDataHeader, type EncodeChannel, type PreparedDataHeader } from '../bsread/index.js';
import type { SimProfile } from './profile.js';
import { definitionAt, pulseTimestamp, simulatedValue } from './values.js';

/** Prepared data headers keyed by the definitions in force; reuse one per stream. */
export class HeaderCache {
  private readonly map = new Map<string, PreparedDataHeader>();
  constructor(private readonly limit = 16) {}

  get(profile: SimProfile, pulseId: number): PreparedDataHeader {
    const defs = profile.channels.map((_, i) => definitionAt(profile, i, pulseId));
    // Single-segment channels never change; only multi-segment ones need to be in the key.
    let key = '';
    for (let i = 0; i < defs.length; i++) if (profile.channels[i]!.segments.length > 1) key += `${i}:${defs[i]!.key};`;
    let h = this.map.get(key);
    if (h === undefined) {
      h = prepareDataHeader(defs, profile.dhCompression);
      this.map.set(key, h);
      while (this.map.size > this.limit) this.map.delete(this.map.keys().next().value as string);
    }
    return h;
  }
}

/** The frames of the simulated message for `pulseId` (every channel, missing ones as empty frames). */
export function encodeSimulatedMessage(profile: SimProfile, pulseId: number, cache: HeaderCache = new HeaderCache()): Buffer[] {
  const header = cache.get(profile, pulseId);
  const channels: EncodeChannel[] = header.defs.map((def, i) => {
    const v = simulatedValue(profile, i, pulseId);
    return { def, value: v === null ? null : typeof v === 'object' ? { shape: v.shape, data: v.data, dtype: v.dtype } : v };
  });
  return encodeMessage({ pulseId, globalTimestamp: pulseTimestamp(pulseId), channels, header });
}
