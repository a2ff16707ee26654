// `npm run bench [-- --quick] [-- name...]`: runs every benchmark and prints one table.
import { formatTable, type Bench, type BenchRow } from './table.js';

const BENCHES: Record<string, () => Promise<{ run: Bench }>> = {
  compression: () => import('./compression.js'),
  codec: () => import('./codec.js'),
  h5: () => import('./h5.js'),
  buffer: () => import('./buffer.js'),
  'writer-format': () => import('./writer-format.js'),
  writer: () => import('./writer.js'),
  'native-receive': () => import('./native-receive.js'),
  e2e: () => import('./e2e.js'),
  ramp: () => import('./ramp.js'),
};

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.filter((a) => !a.startsWith('--'));
const rows: BenchRow[] = [];
const t0 = Date.now();
for (const [name, load] of Object.entries(BENCHES)) {
  if (only.length > 0 && !only.includes(name)) continue;
  process.stderr.write(`bench ${name}...\n`);
  const t = Date.now();
  const mod = await load();
  rows.push(...(await mod.run({ quick })));
  process.stderr.write(`bench ${name}: ${((Date.now() - t) / 1000).toFixed(1)} s\n`);
}
console.log(formatTable(rows));
process.stderr.write(`bench total: ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
