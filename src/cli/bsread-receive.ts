// `bsread receive`: connect to a source, or ask the dispatcher for a stream of the named
// channels, and print each message.
import { Command, Option } from 'commander';
import { BsreadReceiver, formatMessageJson } from '../bsread/index.js';
import { DropCounter } from '../drop-counter.js';
import { createLogger, LOG_LEVEL_NAMES, type LogLevelName } from '../log.js';
import { StreamReceiver } from '../transport/index.js';
import { integerOption, numberOption } from './option-parsers.js';
import { untilSignal } from './run-cli.js';
import { formatMessageTable } from './message-table.js';
import { openCounting, openSource, sourceOptions, type OpenedSource, type SourceOptions, type ToolDrops } from './stream-source.js';

interface ReceiveOptions extends SourceOptions {
  count?: number;
  json: boolean;
  timeout?: number;
  log_level: LogLevelName;
}

export function registerReceive(program: Command): void {
  const cmd = program.command('receive');
  cmd
    .description('print every message of a source (-s), or of a dispatcher stream of the named channels')
    .argument('[channels...]', 'without -s: the channels to request from the dispatcher; with -s: the channels to print (default all)');
  for (const o of sourceOptions()) cmd.addOption(o);
  cmd
    .option('-n, --count <n>', 'exit 0 after this many messages', integerOption('--count', 1))
    .option('--json', "one JSON object per line per message (the test fixtures' value format)", false)
    .option('--timeout <seconds>', 'exit 1 when no message arrives for this long', numberOption('--timeout', 0.001))
    .addOption(new Option('--log_level <level>', 'log level').choices(LOG_LEVEL_NAMES).default('WARNING'))
    .action(async (channels: string[], opts: ReceiveOptions) => {
      const log = createLogger('bsread-receive', opts.log_level);
      const drops: ToolDrops = new DropCounter(log, 'message');
      const decoder = new BsreadReceiver();
      // Listen for Ctrl-C before asking the dispatcher, so that a stream is never left behind.
      const signal = untilSignal();
      let stopped = false;
      void signal.promise.then(() => (stopped = true));
      let receiver: StreamReceiver | null = null;
      let source: OpenedSource | null = null;
      try {
        source = await openSource('receive', channels, opts);
        if (stopped) return;
        receiver = new StreamReceiver({ address: source.address, mode: source.mode, receiveTimeoutMs: 200 });
        let received = 0;
        let lastMessageAt = Date.now();
        let checkedNames = false;
        while (!stopped && (opts.count === undefined || received < opts.count)) {
          const frames = await receiver.receive();
          if (frames === null) {
            if (opts.timeout !== undefined && Date.now() - lastMessageAt > opts.timeout * 1000) {
              process.stderr.write(`bsread receive: no message from ${source.address} for ${opts.timeout} s\n`);
              process.exitCode = 1;
              return;
            }
            continue;
          }
          lastMessageAt = Date.now();
          const msg = openCounting(decoder, frames, drops);
          if (msg === null) continue;
          if (!checkedNames && source.only.size > 0) {
            // A misspelt filter name would otherwise just print nothing for it.
            checkedNames = true;
            const present = new Set(msg.channels.map((c) => c.name));
            const absent = [...source.only].filter((n) => !present.has(n));
            if (absent.length > 0) process.stderr.write(`bsread receive: warning: not in the stream: ${absent.join(', ')}\n`);
          }
          received++;
          const text = opts.json ? formatMessageJson(msg, source.only) : formatMessageTable(msg, source.only) + '\n';
          process.stdout.write(text + '\n');
        }
      } finally {
        signal.dispose();
        receiver?.close();
        await source?.release();
      }
    });
}
