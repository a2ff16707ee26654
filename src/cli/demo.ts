#!/usr/bin/env node
// `npm start`: the demo (see src/demo/run-demo.ts and the README).
import { DEFAULT_DEMO_OPTIONS, runDemo } from '../demo/run-demo.js';
import { errorMessage } from '../errors.js';

// npm start [-- [--jetstream] [OUTPUT_DIR]]
const args = process.argv.slice(2);
const jetstream = args.includes('--jetstream');
const unknown = args.filter((a) => a.startsWith('-') && a !== '--jetstream');
if (unknown.length > 0) {
  process.stderr.write(`demo: unknown option ${unknown.join(' ')}; usage: npm start [-- [--jetstream] [OUTPUT_DIR]]\n`);
  process.exit(2);
}
const outputDir = args.find((a) => !a.startsWith('-')) ?? process.env.DEMO_OUTPUT_DIR ?? DEFAULT_DEMO_OPTIONS.outputDir;
process.stdout.write(`sf-bsread demo: simulated SwissFEL sources -> dispatcher -> buffer -> ${jetstream ? 'NATS JetStream -> ' : ''}writer -> HDF5\n`);
try {
  const summary = await runDemo({ ...DEFAULT_DEMO_OPTIONS, outputDir, jetstream, log: (l) => process.stdout.write(l + '\n') });
  process.stdout.write(`\ndone: ${summary.rows} pulses of ${summary.channels.length} channels in ${summary.path}\n`);
  process.stdout.write(`read it with: /usr/bin/python3 -c "import h5py; f = h5py.File('${summary.path}'); print(list(f['data']))"\n`);
} catch (e) {
  process.stderr.write(`demo failed: ${errorMessage(e)}\n`);
  process.exitCode = 1;
}
