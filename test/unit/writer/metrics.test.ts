// The shared Prometheus text formatter and the writer's /metrics rendering.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { escapeHelp, escapeLabelValue, formatValue, PrometheusText } from '../../../src/prometheus-text.js';
import { harness } from './acquisition-fakes.js';
import { renderWriterMetrics } from '../../../src/writer/metrics.js';

test('PrometheusText: HELP, TYPE, samples with escaped labels, null samples left out, suffixed samples', () => {
  const t = new PrometheusText()
    .metric('a_total', 'counter', 'A back\\slash\nand line', [
      [{}, 3],
      [{ k: 'q"uo\\te\nx' }, 1.5],
      [{ k: 'none' }, null],
    ])
    .family('lat_seconds', 'summary', 'latency', [
      ['_sum', {}, 0.25],
      ['_count', {}, 4],
    ]);
  assert.equal(
    t.toString(),
    [
      '# HELP a_total A back\\\\slash\\nand line',
      '# TYPE a_total counter',
      'a_total 3',
      'a_total{k="q\\"uo\\\\te\\nx"} 1.5',
      '# HELP lat_seconds latency',
      '# TYPE lat_seconds summary',
      'lat_seconds_sum 0.25',
      'lat_seconds_count 4',
      '',
    ].join('\n'),
  );
  assert.equal(escapeLabelValue('a"b'), 'a\\"b');
  assert.equal(escapeHelp('say "hi"'), 'say "hi"');
  assert.deepEqual([NaN, Infinity, -Infinity, 2e21, 0.1].map(formatValue), ['NaN', '+Inf', '-Inf', '2e+21', '0.1']);
});

test('renderWriterMetrics: one state sample per state, bsread_writer_ names, unknown values left out', () => {
  const h = harness();
  const text = renderWriterMetrics(h.acq.status(), h.acq.statistics());
  assert.match(text, /^bsread_writer_state\{state="waiting"\} 1$/m);
  assert.match(text, /^bsread_writer_state\{state="writing"\} 0$/m);
  assert.match(text, /^bsread_writer_messages_received_total 0$/m);
  assert.doesNotMatch(text, /^bsread_writer_progress_ratio /m, 'no range: no progress sample');
  assert.doesNotMatch(text, /^bsread_writer_last_pulse_id /m, 'nothing received');
  for (const line of text.trimEnd().split('\n')) assert.match(line, /^(# (HELP|TYPE) bsread_writer_\w+ .+|bsread_writer_\w+(\{[^}]*\})? \S+)$/);
});
