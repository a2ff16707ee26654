// `bsread receive`: connect to a source and print each message.
import { Command, Option } from 'commander';
import { BsreadReceiver, formatMessageJson } from '../bsread/index.js';
import { DropCounter } from '../drop-counter.js';
import { createLogger, LOG_LEVEL_NAMES, type LogLevelName } from '../log.js';
import { RECEIVE_MODES, StreamReceiver, parseStreamAddress, type ReceiveMode } from '../transport/index.js';
import type { MalformedKind } from '../errors.js';
import { integerOption, numberOption } from './option-parsers.js';
import { untilSignal } from './run-cli.js';
import { formatMessageTable } from './message-table.js';

interface ReceiveOptions {
  source: string;
  mode: ReceiveMode;
  count?: number;
  json: boolean;
  timeout?: number;
  logLevel: LogLevelName;
}

export function registerReceive(program: Command): void {
  program
    .command('receive')
    .description('connect to a bsread source and print every message')
    .requiredOption('-s, --source <address>', 'source address, e.g. tcp://127.0.0.1:9999')
    .addOption(new Option('-m, --mode <mode>', 'socket type').choices(RECEIVE_MODES).default('pull'))
    .option('-n, --count <n>', 'exit 0 after this many messages', integerOption('--count', 1))
    .option('--json', "one JSON object per line per message (the test fixtures' value format)", false)
    .option('--timeout <seconds>', 'exit 1 when no message arrives for this long', numberOption('--timeout', 0.001))
    .addOption(new Option('--log_level <level>', 'log level').choices(LOG_LEVEL_NAMES).default('WARNING'))
    .action(async (opts: ReceiveOptions) => {
      parseStreamAddress(opts.source, '--source');
      const log = createLogger('bsread-receive', opts.logLevel);
      const drops = new DropCounter<MalformedKind | 'not_data'>(log, 'message');
      const decoder = new BsreadReceiver();
      const receiver = new StreamReceiver({ address: opts.source, mode: opts.mode, receiveTimeoutMs: 200 });
      const signal = untilSignal();
      let stopped = false;
      void signal.promise.then(() => (stopped = true));
      let received = 0;
      let lastMessageAt = Date.now();
      try {
        while (!stopped && (opts.count === undefined || received < opts.count)) {
          const frames = await receiver.receive();
          if (frames === null) {
            if (opts.timeout !== undefined && Date.now() - lastMessageAt > opts.timeout * 1000) {
              process.stderr.write(`bsread receive: no message from ${opts.source} for ${opts.timeout} s\n`);
              process.exitCode = 1;
              return;
            }
            continue;
          }
          lastMessageAt = Date.now();
          const r = decoder.tryOpen(frames);
          if (r.status === 'not_data') {
            drops.add('not_data', `htype ${r.htype}`);
            continue;
          }
          if (r.status === 'malformed') {
            drops.add(r.error.kind, r.error.message);
            continue;
          }
          received++;
          process.stdout.write((opts.json ? formatMessageJson(r.message) : formatMessageTable(r.message) + '\n') + '\n');
        }
      } finally {
        signal.dispose();
        receiver.close();
      }
    });
}
