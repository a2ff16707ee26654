// STUB: the simulator's subcommand registers itself here.
import type { Command } from 'commander';
export function registerSimulate(_program: Command): void {}
