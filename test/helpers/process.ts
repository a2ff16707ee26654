// Real child processes for the CLI programs, always stopped at the end of a test.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../src/native/addon.js';

export const ROOT = packageRoot();

export interface RunningProgram {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or signal name) once the process has ended. */
  exited: Promise<number | string>;
  /** Kills the process (SIGKILL after graceMs) and waits for it. Idempotent. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | string>;
}

const running = new Set<RunningProgram>();

/** Starts `dist/src/cli/<program>.js` with `args`. */
export function startProgram(program: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): RunningProgram {
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'src', 'cli', `${program}.js`), ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1));
  });
  const prog: RunningProgram = {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(t);
      }
      running.delete(prog);
      return exited;
    },
  };
  running.add(prog);
  void exited.then(() => running.delete(prog));
  return prog;
}

/** Runs a program to completion and returns its exit status and output. */
export async function runProgram(program: string, args: string[], timeoutMs = 30_000): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const p = startProgram(program, args);
  const t = setTimeout(() => void p.stop('SIGKILL'), timeoutMs);
  const code = await p.exited;
  clearTimeout(t);
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

/** Stops every program still running (call from an `after` hook). */
export async function stopAllPrograms(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop('SIGKILL')));
}

process.on('exit', () => {
  for (const p of running) p.child.kill('SIGKILL');
});
