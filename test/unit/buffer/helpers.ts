// Shared by the buffer's unit and integration tests: test messages and stored entries.
import { encodeMessage, frameAt, type MessageFrames } from '../../../src/bsread/index.js';
import type { StoredMessage } from '../../../src/buffer/stored-message.js';
import { packFrames } from '../../../src/transport/index.js';

/** A bsread message with `channels` float64 channels; channel "MISSING" (last) has no value when withMissing. */
export function testMessage(pulseId: number, opts: { channels?: number; withMissing?: boolean; sec?: number } = {}): Buffer[] {
  const n = opts.channels ?? 3;
  const sec = opts.sec ?? Math.floor(Date.now() / 1000);
  const channels = [];
  for (let i = 0; i < n; i++) channels.push({ def: { name: `CH-${i}`, type: 'float64' as const }, value: pulseId + i / 10 });
  if (opts.withMissing) channels.push({ def: { name: 'MISSING', type: 'float64' as const }, value: null });
  return encodeMessage({ pulseId, globalTimestamp: { sec, ns: 1000 }, channels });
}

export function stored(seq: number, pulseId: number, arrivalMs = 0, payloadBytes = 100): StoredMessage {
  const p = packFrames([Buffer.alloc(payloadBytes, pulseId % 256), Buffer.alloc(0)]);
  return { seq, pulseId, globalTimestamp: null, arrivalMs, data: p.data, offsets: p.offsets };
}

export function pulseIdOf(frames: MessageFrames): number {
  return (JSON.parse(Buffer.from(frameAt(frames, 0)!).toString('utf8')) as { pulse_id: number }).pulse_id;
}

import { startProgram, type RunningProgram } from '../../helpers/process.js';
import { waitFor } from '../../helpers/wait.js';

/** Starts the real sf_bsread_buffer and waits until it logged that it runs (or exited). */
export async function startBuffer(args: string[]): Promise<RunningProgram> {
  const p = startProgram('sf_bsread_buffer', args);
  let exited = false;
  void p.exited.then(() => (exited = true));
  await waitFor(
    'sf_bsread_buffer to start',
    () => {
      if (exited) throw new Error(`sf_bsread_buffer exited early: ${p.stderr()}`);
      return p.stderr().includes('buffer started');
    },
    15_000,
  );
  return p;
}

/** GET /status of a buffer started with --status_port. */
export async function bufferStatus(port: number): Promise<BufferStatusJson> {
  const r = await fetch(`http://127.0.0.1:${port}/status`);
  if (!r.ok) throw new Error(`status HTTP ${r.status}`);
  return (await r.json()) as BufferStatusJson;
}

export interface BufferStatusJson {
  input: { received: number; buffered: number; malformed: Record<string, number>; rate_hz: number; last_pulse_id: number | null };
  buffer: { depth: number; bytes: number; oldest_pulse_id: number | null; newest_pulse_id: number | null; evicted: number };
  output: { peers: number; sent: number; skipped: number; lag: number };
  replay: { consumers: { consumer_id: string; queue_depth: number; dropped: number; sent: number }[]; dropped: number };
  analyzer: null | { missing_pulses: number; missing_channel_values: Record<string, number>; malformed: Record<string, number>; messages: number };
}
