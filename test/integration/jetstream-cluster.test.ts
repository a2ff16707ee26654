// No single point of failure (docs/scale-out.md): a 3-node cluster of Debian's nats-server on
// loopback, a stream with 3 replicas, two buffers subscribed to one PUB source, and a writer
// given all three servers. Processes are killed during the acquisition; the file must hold the
// range exactly, once each, every value as sent.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { NatsCluster } from '../../src/demo/nats-server.js';
import { JetStreamConnection } from '../../src/jetstream/index.js';
import { createLogger } from '../../src/log.js';
import { h5py } from '../helpers/h5py.js';
import { freePort } from '../helpers/net.js';
import { stopAllPrograms } from '../helpers/process.js';
import { StreamSender } from '../helpers/stream-sender.js';
import { waitFor } from '../helpers/wait.js';
import { bufferStatus, startBuffer } from '../unit/buffer/helpers.js';
import { PARAMETERS, range, READ_FILE, startWriter, testMessage, type FileContent } from './writer-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'jetstream-cluster-'));
const clusters: NatsCluster[] = [];
const senders: StreamSender[] = [];
after(async () => {
  for (const s of senders) s.close();
  await stopAllPrograms();
  await Promise.all(clusters.map((c) => c.stop()));
  rmSync(dir, { recursive: true, force: true });
});

const quiet = createLogger('test', 'ERROR');

/** Waits until the cluster's JetStream answers (a meta leader is elected). */
async function jetStreamReady(cluster: NatsCluster): Promise<void> {
  const conn = await JetStreamConnection.open({ servers: cluster.nodes.map((n) => `127.0.0.1:${n.port}`), name: 'test', log: quiet });
  try {
    await waitFor('the cluster JetStream', async () => (await conn.jsm.getAccountInfo()) !== null, 30_000, 200);
  } finally {
    await conn.close();
  }
}

async function streamLeader(cluster: NatsCluster, stream: string): Promise<string> {
  const conn = await JetStreamConnection.open({ servers: cluster.nodes.map((n) => `127.0.0.1:${n.port}`), name: 'test', log: quiet });
  try {
    const info = await conn.jsm.streams.info(stream);
    const leader = info.cluster?.leader;
    assert.ok(leader, 'the stream has a leader');
    return leader;
  } finally {
    await conn.close();
  }
}

interface Js {
  published: number;
  duplicates: number;
  last_published_pulse_id: number | null;
}

async function run(kill: 'writer-node' | 'leader', stream: string): Promise<void> {
  const cluster = await NatsCluster.start(3, { baseDir: join(dir, stream) });
  clusters.push(cluster);
  await jetStreamReady(cluster);
  const src = await StreamSender.bind({ address: 'tcp://127.0.0.1:0', mode: 'pub', highWaterMark: 10_000 });
  senders.push(src);
  const buffers = [];
  const statusPorts: number[] = [];
  for (let i = 0; i < 2; i++) {
    const statusPort = await freePort();
    statusPorts.push(statusPort);
    buffers.push(
      await startBuffer([
        src.endpoint,
        '--mode',
        'sub',
        '-o',
        String(await freePort()),
        '--replay_port',
        String(await freePort()),
        '--status_port',
        String(statusPort),
        '-b',
        '2000',
        '--jetstream',
        cluster.urls,
        '--jetstream_stream',
        stream,
        '--replicas',
        '3',
      ]),
    );
  }
  const file = join(dir, `${stream}.h5`);
  const writer = await startWriter(`nats://${cluster.hostPorts}/${stream}`, file);
  assert.equal((await writer.call('POST', '/parameters', JSON.stringify(PARAMETERS))).state, 'ok');
  assert.equal((await writer.call('PUT', '/stop_pulse_id/650')).state, 'ok');
  // SUB drops what is sent before the subscription is in place: wait until both buffers receive.
  let p = 1;
  const tick = async (): Promise<void> => {
    await src.send(testMessage(p++));
    await new Promise((r) => setTimeout(r, 10));
  };
  await waitFor(
    'both buffers to receive',
    async () => {
      await tick();
      const s = await Promise.all(statusPorts.map((port) => bufferStatus(port)));
      return s.every((x) => x.input.received > 0);
    },
    20_000,
    0,
  );
  assert.ok(p < 51, `the source had to send ${p} pulses before both buffers received`);
  assert.equal((await writer.call('PUT', '/start_pulse_id/51')).state, 'ok');
  while (p <= 250) await tick();
  await buffers[0]!.stop('SIGKILL');
  while (p <= 400) await tick();
  let victim: string;
  if (kill === 'leader') victim = await streamLeader(cluster, stream);
  else {
    const port = Number(/"server":"127\.0\.0\.1:(\d+)","from_pulse_id"/.exec(writer.proc.stderr())?.[1]);
    victim = cluster.names[cluster.nodes.findIndex((n) => n.port === port)]!;
    assert.ok(victim, `the writer's server (port ${port}) is one of the cluster's`);
  }
  await cluster.node(victim)!.stop('SIGKILL');
  while (p <= 700) await tick();
  const code = await Promise.race([writer.proc.exited, new Promise((r) => setTimeout(() => r('timeout'), 60_000))]);
  if (code !== 0) {
    const stats = await writer.call('GET', '/statistics').catch((e: unknown) => String(e));
    assert.fail(`the writer did not finish (${String(code)}): ${JSON.stringify(stats)}\n${writer.proc.stderr().slice(-3000)}`);
  }
  const survivor = ((await bufferStatus(statusPorts[1]!)) as unknown as { jetstream: Js }).jetstream;
  assert.ok(survivor.published > 0, 'the second buffer stored the pulses after the first died');
  await buffers[1]!.stop();

  const c = await h5py<FileContent>(file, READ_FILE);
  const want = range(51, 650);
  assert.deepEqual(c.pulse_id, want);
  assert.deepEqual(
    c.scalar,
    want.map((x) => x * 1.5),
  );
  assert.deepEqual(
    c.pair,
    want.map((x) => [x, -x]),
  );
  assert.deepEqual(
    c.text,
    want.map((x) => `p${x}`),
  );
}

test('3 nodes, replicas 3, two buffers: one buffer and the node the writer reads from are SIGKILLed; the file holds 51..650 exactly', { timeout: 180_000 }, async () => {
  await run('writer-node', 'R3A');
});

test('the same with the stream leader SIGKILLed', { timeout: 180_000 }, async () => {
  await run('leader', 'R3B');
});
