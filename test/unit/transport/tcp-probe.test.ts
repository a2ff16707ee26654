import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { probeTcp } from '../../../src/transport/tcp-probe.js';

test('probeTcp: open while something listens, refused once it is closed, unknown for a non-TCP address', async () => {
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  assert.equal(await probeTcp(`tcp://127.0.0.1:${port}`), 'open');
  await new Promise<void>((r) => server.close(() => r()));
  assert.equal(await probeTcp(`tcp://127.0.0.1:${port}`), 'refused');
  assert.equal(await probeTcp('ipc:///tmp/some-socket'), 'unknown');
  assert.equal(await probeTcp('not an address'), 'unknown');
});
