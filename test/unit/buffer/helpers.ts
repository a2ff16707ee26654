// Shared by the buffer's unit and integration tests: test messages and stored entries.
import { encodeMessage } from '../../../src/bsread/index.js';
import { packFrames, type StoredMessage } from '../../../src/buffer/stored-message.js';

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

export function pulseIdOf(frames: readonly Buffer[]): number {
  return (JSON.parse(frames[0]!.toString('utf8')) as { pulse_id: number }).pulse_id;
}
