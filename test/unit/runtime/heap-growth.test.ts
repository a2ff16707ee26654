import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HEAP_GROWING_PERCENT, letHeapGrowForBuffers } from '../../../src/runtime/heap-growth.js';

test('heap growth: set unless the node command line or NODE_OPTIONS already sets it', () => {
  assert.equal(letHeapGrowForBuffers(undefined, {}, ['--heap-growing-percent=50']), null);
  assert.equal(letHeapGrowForBuffers(undefined, { NODE_OPTIONS: '--max-old-space-size=100 --heap_growing_percent=50' }, []), null);
  assert.equal(letHeapGrowForBuffers(undefined, {}, []), HEAP_GROWING_PERCENT);
});
