// `bsread stats`: receive a stream (from -s, or a dispatcher stream of the named channels) and
// print its health once a second (like bsread_python's `bs stats`): rate, throughput,
// missed/duplicated/backward pulse ids, channels missing data.
import { Command } from 'commander';
import { BsreadReceiver, type BsreadMessage } from '../bsread/index.js';
import { StreamAnalyzer, type AnalyzerCounters } from '../buffer/stream-analyzer.js';
import { StreamReceiver } from '../transport/index.js';
import { integerOption } from './option-parsers.js';
import { untilSignal } from './run-cli.js';
import { openSource, sourceOptions, type OpenedSource, type SourceOptions } from './stream-source.js';

interface StatsOptions extends SourceOptions {
  count?: number;
  json: boolean;
}

/** Channels without a value in this message; `only` (if not empty) limits which are looked at. */
function missingChannels(msg: BsreadMessage, only: ReadonlySet<string>): string[] {
  const names: string[] = [];
  for (let i = 0; i < msg.channelCount; i++) {
    const name = msg.entry(i).name;
    if (!msg.isPresent(i) && (only.size === 0 || only.has(name))) names.push(name);
  }
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
  const cmd = program.command('stats');
  cmd
    .description('print rate, throughput and pulse id anomalies every second, of a source (-s) or of a dispatcher stream of the named channels')
    .argument('[channels...]', 'without -s: the channels to request from the dispatcher; with -s: the channels whose missing values are counted (default all)');
  for (const o of sourceOptions()) cmd.addOption(o);
  cmd
    .option('-n, --count <n>', 'exit 0 after this many messages', integerOption('--count', 1))
    .option('--json', 'print the final counters as JSON', false)
    .action(async (channels: string[], opts: StatsOptions) => {
      const analyzer = new StreamAnalyzer();
      const decoder = new BsreadReceiver();
      // Listen for Ctrl-C before asking the dispatcher, so that a stream is never left behind.
      const signal = untilSignal();
      let stopped = false;
      void signal.promise.then(() => (stopped = true));
      let receiver: StreamReceiver | null = null;
      let source: OpenedSource | null = null;
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
        source = await openSource('stats', channels, opts);
        if (stopped) return;
        receiver = new StreamReceiver({ address: source.address, mode: source.mode, receiveTimeoutMs: 200 });
        windowStart = Date.now();
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
          analyzer.observeMissingChannels(r.message.pulseId, missingChannels(r.message, source.only));
        }
        report(Date.now());
        if (opts.json) process.stdout.write(JSON.stringify(analyzer.counters()) + '\n');
      } finally {
        signal.dispose();
        receiver?.close();
        await source?.release();
      }
    });
}
