// The only place that loads the compiled addon. Each area (src/bsread/compression.ts,
// src/h5/native.ts) declares the part of its surface it uses and casts once.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
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

export function loadAddon(): unknown {
  if (cached !== undefined) return cached;
  const path = join(packageRoot(), 'build', 'Release', 'sf_bsread_native.node');
  if (!existsSync(path)) {
    throw new BsreadError('BSREAD_ERR_ADDON', `native addon not built: ${path} is missing; run "npm run setup"`);
  }
  cached = createRequire(import.meta.url)(path);
  return cached;
}
