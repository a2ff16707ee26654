// One of our CLI programs run as a child process by the demo, with its output kept for a
// post-mortem and its end awaited. The demo stops every child it starts.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../native/addon.js';

export class ChildProgram {
  readonly child: ChildProcess;
  readonly exited: Promise<number | string>;
  private out = '';
  private err = '';

  constructor(
    readonly name: string,
    args: string[],
  ) {
    this.child = spawn(process.execPath, [join(packageRoot(), 'dist', 'src', 'cli', `${name}.js`), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => (this.out = (this.out + d).slice(-64_000)));
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.err = (this.err + d).slice(-64_000)));
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

  /** SIGTERM, then SIGKILL after graceMs; resolves with the exit status. */
  async stop(graceMs = 5000): Promise<number | string> {
    if (this.running) {
      this.child.kill('SIGTERM');
      const t = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(t);
    }
    return this.exited;
  }
}
