// The demo behind `npm start`: the whole system on one machine, as at SwissFEL but with
// simulated sources. An embedded dispatcher serves simulated channels; the buffer asks it for a
// stream of a few dozen channels (camera included) from a channels file; a writer is started as
// a DAQ system would start it; after a few seconds the demo, acting as the DAQ system, asks the
// writer over REST for a pulse range that starts in the past; the writer writes it and exits;
// the demo prints a summary of the file and stops everything.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DispatcherClient } from '../dispatcher/dispatcher-client.js';
import { summarizeSwissFelFile, type FileSummary } from '../writer/file-summary.js';
import { ChildProgram } from './child-program.js';
import { NatsServer } from './nats-server.js';
import { freePort } from './ports.js';
import { sleep, waitFor } from './wait.js';

export interface DemoOptions {
  /** Where the channels file and the HDF5 file go. */
  outputDir: string;
  /** Channels asked for (the camera is always added). */
  channels: number;
  /** Seconds of stream to buffer before the acquisition is asked for. */
  warmupSeconds: number;
  /** How far back the acquisition starts, in pulses (100 Hz). */
  pastPulses: number;
  /** Pulses to write. */
  pulses: number;
  /** Keep the recent past in NATS JetStream: a nats-server started (and stopped) by the demo. */
  jetstream: boolean;
  log: (line: string) => void;
}

export const DEFAULT_DEMO_OPTIONS: Omit<DemoOptions, 'log'> = {
  outputDir: 'demo-output',
  channels: 40,
  warmupSeconds: 4,
  pastPulses: 200,
  pulses: 300,
  jetstream: false,
};

const CAMERA = 'SLG-LCAM-C041:FPICTURE';

async function http(method: string, url: string, body?: unknown): Promise<unknown> {
  const init: RequestInit = { method, signal: AbortSignal.timeout(5000) };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { 'content-type': 'application/json' };
  }
  const res = await fetch(url, init);
  const text = await res.text();
  const json: unknown = text === '' ? {} : JSON.parse(text);
  if (!res.ok || (typeof json === 'object' && json !== null && (json as { state?: unknown }).state === 'error')) {
    throw new Error(`${method} ${url} failed: HTTP ${res.status} ${text}`);
  }
  return json;
}

interface BufferStatusView {
  buffer: { depth: number; bytes: number; oldest_pulse_id: number | null; newest_pulse_id: number | null };
  input: { rate_hz: number; received: number };
  jetstream: { stream_messages: number | null; stream_bytes: number | null; first_pulse_id: number | null; last_pulse_id: number | null; published: number } | null;
}

function fmtBytes(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${(n / 1e3).toFixed(1)} kB`;
}

export function formatSummary(s: FileSummary, requested: [number, number]): string[] {
  const camera = s.channels.find((c) => c.name === CAMERA);
  const lines = [
    `file          ${resolve(s.path)} (${fmtBytes(s.bytes)})`,
    `requested     pulses ${requested[0]} .. ${requested[1]} (${requested[1] - requested[0] + 1} pulses)`,
    `written       ${s.rows} rows per channel, pulses ${s.firstPulseId} .. ${s.lastPulseId}`,
    `missing       ${s.missingPulseIds} pulse ids inside the written range`,
    `channels      ${s.channels.length} (${s.channels.filter((c) => c.data === null).length} never had a value)`,
  ];
  if (camera) lines.push(`camera        ${camera.name}: ${camera.data} with ${camera.present} images`);
  const few = s.channels.filter((c) => c.name !== CAMERA).slice(0, 4);
  for (const c of few) lines.push(`  ${c.name.padEnd(40)} ${c.data ?? '(no data)'}  ${c.present}/${c.rows} present`);
  if (s.channels.length > few.length + 1) lines.push(`  ... and ${s.channels.length - few.length - (camera ? 1 : 0)} more`);
  const g = Object.entries(s.general)
    .map(([k, v]) => `${k}=${v}`)
    .join('  ');
  if (g) lines.push(`/general      ${g}`);
  return lines;
}

export async function runDemo(opts: DemoOptions): Promise<FileSummary> {
  const log = opts.log;
  const children: ChildProgram[] = [];
  const start = (name: string, args: string[]) => {
    const c = new ChildProgram(name, args, { keepChars: 64_000 });
    children.push(c);
    return c;
  };
  const t0 = Date.now();
  const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s`;
  const step = (n: number, text: string) => log(`[${elapsed()}] ${n}/7 ${text}`);
  const outDir = resolve(opts.outputDir);
  mkdirSync(outDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const h5Path = join(outDir, `demo-${stamp}.h5`);
  let nats: NatsServer | null = null;

  try {
    // 1. The embedded dispatcher: stands in for SwissFEL's dispatching layer.
    const dispatcherPort = await freePort();
    const dispatcherUrl = `http://127.0.0.1:${dispatcherPort}`;
    const dispatcher = start('bsread', ['dispatcher', '--port', String(dispatcherPort), '--log_level', 'WARNING']);
    const live = await waitFor(
      'the dispatcher',
      async () => {
        if (!dispatcher.running) throw new Error(`dispatcher exited: ${dispatcher.stderr()}`);
        return await new DispatcherClient(dispatcherUrl, 5000).liveChannels();
      },
      10_000,
      100,
    );
    const known = live.map((c) => c.name);
    step(1, `embedded dispatcher on ${dispatcherUrl}: ${known.length} simulated SwissFEL channels`);

    // 2. A channels file, in the plain-text format of the original buffer.
    const chosen = known.filter((c) => c !== CAMERA).slice(0, opts.channels);
    if (known.includes(CAMERA)) chosen.push(CAMERA);
    const channelsFile = join(outDir, 'channels.txt');
    writeFileSync(channelsFile, `# channels for the demo buffer, one per line\n${chosen.join('\n')}\n`);
    step(2, `channels file with ${chosen.length} channels (camera ${CAMERA} included): ${channelsFile}`);

    // 3. The buffer asks the dispatcher for a stream of those channels and keeps the recent past.
    const outputPort = await freePort();
    const statusPort = await freePort();
    const bufferArgs = [
      '-c',
      channelsFile,
      '--dispatcher_url',
      dispatcherUrl,
      '-o',
      String(outputPort),
      '-b',
      '1500',
      '--buffer_seconds',
      '15',
      '--buffer_bytes',
      '1500M',
      '--status_port',
      String(statusPort),
      '--log_level',
      'WARNING',
    ];
    if (opts.jetstream) {
      nats = await NatsServer.start();
      bufferArgs.push('--jetstream', nats.url, '--jetstream_stream', 'DEMO');
      log(`          nats-server with JetStream on ${nats.url}, store ${nats.storeDir}`);
    }
    const buffer = start('sf_bsread_buffer', bufferArgs);
    step(3, `buffer: sf_bsread_buffer ${bufferArgs.join(' ')}`);
    const bufferStatus = async () => (await http('GET', `http://127.0.0.1:${statusPort}/status`)) as BufferStatusView;
    const warmupEnd = Date.now() + opts.warmupSeconds * 1000;
    await waitFor(
      'the buffer to receive data',
      async () => {
        if (!buffer.running) throw new Error(`buffer exited: ${buffer.stderr()}`);
        const s = await bufferStatus();
        return s.buffer.depth > 0 && (nats === null || (s.jetstream?.last_pulse_id ?? null) !== null) ? s : null;
      },
      15_000,
      100,
    );
    // 4. The writer, started as a DAQ system starts the original: stream address, file, uid, port.
    const restPort = await freePort();
    const source = nats !== null ? `${nats.url}/DEMO` : `tcp://127.0.0.1:${outputPort}`;
    const writerArgs = [source, h5Path, '-1', String(restPort), '--log_level', 'WARNING'];
    const writer = start('sf_bsread_writer', writerArgs);
    const rest = `http://127.0.0.1:${restPort}`;
    await waitFor(
      'the writer REST API',
      async () => {
        if (!writer.running) throw new Error(`writer exited: ${writer.stderr()}`);
        return await http('GET', `${rest}/status`);
      },
      15_000,
      100,
    );
    step(4, `writer: sf_bsread_writer ${writerArgs.join(' ')}`);
    while (Date.now() < warmupEnd) {
      const s = await bufferStatus();
      log(
        `          buffer holds ${s.buffer.depth} messages (${fmtBytes(s.buffer.bytes)}), pulses ${s.buffer.oldest_pulse_id} .. ${s.buffer.newest_pulse_id}, ${s.input.rate_hz.toFixed(0)} Hz`,
      );
      const j = s.jetstream;
      if (j !== null) {
        log(
          `          JetStream stream DEMO holds ${j.stream_messages ?? '?'} messages (${fmtBytes(j.stream_bytes ?? 0)}), pulses ${j.first_pulse_id ?? '?'} .. ${j.last_pulse_id ?? '?'}`,
        );
      }
      await sleep(1000);
    }

    // 5.-6. The DAQ system's calls: parameters, then a range that started in the past.
    await http('POST', `${rest}/parameters`, {
      'general/created': new Date().toISOString(),
      'general/user': process.env.USER ?? 'demo',
      'general/process': 'sf-bsread demo',
      'general/instrument': 'simulated SwissFEL',
    });
    step(5, `POST ${rest}/parameters (general/created, user, process, instrument)`);
    const now = await bufferStatus();
    // With JetStream the writer reads the stream: the range is placed in what the stream holds.
    const newest = nats !== null ? (now.jetstream?.last_pulse_id ?? null) : now.buffer.newest_pulse_id;
    if (newest === null) throw new Error('the buffer holds no message');
    const startPulse = newest - opts.pastPulses;
    const stopPulse = startPulse + opts.pulses - 1;
    await http('PUT', `${rest}/start_pulse_id/${startPulse}`);
    await http('PUT', `${rest}/stop_pulse_id/${stopPulse}`);
    step(6, `PUT /start_pulse_id/${startPulse} (${opts.pastPulses} pulses = ${opts.pastPulses / 100} s in the past), PUT /stop_pulse_id/${stopPulse}`);

    let lastLine = 0;
    while (writer.running) {
      if (Date.now() - lastLine >= 1000) {
        lastLine = Date.now();
        try {
          const st = (await http('GET', `${rest}/statistics`)) as { status: string; statistics: { last_pulse_id?: number; messages_written?: number } };
          const s = st.statistics;
          log(`          writer ${st.status}: last pulse ${s.last_pulse_id ?? '?'}, written ${s.messages_written ?? '?'}`);
        } catch {
          // the writer may exit between two polls
        }
      }
      await Promise.race([writer.exited, sleep(200)]);
      if (Date.now() - t0 > 50_000) throw new Error('the writer did not finish in time');
    }
    const code = await writer.exited;
    if (code !== 0) throw new Error(`the writer exited with ${code}: ${writer.stderr()}`);
    step(7, `writer finished and exited 0; stopping the buffer and the dispatcher`);
    const summary = summarizeSwissFelFile(h5Path);
    for (const line of formatSummary(summary, [startPulse, stopPulse])) log(`          ${line}`);
    return summary;
  } finally {
    await Promise.all(children.reverse().map((c) => c.stop()));
    await nats?.stop('SIGTERM', { removeStore: true });
  }
}
