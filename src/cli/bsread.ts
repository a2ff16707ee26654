#!/usr/bin/env node
// `bsread`: the operator's tool. Each subcommand lives in its own file.
import { Command } from 'commander';
import { registerReceive } from './bsread-receive.js';
import { registerStats } from './bsread-stats.js';
import { registerSimulate } from './bsread-simulate.js';
import { registerDispatcher } from './bsread-dispatcher.js';
import { runCli } from './run-cli.js';

const program = new Command('bsread').description('bsread tools: receive, stats, simulate, dispatcher');
registerReceive(program);
registerStats(program);
registerSimulate(program);
registerDispatcher(program);
await runCli(program);
