// Free loopback ports for programs whose port must be chosen before they start. Test files run
// in parallel processes, so a port handed out is also reserved across processes with a lock
// file (created exclusively) until this process exits.
import { createServer } from 'node:net';
import { mkdirSync, openSync, closeSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const LOCK_DIR = join(tmpdir(), 'sf-bsread-test-ports');
const STALE_MS = 30 * 60 * 1000;
const mine: string[] = [];

function reserve(port: number): boolean {
  mkdirSync(LOCK_DIR, { recursive: true });
  const path = join(LOCK_DIR, String(port));
  try {
    closeSync(openSync(path, 'wx'));
    mine.push(path);
    return true;
  } catch {
    try {
      // A lock left behind by a test process that was killed long ago.
      if (Date.now() - statSync(path).mtimeMs > STALE_MS) unlinkSync(path);
    } catch {
      // another process removed it first
    }
    return false;
  }
}

process.on('exit', () => {
  for (const p of mine) {
    try {
      unlinkSync(p);
    } catch {
      // already gone
    }
  }
});

function ephemeralPort(): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const p = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(p));
    });
  });
}

/** A free port; port + 1 is reserved too (the buffer's replay service uses it). */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = await ephemeralPort();
    if (port >= 65535) continue;
    if (!reserve(port)) continue;
    if (!reserve(port + 1)) continue;
    return port;
  }
  throw new Error('no free port found');
}
