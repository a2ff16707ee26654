// STUB: replaced by the compression helper.
import type { BenchRow } from './table.js';
export async function run(): Promise<BenchRow[]> {
  return [];
}
