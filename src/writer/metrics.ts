// The writer's /metrics: its statistics in the Prometheus text format (version 0.0.4). Pure.
// Counters start again from 0 at each acquisition (persistent mode); Prometheus sees a reset.
import { PrometheusText, type Sample } from '../prometheus-text.js';
import type { WriterStatistics, WriterStatus } from './acquisition.js';

export const WRITER_STATES: readonly WriterStatus[] = ['waiting', 'writing', 'finished', 'error'];

const one = (v: number | null): Sample[] => [[{}, v]];
const byLabel = (label: string, counts: Record<string, number>): Sample[] => Object.entries(counts).map(([k, v]) => [{ [label]: k }, v]);

export function renderWriterMetrics(status: WriterStatus, s: WriterStatistics): string {
  const t = new PrometheusText();
  t.metric(
    'bsread_writer_state',
    'gauge',
    'Writer state: 1 for the current one (waiting, writing, finished, error), 0 for the others',
    WRITER_STATES.map((x) => [{ state: x }, x === status ? 1 : 0]),
  );
  t.metric('bsread_writer_messages_received_total', 'counter', 'Messages received in this acquisition', one(s.messages_received));
  t.metric('bsread_writer_messages_written_total', 'counter', 'Messages written to the file (rows)', one(s.messages_written));
  t.metric('bsread_writer_discarded_total', 'counter', 'Data messages not written, by reason', [
    [{ reason: 'before_start' }, s.discarded_before_start],
    [{ reason: 'after_stop' }, s.discarded_after_stop],
    [{ reason: 'repeated' }, s.discarded_repeated],
  ]);
  t.metric('bsread_writer_control_messages_total', 'counter', 'Control messages (no data) received', one(s.control_messages));
  t.metric('bsread_writer_malformed_total', 'counter', 'Malformed messages dropped, by kind', byLabel('kind', s.malformed));
  t.metric('bsread_writer_channel_errors_total', 'counter', 'Channel values written as missing because they were unusable, by kind', byLabel('kind', s.channel_errors));
  t.metric('bsread_writer_missing_pulse_ids', 'gauge', 'Pulse ids of the range without a row (while writing: gaps so far; after: the summary)', one(s.missing_pulse_ids));
  t.metric('bsread_writer_replay_gap', 'gauge', 'Pulse ids the buffer no longer held when the replay started', one(s.replay_gap));
  t.metric('bsread_writer_source_dropped_total', 'counter', 'Messages the source dropped before the writer saw them', one(s.source_dropped));
  t.metric('bsread_writer_rows_per_second', 'gauge', 'Rows written per second (recent; after the acquisition: its mean)', one(s.progress.rows_per_s));
  t.metric('bsread_writer_received_per_second', 'gauge', 'Messages received per second (recent; after the acquisition: its mean)', one(s.progress.received_per_s));
  t.metric('bsread_writer_progress_ratio', 'gauge', 'Fraction of the pulse range handled, 0 to 1 (absent while the range is not known)', one(s.progress.fraction));
  t.metric('bsread_writer_eta_seconds', 'gauge', 'Seconds until the range is complete at the recent rate (absent when not known)', one(s.progress.eta_s));
  t.metric('bsread_writer_start_pulse_id', 'gauge', 'Requested start pulse id (absent when not set)', one(s.start_pulse_id));
  t.metric('bsread_writer_stop_pulse_id', 'gauge', 'Requested stop pulse id (absent when not set)', one(s.stop_pulse_id));
  t.metric('bsread_writer_last_pulse_id', 'gauge', 'Highest pulse id received (absent before the first message)', one(s.last_pulse_id < 0 ? null : s.last_pulse_id));
  t.metric('bsread_writer_flushes_total', 'counter', 'Flushes of the file (buffered rows appended, then H5Fflush)', one(s.flushes.count));
  t.metric('bsread_writer_flush_seconds_total', 'counter', 'Time spent in flushes of the file', one(s.flushes.total_seconds));
  t.metric('bsread_writer_last_flush_seconds', 'gauge', 'Duration of the last flush (absent before the first)', one(s.flushes.last_seconds));
  t.metric('bsread_writer_last_run_failed', 'gauge', 'The last acquisition ended with an error (1) or not (0)', one(s.last_error === null ? 0 : 1));
  return t.toString();
}
