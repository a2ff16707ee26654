// The only place that loads the compiled addon. Its interface is declared in ./surface.ts; use
// nativeAddon() from there, which types what loadAddon() returns.
//
// Environment: SF_BSREAD_ADDON=<path to a .node file> loads that build of the addon instead of
// build/Release/sf_bsread_native.node (scripts/test-asan.mjs points it at the sanitizer build).
// A relative path is taken from the current directory.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { BsreadError } from '../errors.js';

let cached: unknown;

/** Repository root, found from this file's location in src/ or dist/src/. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new BsreadError('BSREAD_ERR_ADDON', 'cannot find the package root');
    dir = up;
  }
  return dir;
}

/** Loads the addon once (untyped: see nativeAddon() in ./surface.ts). */
export function loadAddon(): unknown {
  if (cached !== undefined) return cached;
  const chosen = process.env['SF_BSREAD_ADDON'];
  if (chosen !== undefined && chosen !== '') {
    const path = resolve(chosen);
    if (!existsSync(path)) throw new BsreadError('BSREAD_ERR_ADDON', `SF_BSREAD_ADDON names ${path}, which does not exist`);
    cached = createRequire(import.meta.url)(path);
    return cached;
  }
  const path = join(packageRoot(), 'build', 'Release', 'sf_bsread_native.node');
  if (!existsSync(path)) {
    throw new BsreadError('BSREAD_ERR_ADDON', `native addon not built: ${path} is missing; run "npm run setup"`);
  }
  cached = createRequire(import.meta.url)(path);
  return cached;
}
