#!/usr/bin/env node
// `bsread`: the operator's tool. Each subcommand lives in its own file.
import { Command } from 'commander';
import { registerAvail } from './bsread-avail.js';
import { registerReceive } from './bsread-receive.js';
import { registerStats } from './bsread-stats.js';
import { registerSimulate } from './bsread-simulate.js';
import { registerDispatcher } from './bsread-dispatcher.js';
import { registerH5 } from './bsread-h5.js';
import { runCli } from './run-cli.js';

const program = new Command('bsread').description('bsread tools: avail, receive, stats, h5, simulate, dispatcher');
registerAvail(program);
registerReceive(program);
registerStats(program);
registerSimulate(program);
registerDispatcher(program);
registerH5(program);
await runCli(program);
