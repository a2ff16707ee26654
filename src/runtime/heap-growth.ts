// Lets V8's heap limit grow further between full collections in the long-running programs.
//
// Why: V8 counts the bytes behind Buffers (external memory) against the same allocation limit as
// its own heap, and that limit is a small multiple of the live JavaScript heap (10-20 MB here).
// A camera stream moves 100-150 MB/s of Buffers through a process that keeps them for a while
// (ring, JetStream publish queue, assembly of parts), so the limit was crossed 14 times a second
// and each crossing cost a full mark-compact: measured in the JetStream camera run
// (`npm run bench -- jetstream`), ~18 % of the buffer's and ~22 % of the writer's samples were
// garbage collection. With the growth factor at 5 those collections are a few per second.
// The cost is memory: up to ~5x the live heap of dead Buffers may wait for the next collection.
//
// An operator who passes --heap-growing-percent to node (command line or NODE_OPTIONS) keeps it.
import { setFlagsFromString } from 'node:v8';
import type { Logger } from '../log.js';

export const HEAP_GROWING_PERCENT = 400;

export function letHeapGrowForBuffers(log?: Logger, env: NodeJS.ProcessEnv = process.env, execArgv: readonly string[] = process.execArgv): number | null {
  const flag = /--heap[-_]growing[-_]percent/;
  if (execArgv.some((a) => flag.test(a)) || flag.test(env['NODE_OPTIONS'] ?? '')) {
    log?.debug('heap growth left as set on the node command line');
    return null;
  }
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  log?.debug({ heap_growing_percent: HEAP_GROWING_PERCENT }, 'heap growth');
  return HEAP_GROWING_PERCENT;
}
