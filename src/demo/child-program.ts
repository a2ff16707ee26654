// One of our CLI programs run as a child process by the demo, with its output kept for a
// post-mortem and its end awaited. The demo stops every child it starts.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../native/addon.js';

export interface ChildProgramOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Keep only the last this many characters of stdout and of stderr (default: all). */
  keepChars?: number;
}

export class ChildProgram {
  readonly child: ChildProcess;
  readonly exited: Promise<number | string>;
  private out = '';
  private err = '';

  constructor(
    readonly name: string,
    args: string[],
    opts: ChildProgramOptions = {},
  ) {
    const root = packageRoot();
    this.child = spawn(process.execPath, [join(root, 'dist', 'src', 'cli', `${name}.js`), ...args], {
      cwd: opts.cwd ?? root,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = opts.keepChars ?? Infinity;
    const trim = (s: string) => (s.length > keep ? s.slice(-keep) : s);
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => (this.out = trim(this.out + d)));
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.err = trim(this.err + d)));
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  stdout(): string {
    return this.out;
  }

  stderr(): string {
    return this.err;
  }

  /** `signal` (SIGTERM), then SIGKILL after graceMs; resolves with the exit status. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<number | string> {
    if (this.running) {
      this.child.kill(signal);
      const t = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(t);
    }
    return this.exited;
  }
}
