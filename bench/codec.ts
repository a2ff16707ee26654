// Decoding bsread messages: the writer's per-message cost with 1000 float64 scalar channels
// (main header, data header through the hash cache, every value), against a plain copy of the
// same frames' bytes. Env: BENCH_CODEC_CHANNELS (default 1000), BENCH_CODEC_MS (per measure).
import { BsreadReceiver, encodeMessage, prepareDataHeader, readMainHeader, resolveChannelDef, type BsreadMessage } from '../src/bsread/index.js';
import { opsPerSecond, type BenchOptions, type BenchRow } from './table.js';

function makeMessages(channels: number, count: number): Buffer[][] {
  const defs = Array.from({ length: channels }, (_, i) => resolveChannelDef({ name: `SAR-BENCH-${String(i).padStart(4, '0')}:VALUE`, type: 'float64' }));
  const header = prepareDataHeader(defs);
  const out: Buffer[][] = [];
  for (let k = 0; k < count; k++) {
    const globalTimestamp = { sec: 1_700_000_000 + k, ns: 10_000_000 * k };
    out.push(
      encodeMessage({
        pulseId: 10_000_000_000 + k,
        globalTimestamp,
        header,
        channels: defs.map((def, i) => ({ def, value: Math.sin(i + k) })),
      }),
    );
  }
  return out;
}

export async function run(opts: BenchOptions): Promise<BenchRow[]> {
  const channels = Number(process.env['BENCH_CODEC_CHANNELS'] ?? 1000);
  const ms = Number(process.env['BENCH_CODEC_MS'] ?? (opts.quick ? 300 : 2000));
  const messages = makeMessages(channels, 16);
  const receiver = new BsreadReceiver();
  let k = 0;
  let sink = 0;

  const baseline = opsPerSecond(() => {
    sink += Buffer.concat(messages[k++ % messages.length]!).length;
  }, ms);

  const decodeAll = opsPerSecond(() => {
    const msg = receiver.open(messages[k++ % messages.length]!) as BsreadMessage;
    for (let i = 0; i < msg.channelCount; i++) sink += msg.value(i) as number;
  }, ms);

  const writerPath = opsPerSecond(() => {
    const msg = receiver.open(messages[k++ % messages.length]!) as BsreadMessage;
    for (let i = 0; i < msg.channelCount; i++) {
      if (msg.isPresent(i)) sink += msg.bytes(i)!.length + msg.def(i).elements;
    }
  }, ms);

  const mainOnly = opsPerSecond(() => {
    const h = readMainHeader(messages[k++ % messages.length]!);
    if (h.kind === 'data') sink += h.pulseId;
  }, ms);

  if (Number.isNaN(sink)) process.stderr.write('');
  const label = `${channels} float64 scalars`;
  const copy = 'Buffer.concat of the same frames';
  return [
    {
      measure: `decode ${label}: open (cached header) + value() of every channel`,
      ours: decodeAll,
      baseline,
      baselineName: copy,
      unit: 'msg/s',
      goal: '>= 5000 msg/s',
      met: decodeAll >= 5000,
    },
    {
      measure: `decode ${label}: open + isPresent/def/bytes() (writer path)`,
      ours: writerPath,
      baseline,
      baselineName: copy,
      unit: 'msg/s',
      goal: '>= 5000 msg/s',
      met: writerPath >= 5000,
    },
    {
      measure: `readMainHeader, ${label} (buffer path)`,
      ours: mainOnly,
      baseline,
      baselineName: copy,
      unit: 'msg/s',
      goal: '>= baseline',
      met: mainOnly >= baseline,
    },
  ];
}
