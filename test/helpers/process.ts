// Real child processes for the CLI programs, always stopped at the end of a test.
import type { ChildProcess } from 'node:child_process';
import { ChildProgram } from '../../src/demo/child-program.js';
import { packageRoot } from '../../src/native/addon.js';

export const ROOT = packageRoot();

export interface RunningProgram {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or signal name) once the process has ended. */
  exited: Promise<number | string>;
  /** Sends `signal` (SIGKILL after graceMs) and waits for the end. Idempotent. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | string>;
}

const running = new Set<ChildProgram>();

/** Starts `dist/src/cli/<program>.js` with `args`. */
export function startProgram(program: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): RunningProgram {
  const p = new ChildProgram(program, args, opts);
  running.add(p);
  void p.exited.then(() => running.delete(p));
  return p;
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

function killAll(): void {
  for (const p of running) p.child.kill('SIGKILL');
}
process.on('exit', killAll);
// The test runner cancels a file that runs too long with a signal, which skips 'exit' handlers.
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    killAll();
    process.kill(process.pid, signal);
  });
}
