// `npm run bench [-- --quick] [-- name...]`: runs every benchmark and prints one table.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
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
  jetstream: () => import('./jetstream.js'),
  'jetstream-cluster': () => import('./jetstream-cluster.js'),
};

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const childIndex = args.indexOf('--child');

if (childIndex >= 0) {
  // One benchmark in this process; its rows go to the parent as JSON on stdout.
  const name = args[childIndex + 1] ?? '';
  const load = BENCHES[name];
  if (load === undefined) throw new Error(`no benchmark ${name}`);
  const rows = await (await load()).run({ quick });
  // NaN (a measure that failed) survives JSON as a string.
  process.stdout.write(JSON.stringify(rows, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)));
} else {
  // Each benchmark runs in a process of its own: a fresh heap and JIT state, as the programs
  // have in service (in one shared process the writer's format layer ran ~35 % slower after the
  // codec and buffer benchmarks had trained its code paths on other message shapes).
  const only = args.filter((a) => !a.startsWith('--'));
  const unknown = only.filter((n) => !(n in BENCHES));
  if (unknown.length > 0) throw new Error(`no benchmark ${unknown.join(', ')}; known: ${Object.keys(BENCHES).join(' ')}`);
  const rows: BenchRow[] = [];
  const t0 = Date.now();
  for (const name of Object.keys(BENCHES)) {
    if (only.length > 0 && !only.includes(name)) continue;
    process.stderr.write(`bench ${name}...\n`);
    const t = Date.now();
    rows.push(...(await runChild(name)));
    process.stderr.write(`bench ${name}: ${((Date.now() - t) / 1000).toFixed(1)} s\n`);
  }
  console.log(formatTable(rows));
  process.stderr.write(`bench total: ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
}

function runChild(name: string): Promise<BenchRow[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--child', name, ...(quick ? ['--quick'] : [])], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const out: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code !== 0) {
        reject(new Error(`benchmark ${name} failed (exit ${code ?? signal})`));
        return;
      }
      try {
        const nonFinite = new Set(['NaN', 'Infinity', '-Infinity']);
        resolve(JSON.parse(Buffer.concat(out).toString(), (_k, v: unknown) => (typeof v === 'string' && nonFinite.has(v) ? Number(v) : v)) as BenchRow[]);
      } catch (e) {
        reject(new Error(`benchmark ${name} printed no result: ${(e as Error).message}`));
      }
    });
  });
}
