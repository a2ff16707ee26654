// `bsread stats`: receive a stream and print its health once a second (like bsread_python's
// `bs stats`): rate, throughput, missed/duplicated/backward pulse ids, channels missing data.
import { Command, Option } from 'commander';
import { BsreadReceiver, type BsreadMessage } from '../bsread/index.js';
import { StreamAnalyzer, type AnalyzerCounters } from '../buffer/stream-analyzer.js';
import { RECEIVE_MODES, StreamReceiver, parseStreamAddress, type ReceiveMode } from '../transport/index.js';
import { integerOption } from './option-parsers.js';
import { untilSignal } from './run-cli.js';

interface StatsOptions {
  source: string;
  mode: ReceiveMode;
  count?: number;
  json: boolean;
}

function missingChannels(msg: BsreadMessage): string[] {
  const names: string[] = [];
  for (let i = 0; i < msg.channelCount; i++) if (!msg.isPresent(i)) names.push(msg.entry(i).name);
  return names;
}

export function formatStatsLine(c: AnalyzerCounters, rateHz: number, mbPerS: number): string {
  const missingChannels = Object.entries(c.missing_channel_values)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)
    .map(([name, n]) => `${name}(${n})`)
    .join(' ');
  const malformed = Object.values(c.malformed).reduce((a, b) => a + b, 0);
  return (
    `messages ${c.messages}  rate ${rateHz.toFixed(1)} Hz  ${mbPerS.toFixed(2)} MB/s  last pulse_id ${c.last_pulse_id ?? '-'}  ` +
    `missed ${c.missing_pulses}  duplicated ${c.duplicated}  backward ${c.backward}  malformed ${malformed}` +
    (missingChannels ? `  missing data: ${missingChannels}` : '')
  );
}

export function registerStats(program: Command): void {
  program
    .command('stats')
    .description('receive a stream and print rate, throughput and pulse id anomalies every second')
    .requiredOption('-s, --source <address>', 'source address, e.g. tcp://127.0.0.1:9999')
    .addOption(new Option('-m, --mode <mode>', 'socket type').choices(RECEIVE_MODES).default('pull'))
    .option('-n, --count <n>', 'exit 0 after this many messages', integerOption('--count', 1))
    .option('--json', 'print the final counters as JSON', false)
    .action(async (opts: StatsOptions) => {
      parseStreamAddress(opts.source, '--source');
      const analyzer = new StreamAnalyzer();
      const decoder = new BsreadReceiver();
      const receiver = new StreamReceiver({ address: opts.source, mode: opts.mode, receiveTimeoutMs: 200 });
      const signal = untilSignal();
      let stopped = false;
      void signal.promise.then(() => (stopped = true));
      let windowStart = Date.now();
      let windowMessages = 0;
      let windowBytes = 0;
      const report = (now: number) => {
        const s = (now - windowStart) / 1000;
        const line = formatStatsLine(analyzer.counters(), s > 0 ? windowMessages / s : 0, s > 0 ? windowBytes / s / 1e6 : 0);
        process.stderr.write(line + '\n');
        windowStart = now;
        windowMessages = 0;
        windowBytes = 0;
      };
      try {
        while (!stopped && (opts.count === undefined || analyzer.counters().messages < opts.count)) {
          const frames = await receiver.receive();
          const now = Date.now();
          if (now - windowStart >= 1000) report(now);
          if (frames === null) continue;
          windowMessages++;
          for (const f of frames) windowBytes += f.length;
          const r = decoder.tryOpen(frames);
          if (r.status === 'malformed') {
            analyzer.malformed(r.error.kind, r.error.message);
            continue;
          }
          if (r.status === 'not_data') continue;
          analyzer.observe(r.message.pulseId, r.message.globalTimestamp, now);
          analyzer.observeMissingChannels(r.message.pulseId, missingChannels(r.message));
        }
        report(Date.now());
        if (opts.json) process.stdout.write(JSON.stringify(analyzer.counters()) + '\n');
      } finally {
        signal.dispose();
        receiver.close();
      }
    });
}
