// The writer's choice between our buffer's replay service and a plain stream (findReplayService):
// a busy buffer that answers hello late must still be found, a port nobody listens on must not
// delay the start. Real zeromq.js ROUTER sockets on loopback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import * as zmq from 'zeromq';
import { createLogger } from '../../../src/log.js';
import { findReplayService } from '../../../src/writer/message-source.js';

const log = createLogger('test', 'CRITICAL');

/** Two free consecutive ports: the stream's and its replay port (stream + 1). */
async function freePortPair(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const p = (s.address() as AddressInfo).port;
    await new Promise((r) => s.close(r));
    if (p >= 65534) continue;
    const t = createServer();
    const ok = await new Promise<boolean>((r) => {
      t.once('error', () => r(false));
      t.listen(p + 1, '127.0.0.1', () => r(true));
    });
    if (ok) {
      await new Promise((r) => t.close(r));
      return p;
    }
  }
  throw new Error('no two free consecutive ports');
}

/** A replay service stand-in that answers hello after delayMs. */
async function slowReplayService(port: number, delayMs: number): Promise<{ close: () => void; hellos: () => number }> {
  const router = new zmq.Router({ linger: 0 });
  await router.bind(`tcp://127.0.0.1:${port}`);
  let hellos = 0;
  let open = true;
  const timers: NodeJS.Timeout[] = [];
  void (async () => {
    try {
      for await (const [id, , req] of router) {
        hellos++;
        const op = (JSON.parse(req!.toString()) as { op: string }).op;
        if (op !== 'hello') continue;
        const reply = { state: 'ok', service: 'sf_bsread_buffer', protocol: 1, instance: 'i', oldest_pulse_id: 5, newest_pulse_id: 9, depth: 5, framings: ['packed'] };
        const timer = setTimeout(() => {
          if (open) router.send([id!, Buffer.alloc(0), Buffer.from(JSON.stringify(reply))]).catch(() => {});
        }, delayMs);
        timers.push(timer);
      }
    } catch {
      // closed
    }
  })();
  return {
    close: () => {
      open = false;
      for (const t of timers) clearTimeout(t);
      router.close();
    },
    hellos: () => hellos,
  };
}

test('a buffer that answers hello after the probe timeout is still found (asked again, not given up)', async () => {
  const port = await freePortPair();
  const svc = await slowReplayService(port + 1, 800);
  try {
    const info = await findReplayService({ streamAddress: `tcp://127.0.0.1:${port}`, probeTimeoutMs: 200, log }, [2000]);
    assert.ok(info !== null, 'the replay service was found');
    assert.equal(info.newestPulseId, 9);
    assert.ok(svc.hellos() >= 2, 'asked more than once');
  } finally {
    svc.close();
  }
});

test('nothing listening on the replay port: a plain source, decided without the long retries', async () => {
  const port = await freePortPair();
  const t0 = Date.now();
  const info = await findReplayService({ streamAddress: `tcp://127.0.0.1:${port}`, probeTimeoutMs: 200, log }, [5000, 5000]);
  assert.equal(info, null);
  assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`);
});

test('an open replay port that never answers: a plain source after the retries', async () => {
  const port = await freePortPair();
  const svc = await slowReplayService(port + 1, 60_000);
  try {
    const t0 = Date.now();
    const info = await findReplayService({ streamAddress: `tcp://127.0.0.1:${port}`, probeTimeoutMs: 100, log }, [200, 200]);
    assert.equal(info, null);
    assert.ok(Date.now() - t0 >= 500, 'the retries were waited for');
    assert.equal(svc.hellos(), 3);
  } finally {
    svc.close();
  }
});
