// `npm run bench [-- --quick] [-- name...]`: runs every benchmark and prints one table.
import { formatTable, type Bench, type BenchRow } from './table.js';

const BENCHES: Record<string, () => Promise<{ run: Bench }>> = {
  compression: () => import('./compression.js'),
  codec: () => import('./codec.js'),
  h5: () => import('./h5.js'),
  buffer: () => import('./buffer.js'),
  'writer-format': () => import('./writer-format.js'),
  writer: () => import('./writer.js'),
};

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.filter((a) => !a.startsWith('--'));
const rows: BenchRow[] = [];
for (const [name, load] of Object.entries(BENCHES)) {
  if (only.length > 0 && !only.includes(name)) continue;
  process.stderr.write(`bench ${name}...\n`);
  const mod = await load();
  rows.push(...(await mod.run({ quick })));
}
console.log(formatTable(rows));
