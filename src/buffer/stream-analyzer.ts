// The --analyzer: counts anomalies of the incoming stream. Pure (the clock is passed in); the
// buffer feeds it and logs what it reports, rate-limited.
import type { MalformedKind } from '../errors.js';
import type { Timestamp } from '../bsread/index.js';

export type AnomalyKind = 'pulse_gap' | 'pulse_duplicate' | 'pulse_backward' | 'pulse_zero' | 'timestamp_off' | 'channel_missing' | 'malformed';

export interface AnalyzerCounters {
  messages: number;
  /** Pulse ids skipped between consecutive messages (sum of the gaps). */
  missing_pulses: number;
  /** Times a gap was seen. */
  gaps: number;
  duplicated: number;
  backward: number;
  zero_pulse_id: number;
  /** global_timestamp more than maxClockSkewMs off the buffer's clock (or absent). */
  timestamp_off: number;
  /** Messages with at least one channel value missing. */
  messages_with_missing_channels: number;
  /** Per channel: messages in which its value was missing. */
  missing_channel_values: Record<string, number>;
  malformed: Record<string, number>;
  /**
   * Times the dispatcher stream was lost and requested again (-c). The pulse ids missed while it
   * was away are in missing_pulses and gaps, as for any gap.
   */
  stream_re_requests: number;
  last_pulse_id: number | null;
}

export interface StreamAnalyzerOptions {
  /** Default 10 minutes. */
  maxClockSkewMs?: number;
  /** Called once per anomaly (the caller rate-limits logging). */
  onAnomaly?: (kind: AnomalyKind, detail: string) => void;
  /** Channels tracked per name at most (the rest are summed under "(other)"). Default 10000. */
  maxTrackedChannels?: number;
}

export class StreamAnalyzer {
  private readonly skewMs: number;
  private readonly maxChannels: number;
  private readonly onAnomaly: (kind: AnomalyKind, detail: string) => void;
  private readonly missingByChannel = new Map<string, number>();
  private readonly malformedByKind = new Map<string, number>();
  private last: number | null = null;
  private c = { messages: 0, missing_pulses: 0, gaps: 0, duplicated: 0, backward: 0, zero_pulse_id: 0, timestamp_off: 0, messages_with_missing_channels: 0, stream_re_requests: 0 };

  constructor(opts: StreamAnalyzerOptions = {}) {
    this.skewMs = opts.maxClockSkewMs ?? 10 * 60 * 1000;
    this.maxChannels = opts.maxTrackedChannels ?? 10_000;
    this.onAnomaly = opts.onAnomaly ?? (() => {});
  }

  /** One data message's main header, at buffer time nowMs. */
  observe(pulseId: number, globalTimestamp: Timestamp | null, nowMs: number): void {
    this.c.messages++;
    const last = this.last;
    if (pulseId === 0) {
      this.c.zero_pulse_id++;
      this.onAnomaly('pulse_zero', 'pulse_id 0');
    }
    if (last !== null) {
      if (pulseId === last) {
        this.c.duplicated++;
        this.onAnomaly('pulse_duplicate', `pulse_id ${pulseId} repeated`);
      } else if (pulseId < last) {
        this.c.backward++;
        this.onAnomaly('pulse_backward', `pulse_id went back from ${last} to ${pulseId}`);
      } else if (pulseId > last + 1) {
        const n = pulseId - last - 1;
        this.c.gaps++;
        this.c.missing_pulses += n;
        this.onAnomaly('pulse_gap', `${n} pulse ids missing between ${last} and ${pulseId}`);
      }
    }
    this.last = pulseId;
    if (globalTimestamp === null) {
      this.c.timestamp_off++;
      this.onAnomaly('timestamp_off', `pulse_id ${pulseId} has no global_timestamp`);
    } else {
      const ms = globalTimestamp.sec * 1000 + globalTimestamp.ns / 1e6;
      const off = ms - nowMs;
      if (Math.abs(off) > this.skewMs) {
        this.c.timestamp_off++;
        this.onAnomaly('timestamp_off', `pulse_id ${pulseId}: global_timestamp is ${(off / 1000).toFixed(1)} s off the buffer's clock`);
      }
    }
  }

  /** The channels whose value was missing in one message (empty list: all present). */
  observeMissingChannels(pulseId: number, names: readonly string[]): void {
    if (names.length === 0) return;
    this.c.messages_with_missing_channels++;
    for (const name of names) {
      const key = this.missingByChannel.has(name) || this.missingByChannel.size < this.maxChannels ? name : '(other)';
      this.missingByChannel.set(key, (this.missingByChannel.get(key) ?? 0) + 1);
    }
    const shown = names.slice(0, 5).join(', ') + (names.length > 5 ? `, ... (${names.length} channels)` : '');
    this.onAnomaly('channel_missing', `pulse_id ${pulseId}: no value for ${shown}`);
  }

  malformed(kind: MalformedKind, detail: string): void {
    this.malformedByKind.set(kind, (this.malformedByKind.get(kind) ?? 0) + 1);
    this.onAnomaly('malformed', `${kind}: ${detail}`);
  }

  /** The dispatcher stream was lost and is requested again. */
  streamReRequested(): void {
    this.c.stream_re_requests++;
  }

  counters(): AnalyzerCounters {
    return {
      ...this.c,
      missing_channel_values: Object.fromEntries(this.missingByChannel),
      malformed: Object.fromEntries(this.malformedByKind),
      last_pulse_id: this.last,
    };
  }
}
