#!/usr/bin/env node
// Makes a clean clone runnable: Debian packages, npm packages, the native addon and the
// TypeScript build. Run by `npm start`, `npm test` and `npm run bench` before anything else,
// so a newcomer types one command. Uses only Node built-ins (nothing is installed yet).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const quiet = process.argv.includes('--quiet');

// What the project needs from Debian, and why.
const DEBIAN_PACKAGES = [
  'pkg-config', // finds libhdf5 for the addon build
  'libhdf5-dev', // HDF5 library and headers (the writer's file layer)
  'liblz4-dev', // LZ4 block codec inside bitshuffle_lz4 and lz4
  'libzmq3-dev', // libzmq for the native receive/send path (zeromq.js costs µs per frame)
  'hdf5-tools', // h5dump: independent reader used by tests
  'python3-h5py', // h5py: independent reader used by tests
  'bitshuffle', // HDF5 filter plugin 32008, so h5py/h5dump read bitshuffle datasets
  'nats-server', // NATS with JetStream: the recent past on disk (--jetstream), run by tests and `npm start -- --jetstream`
  'chromium', // headless browser: tests load the writer's and the buffer's status pages in it
];

function log(msg) {
  if (!quiet) process.stderr.write(`[setup] ${msg}\n`);
}

function missingDebianPackages() {
  if (!existsSync('/usr/bin/dpkg-query')) return [];
  return DEBIAN_PACKAGES.filter((pkg) => {
    const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
    return r.status !== 0 || !r.stdout.includes('install ok installed');
  });
}

function run(cmd, args, opts = {}) {
  log(`$ ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: ['ignore', quiet ? 'ignore' : 'inherit', 'inherit'], cwd: root, ...opts });
  if (r.status !== 0) {
    process.stderr.write(`[setup] failed: ${cmd} ${args.join(' ')} (exit ${r.status ?? r.signal})\n`);
    process.exit(1);
  }
}

function ensureDebianPackages() {
  const missing = missingDebianPackages();
  if (missing.length === 0) return;
  const line = `apt-get update && apt-get install -y ${missing.join(' ')}`;
  if (typeof process.getuid === 'function' && process.getuid() === 0) {
    log(`installing Debian packages: ${missing.join(' ')}`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    run('apt-get', ['update', '-qq'], { env });
    run('apt-get', ['install', '-y', '-qq', ...missing], { env });
  } else {
    process.stderr.write(
      `This project needs Debian packages that are not installed: ${missing.join(' ')}\n` + `Install them as root, then run the command again:\n\n  sudo sh -c '${line}'\n\n`,
    );
    process.exit(1);
  }
}

function newestMtime(paths) {
  let newest = 0;
  const visit = (p) => {
    if (!existsSync(p)) return;
    const st = statSync(p);
    if (st.isDirectory()) {
      for (const e of readdirSync(p)) if (e !== 'node_modules') visit(join(p, e));
    } else newest = Math.max(newest, st.mtimeMs);
  };
  for (const p of paths) visit(join(root, p));
  return newest;
}

function mtime(p) {
  const full = join(root, p);
  return existsSync(full) ? statSync(full).mtimeMs : -1;
}

// npm builds addons against the headers that ship with Debian's Node.js; node-gyp would
// otherwise try to download them, which fails without internet.
function npmEnv() {
  const env = { ...process.env };
  if (!env.npm_config_nodedir && existsSync('/usr/include/node/node.h')) env.npm_config_nodedir = '/usr';
  return env;
}

function ensureNpmPackages() {
  const stamp = 'node_modules/.package-lock.json';
  const lock = existsSync(join(root, 'package-lock.json'));
  if (mtime(stamp) >= Math.max(mtime('package.json'), mtime('package-lock.json'))) return;
  log('installing npm packages (this also builds the native addon)');
  run('npm', [lock ? 'ci' : 'install', '--no-audit', '--no-fund'], { env: npmEnv() });
}

function ensureAddon() {
  const addon = 'build/Release/sf_bsread_native.node';
  if (mtime(addon) >= newestMtime(['native', 'binding.gyp'])) return;
  log('building the native addon');
  run('npm', ['run', 'install', '--silent'], { env: npmEnv() });
}

// Compiled files whose TypeScript source was moved or deleted: the test runner would still run
// them. Removed before each build.
function removeStaleOutput(dir = join(root, 'dist')) {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) removeStaleOutput(p);
    else if (/\.js(\.map)?$/.test(e)) {
      const source = join(root, relative(join(root, 'dist'), p)).replace(/\.js(\.map)?$/, '.ts');
      if (!existsSync(source)) rmSync(p);
    }
  }
}

function ensureTypeScriptBuild() {
  const stamp = 'dist/.build-stamp';
  if (mtime(stamp) >= newestMtime(['src', 'test', 'bench', 'tsconfig.json'])) return;
  removeStaleOutput();
  log('compiling TypeScript');
  run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json']);
  execFileSync('touch', [join(root, stamp)]);
}

ensureDebianPackages();
ensureNpmPackages();
ensureAddon();
ensureTypeScriptBuild();
