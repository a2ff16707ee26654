#!/usr/bin/env node
// `npm run test:asan`: the native addon under AddressSanitizer and UndefinedBehaviorSanitizer.
//
// 1. Builds the addon with SANITIZE (below) -fno-omit-frame-pointer -g -O1 into build-asan/: a
//    copy of binding.gyp whose sources point back at native/; the flags go in through CFLAGS /
//    CXXFLAGS / LDFLAGS, which gyp's Makefiles put after their own, so -O1 wins. The normal
//    build/Release/sf_bsread_native.node, which everything else loads, is never touched, and
//    `node-gyp rebuild` of the normal build (which empties build/) cannot remove this one.
// 2. Runs the unit tests that drive the native code hardest (codec and compression, HDF5, the
//    seeded fuzz of the decoders, the error convention, the native ZeroMQ transport over
//    loopback) with the sanitizer runtimes preloaded into node (which is not built with them) and
//    SF_BSREAD_ADDON pointing src/native/addon.ts at the sanitizer build.
// 3. Fails on a test failure or on any sanitizer report. ASan writes its reports to files
//    (log_path), so one from a child process that a test started is not lost either. GCC's UBSan
//    ignores log_path when ASan is in the process: its reports go to stderr, which is scanned,
//    and halt_on_error makes the process fail.
//
// Options: --no-setup skips `node scripts/setup.mjs` (TypeScript build); --no-build reuses the
// last sanitizer build; other arguments are test file filters, as for run-tests.mjs.
// Plain Node, no npm packages; needs gcc's libasan and libubsan (Debian: gcc).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const filters = args.filter((a) => !a.startsWith('-'));
const outDir = join(root, 'build-asan');
const addonPath = join(outDir, 'build', 'Release', 'sf_bsread_native.node');
// float-cast-overflow is not part of GCC's "undefined", but JS numbers become C++ integers in
// many argument checks: a conversion out of range is undefined behaviour too.
const SANITIZE = '-fsanitize=address,undefined,float-cast-overflow';
const FLAGS = `${SANITIZE} -fno-omit-frame-pointer -g -O1`;
// Test directories (under dist/test/unit) and single files run against the sanitizer build.
// (Not native/malloc-tuning: ASan's allocator replaces glibc's, and its mallopt() refuses.)
const TEST_DIRS = ['bsread', 'h5'];
const TEST_FILES = [
  'native/decoders-fuzz.test.js',
  'native/errors.test.js',
  'transport/native-receiver.test.js',
  'transport/native-sender.test.js',
  'transport/zmtp-reader.test.js',
];
// Bounds: a hung test must not hang CI.
const BUILD_TIMEOUT_MS = 15 * 60_000;
const TEST_TIMEOUT_MS = 20 * 60_000;

function log(msg) {
  process.stderr.write(`[test-asan] ${msg}\n`);
}

function fail(msg) {
  log(`FAILED: ${msg}`);
  process.exit(1);
}

function run(cmd, cmdArgs, opts = {}) {
  log(`$ ${cmd} ${cmdArgs.join(' ')}`);
  const r = spawnSync(cmd, cmdArgs, { stdio: ['ignore', 'inherit', 'inherit'], cwd: root, ...opts });
  if (r.error) fail(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) fail(`${cmd} ${cmdArgs.join(' ')} (exit ${r.status ?? r.signal})`);
}

/** gcc's runtime library for a sanitizer, e.g. /usr/lib/gcc/x86_64-linux-gnu/12/libasan.so. */
function runtime(lib) {
  let path = '';
  try {
    path = execFileSync('gcc', [`-print-file-name=${lib}`], { encoding: 'utf8' }).trim();
  } catch (e) {
    fail(`gcc is needed for the sanitizer runtimes: ${e.message}`);
  }
  // gcc echoes the bare name when it has no such library.
  if (!path.startsWith('/') || !existsSync(path)) fail(`gcc has no ${lib} (install gcc's sanitizer runtimes)`);
  return path;
}

/** node-gyp as npm runs it: npm sets npm_config_node_gyp; else npm's own copy next to node. */
function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  const found = candidates.find((p) => p && existsSync(p));
  if (found === undefined) fail('cannot find node-gyp (it comes with npm)');
  return found;
}

/** binding.gyp with its sources as paths from build-asan/; everything else as it is. */
function asanGyp() {
  let gyp;
  try {
    gyp = JSON.parse(readFileSync(join(root, 'binding.gyp'), 'utf8'));
  } catch (e) {
    fail(`binding.gyp is not plain JSON, which this script needs to copy it: ${e.message}`);
  }
  const sources = readdirSync(join(root, 'native'))
    .filter((f) => /\.(c|cc)$/.test(f))
    .sort()
    .map((f) => `../native/${f}`);
  for (const target of gyp.targets) target.sources = sources;
  return `${JSON.stringify(gyp, null, 2)}\n`;
}

function buildAddon() {
  mkdirSync(outDir, { recursive: true });
  const gypPath = join(outDir, 'binding.gyp');
  const gyp = asanGyp();
  const changed = !existsSync(gypPath) || readFileSync(gypPath, 'utf8') !== gyp;
  if (changed) writeFileSync(gypPath, gyp);
  const env = {
    ...process.env,
    CFLAGS: FLAGS,
    CXXFLAGS: FLAGS,
    LDFLAGS: SANITIZE,
    // The headers that ship with Debian's Node.js: node-gyp would otherwise download them.
    ...(process.env.npm_config_nodedir || !existsSync('/usr/include/node/node.h') ? {} : { npm_config_nodedir: '/usr' }),
  };
  const gypJs = nodeGyp();
  const opts = { cwd: outDir, env, timeout: BUILD_TIMEOUT_MS };
  // make follows the header dependencies itself; configuring again is needed only for new files.
  if (changed || !existsSync(join(outDir, 'build', 'Makefile'))) run(process.execPath, [gypJs, 'configure', '--release'], opts);
  const started = Date.now();
  run(process.execPath, [gypJs, 'build', '--release', '--jobs', 'max'], opts);
  if (!existsSync(addonPath)) fail(`the build made no ${addonPath}`);
  log(`sanitizer build ready in ${((Date.now() - started) / 1000).toFixed(0)} s: ${relative(root, addonPath)}`);
}

function testFiles() {
  const unit = join(root, 'dist', 'test', 'unit');
  const files = [];
  for (const d of TEST_DIRS) {
    const dir = join(unit, d);
    if (!existsSync(dir)) fail(`${relative(root, dir)} is missing (did the TypeScript build run?)`);
    for (const f of readdirSync(dir).sort()) if (f.endsWith('.test.js')) files.push(join(dir, f));
  }
  for (const f of TEST_FILES) {
    if (!existsSync(join(unit, f))) fail(`dist/test/unit/${f} is missing (did the TypeScript build run?)`);
    files.push(join(unit, f));
  }
  return files.filter((f) => filters.length === 0 || filters.some((s) => relative(root, f).includes(s)));
}

/** Runs `node --test` with the sanitizers; resolves to its exit status and everything it printed. */
function runTests(files, env) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=600000', '--test-reporter=spec', ...files], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    const tee = (to) => (chunk) => {
      text += chunk.toString();
      to.write(chunk);
    };
    child.stdout.on('data', tee(process.stdout));
    child.stderr.on('data', tee(process.stderr));
    const timer = setTimeout(() => {
      log(`tests still running after ${TEST_TIMEOUT_MS / 60_000} min: stopping them`);
      child.kill('SIGKILL');
    }, TEST_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ status: code ?? (signal ? 128 : 1), text });
    });
  });
}

// What a sanitizer prints when it finds something (in case a report bypasses log_path).
const REPORT = /ERROR: (AddressSanitizer|LeakSanitizer)|runtime error: |SUMMARY: (AddressSanitizer|UndefinedBehaviorSanitizer)/;

async function main() {
  const started = Date.now();
  if (!args.includes('--no-setup')) run(process.execPath, [join(root, 'scripts', 'setup.mjs'), '--quiet']);
  if (args.includes('--no-build')) {
    if (!existsSync(addonPath)) fail(`--no-build, but there is no ${relative(root, addonPath)}`);
  } else {
    buildAddon();
  }
  const files = testFiles();
  if (files.length === 0) fail('no test files selected');

  const reports = mkdtempSync(join(tmpdir(), 'sf-bsread-asan-'));
  process.on('exit', () => rmSync(reports, { recursive: true, force: true }));
  const env = {
    ...process.env,
    SF_BSREAD_ADDON: addonPath,
    // The decoder fuzz runs four times its ordinary rounds here (a few seconds more).
    SF_BSREAD_FUZZ_ROUNDS: process.env.SF_BSREAD_FUZZ_ROUNDS ?? '6000',
    // ASan must be the first library in the process; node itself is not instrumented.
    LD_PRELOAD: [runtime('libasan.so'), runtime('libubsan.so'), process.env.LD_PRELOAD].filter(Boolean).join(':'),
    // detect_leaks=0: node does not free everything at exit, which is no finding of ours.
    ASAN_OPTIONS: `detect_leaks=0:halt_on_error=1:log_path=${join(reports, 'asan')}`,
    UBSAN_OPTIONS: `halt_on_error=1:print_stacktrace=1:log_path=${join(reports, 'ubsan')}`,
  };

  // The tests must really load the sanitizer build, with the runtime working.
  const surface = pathToFileURL(join(root, 'dist', 'src', 'native', 'surface.js')).href;
  const probe = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { readFileSync } from 'node:fs';
       (await import(${JSON.stringify(surface)})).nativeAddon();
       const maps = readFileSync('/proc/self/maps', 'utf8');
       if (!maps.includes(${JSON.stringify(addonPath)}) || !maps.includes('libasan')) process.exit(3);`,
    ],
    { cwd: root, env, encoding: 'utf8', timeout: 60_000 },
  );
  if (probe.status !== 0) fail(`the sanitizer build does not load with the runtime (exit ${probe.status}): ${probe.stderr}`);

  log(`running ${files.length} test files under ASan + UBSan`);
  const { status, text } = await runTests(files, env);

  const found = existsSync(reports) ? readdirSync(reports) : [];
  for (const f of found) {
    log(`sanitizer report ${f}:`);
    process.stderr.write(readFileSync(join(reports, f), 'utf8'));
  }
  const inOutput = REPORT.test(text);
  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  if (found.length > 0 || inOutput) fail(`sanitizer reports (${found.length} files${inOutput ? ', and in the test output' : ''}); ${minutes} min`);
  if (status !== 0) fail(`tests failed (exit ${status}); ${minutes} min`);
  log(`passed: no sanitizer report, all tests passed; ${minutes} min`);
}

main().catch((e) => fail(e.stack ?? String(e)));
