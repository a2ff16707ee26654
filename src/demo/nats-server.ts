// A real nats-server with JetStream as a child process, on a loopback port, with its own store
// folder: for the demo (`npm start -- --jetstream`), the tests and the benchmarks. Stopped by
// whoever starts it; killed with this process at the latest.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePort } from './ports.js';

/** Debian installs nats-server in /usr/sbin, which is not on every user's PATH. */
export function natsServerPath(): string | null {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/usr/bin'];
  for (const d of dirs) {
    if (d === '') continue;
    const p = join(d, 'nats-server');
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}

export interface NatsServerOptions {
  /** Client port (default: a free loopback port). */
  port?: number;
  /** JetStream store folder (default: a new temporary folder, removed by stop({ removeStore: true })). */
  storeDir?: string;
  /** More nats-server arguments (e.g. a cluster's routes). */
  args?: string[];
  /** Wait this long for "Server is ready" (ms). */
  readyTimeoutMs?: number;
}

const alive = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of alive) c.kill('SIGKILL');
});

export class NatsServer {
  private child: ChildProcess | null = null;
  private log = '';

  private constructor(
    readonly port: number,
    readonly storeDir: string,
    private readonly args: string[],
    private readonly readyTimeoutMs: number,
  ) {}

  static async start(opts: NatsServerOptions = {}): Promise<NatsServer> {
    const s = new NatsServer(opts.port ?? (await freePort()), opts.storeDir ?? mkdtempSync(join(tmpdir(), 'nats-store-')), opts.args ?? [], opts.readyTimeoutMs ?? 10_000);
    await s.launch();
    return s;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** What the server printed (the last 20 kB). */
  output(): string {
    return this.log;
  }

  private async launch(): Promise<void> {
    const bin = natsServerPath();
    if (bin === null) throw new Error('nats-server is not installed (Debian: apt-get install nats-server; `npm test` installs it as root)');
    this.log = '';
    const child = spawn(bin, ['-js', '-a', '127.0.0.1', '-p', String(this.port), '-sd', this.storeDir, ...this.args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    alive.add(child);
    child.once('exit', () => alive.delete(child));
    const keep = (d: Buffer): void => {
      this.log = (this.log + d.toString('utf8')).slice(-20_000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const deadline = Date.now() + this.readyTimeoutMs;
    while (!this.log.includes('Server is ready')) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`nats-server on port ${this.port} exited: ${this.log.slice(-2000)}`);
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`nats-server on port ${this.port} was not ready within ${this.readyTimeoutMs} ms: ${this.log.slice(-2000)}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Stops the server (SIGTERM: it syncs its store; SIGKILL: it does not). Idempotent. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', opts: { removeStore?: boolean } = {}): Promise<void> {
    const c = this.child;
    if (c !== null && c.exitCode === null && c.signalCode === null) {
      const ended = new Promise((r) => c.once('exit', r));
      c.kill(signal);
      const t = setTimeout(() => c.kill('SIGKILL'), 5000);
      await ended;
      clearTimeout(t);
    }
    this.child = null;
    if (opts.removeStore === true) rmSync(this.storeDir, { recursive: true, force: true });
  }

  /** Stops and starts it again on the same port with the same store. */
  async restart(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.stop(signal);
    await this.launch();
  }
}

/**
 * A JetStream cluster of real nats-server processes on loopback: each with its client port,
 * route port, server name (n1, n2, ...) and store folder, routes to all others.
 */
export class NatsCluster {
  private constructor(
    readonly nodes: NatsServer[],
    readonly names: string[],
  ) {}

  static async start(size = 3, opts: { baseDir?: string; name?: string } = {}): Promise<NatsCluster> {
    const base = opts.baseDir ?? mkdtempSync(join(tmpdir(), 'nats-cluster-'));
    const clientPorts: number[] = [];
    const routePorts: number[] = [];
    for (let i = 0; i < size; i++) {
      clientPorts.push(await freePort());
      routePorts.push(await freePort());
    }
    const names = clientPorts.map((_, i) => `n${i + 1}`);
    const nodes = await Promise.all(
      clientPorts.map((port, i) =>
        NatsServer.start({
          port,
          storeDir: join(base, names[i]!),
          args: [
            '--server_name',
            names[i]!,
            '--cluster_name',
            opts.name ?? 'bsread',
            '--cluster',
            `nats://127.0.0.1:${routePorts[i]}`,
            '--routes',
            routePorts
              .filter((_, k) => k !== i)
              .map((p) => `nats://127.0.0.1:${p}`)
              .join(','),
          ],
        }),
      ),
    );
    return new NatsCluster(nodes, names);
  }

  /** nats://127.0.0.1:P1,nats://127.0.0.1:P2,... */
  get urls(): string {
    return this.nodes.map((n) => n.url).join(',');
  }

  /** HOST:PORT,HOST:PORT,... (the writer's form, before /NAME). */
  get hostPorts(): string {
    return this.nodes.map((n) => `127.0.0.1:${n.port}`).join(',');
  }

  /** The node listening on this client port, or of this server name. */
  node(portOrName: number | string): NatsServer | undefined {
    return typeof portOrName === 'number' ? this.nodes.find((n) => n.port === portOrName) : this.nodes[this.names.indexOf(portOrName)];
  }

  async stop(opts: { removeStore?: boolean } = {}): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop('SIGTERM', opts)));
  }
}
