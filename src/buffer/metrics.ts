// BufferStatus → Prometheus text exposition format (version 0.0.4). Pure; the format itself is
// src/prometheus-text.ts, shared with the writer.
import { PrometheusText, type MetricType, type Sample } from '../prometheus-text.js';
import type { BufferStatus } from './buffer-service.js';

export function renderMetrics(s: BufferStatus): string {
  const text = new PrometheusText();
  const metric = (name: string, type: MetricType, help: string, samples: Sample[]): void => {
    text.metric(name, type, help, samples);
  };
  metric('bsread_buffer_received_total', 'counter', 'Messages received from the source', [[{}, s.input.received]]);
  metric('bsread_buffer_buffered_total', 'counter', 'Data messages stored in the ring', [[{}, s.input.buffered]]);
  metric('bsread_buffer_not_data_total', 'counter', 'Control messages ignored', [[{}, s.input.not_data]]);
  metric(
    'bsread_buffer_malformed_total',
    'counter',
    'Malformed messages dropped, by kind',
    Object.entries(s.input.malformed).map(([k, v]) => [{ kind: k }, v]),
  );
  metric('bsread_buffer_oversized_total', 'counter', 'Messages too big to keep (4 GiB or more, or no memory), dropped', [[{}, s.input.oversized]]);
  metric('bsread_buffer_input_protocol_errors_total', 'counter', 'Connections to the source ended because it broke the ZeroMQ protocol (zmtp reader)', [
    [{}, s.input.protocol_errors],
  ]);
  metric('bsread_buffer_intake_rate_hz', 'gauge', 'Messages per second received', [[{}, s.input.rate_hz]]);
  metric('bsread_buffer_depth_messages', 'gauge', 'Messages held', [[{}, s.buffer.depth]]);
  metric('bsread_buffer_depth_bytes', 'gauge', 'Bytes held', [[{}, s.buffer.bytes]]);
  metric('bsread_buffer_oldest_pulse_id', 'gauge', 'Pulse id of the oldest message held', [[{}, s.buffer.oldest_pulse_id]]);
  metric('bsread_buffer_newest_pulse_id', 'gauge', 'Pulse id of the newest message held', [[{}, s.buffer.newest_pulse_id]]);
  metric('bsread_buffer_evicted_total', 'counter', 'Messages evicted by the depth limits', [[{}, s.buffer.evicted]]);
  metric('bsread_buffer_output_sent_total', 'counter', 'Messages sent on the compatible output', [[{}, s.output.sent]]);
  metric('bsread_buffer_output_skipped_total', 'counter', 'Messages evicted before the compatible output sent them', [[{}, s.output.skipped]]);
  metric('bsread_buffer_output_lag_messages', 'gauge', 'Messages the compatible output is behind', [[{}, s.output.lag]]);
  metric('bsread_buffer_output_peers', 'gauge', 'Readers connected to the compatible output', [[{}, s.output.peers]]);
  metric('bsread_buffer_replay_consumers', 'gauge', 'Replay consumers open', [[{}, s.replay.consumers.length]]);
  metric('bsread_buffer_replay_dropped_total', 'counter', 'Messages dropped for replay consumers (all)', [[{}, s.replay.dropped]]);
  metric(
    'bsread_buffer_consumer_queue_depth',
    'gauge',
    'Messages queued per replay consumer',
    s.replay.consumers.map((c) => [{ consumer: c.consumer_id }, c.queue_depth]),
  );
  metric(
    'bsread_buffer_consumer_dropped_total',
    'counter',
    'Messages dropped per replay consumer',
    s.replay.consumers.map((c) => [{ consumer: c.consumer_id }, c.dropped]),
  );
  metric(
    'bsread_buffer_consumer_sent_total',
    'counter',
    'Messages sent per replay consumer',
    s.replay.consumers.map((c) => [{ consumer: c.consumer_id }, c.sent]),
  );
  const a = s.analyzer;
  if (a !== null) {
    metric('bsread_analyzer_missing_pulses_total', 'counter', 'Pulse ids missing between consecutive messages', [[{}, a.missing_pulses]]);
    metric('bsread_analyzer_duplicated_total', 'counter', 'Repeated pulse ids', [[{}, a.duplicated]]);
    metric('bsread_analyzer_backward_total', 'counter', 'Pulse ids lower than the previous one', [[{}, a.backward]]);
    metric('bsread_analyzer_zero_pulse_id_total', 'counter', 'Messages with pulse id 0', [[{}, a.zero_pulse_id]]);
    metric('bsread_analyzer_timestamp_off_total', 'counter', 'Global timestamps more than 10 minutes off the buffer clock', [[{}, a.timestamp_off]]);
    metric(
      'bsread_analyzer_missing_channel_values_total',
      'counter',
      'Messages without a value, per channel',
      Object.entries(a.missing_channel_values).map(([k, v]) => [{ channel: k }, v]),
    );
  }
  const d = s.dispatcher;
  if (d !== null) {
    metric('bsread_buffer_dispatcher_connected', 'gauge', 'The dispatcher stream is connected (1) or being requested again (0)', [[{}, d.state === 'connected' ? 1 : 0]]);
    metric('bsread_buffer_dispatcher_requests_total', 'counter', 'POST /stream requests sent to the dispatcher', [[{}, d.requests]]);
    metric('bsread_buffer_dispatcher_failed_requests_total', 'counter', 'Dispatcher stream requests that failed', [[{}, d.failed_requests]]);
    metric('bsread_buffer_dispatcher_re_requests_total', 'counter', 'Times the dispatcher stream ended and was requested again', [[{}, d.re_requests]]);
  }
  const j = s.jetstream;
  if (j !== null) {
    const b = (v: boolean): number => (v ? 1 : 0);
    metric('bsread_jetstream_connected', 'gauge', 'Connected to a NATS server with the stream ready (1) or not (0)', [[{ stream: j.stream }, b(j.ready && j.connected)]]);
    metric('bsread_jetstream_published_total', 'counter', 'Messages stored in JetStream', [[{ stream: j.stream }, j.published]]);
    metric('bsread_jetstream_duplicates_total', 'counter', 'Messages JetStream already held (same pulse id)', [[{ stream: j.stream }, j.duplicates]]);
    metric('bsread_jetstream_pending_acks', 'gauge', 'Messages published and not yet acknowledged', [[{ stream: j.stream }, j.pending_acks]]);
    metric('bsread_jetstream_failures_total', 'counter', 'Publishes that failed (republished)', [[{ stream: j.stream }, j.failures]]);
    metric('bsread_jetstream_given_up_total', 'counter', 'Messages evicted from memory before JetStream took them', [[{ stream: j.stream }, j.given_up]]);
    metric('bsread_jetstream_lag_messages', 'gauge', 'Messages in memory not yet published', [[{ stream: j.stream }, j.lag]]);
    metric('bsread_jetstream_stream_messages', 'gauge', 'Messages the stream holds', [[{ stream: j.stream }, j.stream_messages]]);
    metric('bsread_jetstream_stream_bytes', 'gauge', 'Bytes the stream holds', [[{ stream: j.stream }, j.stream_bytes]]);
    metric('bsread_jetstream_first_pulse_id', 'gauge', "Pulse id of the stream's first message", [[{ stream: j.stream }, j.first_pulse_id]]);
    metric('bsread_jetstream_last_pulse_id', 'gauge', "Pulse id of the stream's last message", [[{ stream: j.stream }, j.last_pulse_id]]);
  }
  return text.toString();
}
