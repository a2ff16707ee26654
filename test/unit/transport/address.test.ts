import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStreamAddress } from '../../../src/transport/index.js';
import { BsreadError } from '../../../src/errors.js';

test('tcp://HOST:PORT addresses are parsed; ipc:// paths are accepted', () => {
  assert.deepEqual(parseStreamAddress('tcp://sf-daqbuf-30.psi.ch:9999'), { host: 'sf-daqbuf-30.psi.ch', port: 9999 });
  assert.deepEqual(parseStreamAddress('tcp://127.0.0.1:8082'), { host: '127.0.0.1', port: 8082 });
  assert.deepEqual(parseStreamAddress('tcp://*:8082'), { host: '*', port: 8082 });
  assert.deepEqual(parseStreamAddress('tcp://[::1]:5555'), { host: '[::1]', port: 5555 });
  assert.deepEqual(parseStreamAddress('ipc:///tmp/x.sock'), { ipc: '/tmp/x.sock' });
});

test('anything else is refused with a message naming the address and the expected form', () => {
  for (const bad of [
    '',
    'localhost:9999',
    'tcp://host',
    'tcp://host:',
    'tcp://:9999',
    'http://host:80',
    'tcp://host:0',
    'tcp://host:65536',
    'tcp://host:99999',
    'tcp://ho st:1',
    'ipc://',
  ]) {
    assert.throws(
      () => parseStreamAddress(bad, '--source'),
      (e: unknown) => e instanceof BsreadError && e.code === 'BSREAD_ERR_INVALID_ARGUMENT' && e.message.startsWith('--source'),
      bad,
    );
  }
});
