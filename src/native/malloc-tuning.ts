// Keeps memory that the C side frees inside the process (native/malloc_tuning.cc says why and
// what it measured). Called once at start by the long-running programs. An operator who sets
// glibc's own MALLOC_MMAP_THRESHOLD_ or MALLOC_TRIM_THRESHOLD_ keeps control: nothing is changed.
import type { Logger } from '../log.js';
import { nativeAddon } from './surface.js';

export interface MallocTuning {
  /** Bytes; 0 when unchanged. */
  readonly mmapThreshold: number;
  readonly trimThreshold: number;
  /** Why nothing was changed, or null. */
  readonly skipped: string | null;
}

export function keepFreedMemoryInProcess(log?: Logger, env: NodeJS.ProcessEnv = process.env): MallocTuning {
  const own = ['MALLOC_MMAP_THRESHOLD_', 'MALLOC_TRIM_THRESHOLD_'].filter((k) => env[k] !== undefined);
  let r: MallocTuning;
  if (own.length > 0) r = { mmapThreshold: 0, trimThreshold: 0, skipped: `${own.join(' and ')} set in the environment` };
  else if (process.platform !== 'linux') r = { mmapThreshold: 0, trimThreshold: 0, skipped: 'not Linux' };
  else r = { ...nativeAddon().keepFreedMemory(), skipped: null };
  log?.debug({ malloc_mmap_threshold: r.mmapThreshold, malloc_trim_threshold: r.trimThreshold, skipped: r.skipped }, 'malloc settings');
  return r;
}
