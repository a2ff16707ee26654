// Shared start-up for the command-line programs: parse, and turn errors into a clear message
// and an exit status (2 = bad usage or argument, 1 = runtime failure). Only cli/ ends processes.
import { Command, CommanderError } from 'commander';
import { BsreadError, errorMessage } from '../errors.js';

export async function runCli(program: Command, argv: string[] = process.argv): Promise<void> {
  // `bsread receive --json | head`: a reader that closes the pipe ends the program quietly.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(0);
      throw e;
    });
  }
  // Subcommands copy these settings only when created, so apply them to the whole tree.
  const configure = (cmd: Command): void => {
    cmd.exitOverride();
    cmd.configureOutput({ writeErr: (s) => process.stderr.write(s) });
    cmd.commands.forEach(configure);
  };
  configure(program);
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version are "errors" to commander; they have exit code 0.
      process.exitCode = e.exitCode === 0 ? 0 : 2;
      return;
    }
    const usage = e instanceof BsreadError && (e.code === 'BSREAD_ERR_INVALID_ARGUMENT' || e.code === 'BSREAD_ERR_CHANNELS_FILE');
    process.stderr.write(`${program.name()}: error: ${errorMessage(e)}\n`);
    process.exitCode = usage ? 2 : 1;
  }
}

/** Resolves on the first SIGINT or SIGTERM (and removes its handlers). */
export function untilSignal(): { promise: Promise<NodeJS.Signals>; dispose(): void } {
  let dispose = (): void => {};
  const promise = new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (sig: NodeJS.Signals) => {
      dispose();
      resolve(sig);
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    dispose = () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    };
  });
  return { promise, dispose };
}
