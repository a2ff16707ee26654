import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseBufferArgs } from '../../../src/cli/buffer-options.js';
import { parseByteSize, UsageError } from '../../../src/cli/option-parsers.js';

test('defaults of the original: -o 8082, -b 100, pull; replay port = output + 1', () => {
  const c = parseBufferArgs(['tcp://localhost:9999']);
  assert.equal(c.stream, 'tcp://localhost:9999');
  assert.equal(c.outputPort, 8082);
  assert.equal(c.replayPort, 8083);
  assert.equal(c.bufferLength, 100);
  assert.equal(c.mode, 'pull');
  assert.equal(c.inputReader, 'zmtp');
  assert.equal(c.bindHost, '127.0.0.1');
  assert.equal(c.statusPort, null);
});

test('-c defaults to sub; all options parse', () => {
  const c = parseBufferArgs([
    '-c',
    'x.txt',
    '-o',
    '9000',
    '-b',
    '5',
    '--buffer_seconds',
    '2.5',
    '--buffer_bytes',
    '2M',
    '--log_level',
    'DEBUG',
    '--analyzer',
    '--status_port',
    '9100',
    '--replay_port',
    '9200',
  ]);
  assert.equal(c.mode, 'sub');
  assert.equal(c.inputReader, 'libzmq');
  assert.equal(c.channelsFile, 'x.txt');
  assert.equal(c.outputPort, 9000);
  assert.equal(c.replayPort, 9200);
  assert.equal(c.bufferSeconds, 2.5);
  assert.equal(c.bufferBytes, 2 * 1024 * 1024);
  assert.equal(c.logLevel, 'DEBUG');
  assert.equal(c.analyzer, true);
  assert.equal(c.statusPort, 9100);
});

test('--input_reader: libzmq on request, for pull too', () => {
  assert.equal(parseBufferArgs(['tcp://a:1', '--input_reader', 'libzmq']).inputReader, 'libzmq');
  assert.equal(parseBufferArgs(['tcp://a:1', '--mode', 'sub']).inputReader, 'libzmq');
});

test('usage errors', () => {
  const bad: string[][] = [
    [],
    ['tcp://a:1', '-c', 'f'],
    ['not-an-address'],
    ['tcp://a:1', '-o', '70000'],
    ['tcp://a:1', '-o', 'x'],
    ['tcp://a:1', '-b', '0'],
    ['tcp://a:1', '-b', '1.5'],
    ['tcp://a:1', '--buffer_seconds', '-1'],
    ['tcp://a:1', '--buffer_bytes', 'lots'],
    ['tcp://a:1', '--log_level', 'LOUD'],
    ['tcp://a:1', '--mode', 'dealer'],
    ['tcp://a:1', '--input_reader', 'jeromq'],
    ['tcp://a:1', '--mode', 'sub', '--input_reader', 'zmtp'],
    ['tcp://a:1', '--replay_port', '8082'],
    ['tcp://a:1', '--bind_host', 'a b'],
    ['tcp://a:1', '--no_such_option'],
  ];
  for (const argv of bad) assert.throws(() => parseBufferArgs(argv), UsageError, argv.join(' '));
});

test('byte sizes', () => {
  assert.equal(parseByteSize('1024', '--buffer_bytes'), 1024);
  assert.equal(parseByteSize('1k', '--buffer_bytes'), 1024);
  assert.equal(parseByteSize('1.5G', '--buffer_bytes'), 1.5 * 1024 ** 3);
  assert.throws(() => parseByteSize('0', '--buffer_bytes'), UsageError);
});
