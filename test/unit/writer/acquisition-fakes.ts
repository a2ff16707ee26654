// In-memory stand-ins for the writer's source and file, so the acquisition state machine and the
// REST layer are tested without sockets or HDF5.
import { encodeMessage, type BsreadMessage } from '../../../src/bsread/index.js';
import { Acquisition, type CreateFileOptions, type OutputFile } from '../../../src/writer/acquisition.js';
import type { MessageSource, SourceKind } from '../../../src/writer/message-source.js';
import { silentLogger } from '../../../src/log.js';

export class FakeSource implements MessageSource {
  readonly queue: (readonly Uint8Array[])[] = [];
  private waiter: ((f: readonly Uint8Array[] | null) => void) | null = null;
  closed = false;
  newest: number | null = null;
  dropped = 0;
  constructor(
    readonly kind: SourceKind = 'pull',
    readonly gap = 0,
    private readonly timeoutMs = 30,
  ) {}
  push(frames: readonly Uint8Array[]): void {
    if (this.waiter !== null) {
      const w = this.waiter;
      this.waiter = null;
      w(frames);
    } else this.queue.push(frames);
  }
  receive(): Promise<readonly Uint8Array[] | null> {
    if (this.closed) return Promise.resolve(null);
    const next = this.queue.shift();
    if (next !== undefined) return Promise.resolve(next);
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.waiter = null;
        resolve(null);
      }, this.timeoutMs);
      this.waiter = (f) => {
        clearTimeout(t);
        resolve(f);
      };
    });
  }
  async newestPulseId(): Promise<number | null> {
    return this.newest;
  }
  async close(): Promise<void> {
    this.closed = true;
    if (this.waiter !== null) {
      const w = this.waiter;
      this.waiter = null;
      w(null);
    }
  }
}

export class FakeFile implements OutputFile {
  readonly pulses: number[] = [];
  attributes: Record<string, unknown> = {};
  closed = false;
  flushes = 0;
  failOnPulse: number | null = null;
  /** CPU time each write() spends (busy wait), to stand in for a big message's HDF5 work. */
  writeCostMs = 0;
  /** Called after each row is written. */
  onWrite: ((pulseId: number) => void) | undefined;
  constructor(
    readonly path: string,
    readonly parameters: Record<string, string>,
  ) {}
  write(msg: BsreadMessage): { channelErrors: number } {
    if (this.closed) throw new Error('write after close');
    if (msg.pulseId === this.failOnPulse) throw new Error('disk full (simulated)');
    const until = performance.now() + this.writeCostMs;
    while (performance.now() < until) {
      // busy: like libhdf5 work, nothing else runs meanwhile
    }
    this.pulses.push(msg.pulseId);
    this.onWrite?.(msg.pulseId);
    return { channelErrors: 0 };
  }
  flushIfDue(): void {}
  flush(): void {
    this.flushes++;
  }
  truncateAfter(last: number): number {
    let n = 0;
    while (this.pulses.length > 0 && this.pulses[this.pulses.length - 1]! > last) {
      this.pulses.pop();
      n++;
    }
    return n;
  }
  setAttributes(attrs: Record<string, string | number | bigint | number[]>): void {
    this.attributes = { ...this.attributes, ...attrs };
  }
  close(): void {
    this.closed = true;
  }
  get rows(): number {
    return this.pulses.length;
  }
  get firstPulseId(): number | null {
    return this.pulses[0] ?? null;
  }
  get lastPulseId(): number | null {
    return this.pulses[this.pulses.length - 1] ?? null;
  }
  channelErrorCounts(): Record<string, number> {
    return {};
  }
}

/** A one-channel message; `timeSec` sets global_timestamp (default: pulse id as seconds). */
export function message(pulseId: number, timeSec = 1_700_000_000 + pulseId / 100): Buffer[] {
  const sec = Math.floor(timeSec);
  return encodeMessage({
    pulseId,
    globalTimestamp: { sec, ns: Math.round((timeSec - sec) * 1e9) },
    channels: [{ def: { name: 'X', type: 'float64' }, value: pulseId * 1.5 }],
  });
}

export interface Harness {
  acq: Acquisition;
  sources: FakeSource[];
  files: FakeFile[];
  /** Pulse ids asked for by each openSource call. */
  opened: (number | null)[];
  clock: { ms: number };
}

export function harness(opts: { kind?: SourceKind; gap?: number; overwrite?: boolean; output?: string } = {}): Harness {
  const sources: FakeSource[] = [];
  const files: FakeFile[] = [];
  const opened: (number | null)[] = [];
  const clock = { ms: 1_700_000_000_000 };
  const acq = new Acquisition({
    openSource: async (from) => {
      opened.push(from);
      const s = new FakeSource(opts.kind ?? 'pull', opts.gap ?? 0);
      sources.push(s);
      return s;
    },
    createFile: (o: CreateFileOptions) => {
      const f = new FakeFile(o.path, o.parameters);
      files.push(f);
      return f;
    },
    defaultOutputFile: opts.output ?? '/dev/null',
    overwrite: opts.overwrite ?? false,
    log: silentLogger(),
    now: () => clock.ms,
    quietAfterStopMs: 50,
  });
  return { acq, sources, files, opened, clock };
}

export const PARAMETERS = {
  'general/created': '2024-05-01T10:00:00',
  'general/user': 'p12345',
  'general/process': 'test',
  'general/instrument': 'alvra',
};
