// STUB: the embedded dispatcher's subcommand registers itself here.
import type { Command } from 'commander';
export function registerDispatcher(_program: Command): void {}
