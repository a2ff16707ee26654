// Free loopback ports for programs whose port must be chosen before they start (the demo, the
// tests, the benchmarks). Test files run in parallel processes, so a port handed out is also
// reserved across processes with a lock file (created exclusively) until this process exits.
// Ports come from below the kernel's ephemeral range, so no socket bound to port 0 can take one
// after it was chosen.
import { createServer } from 'node:net';
import { mkdirSync, openSync, closeSync, readFileSync, statSync, unlinkSync } from 'node:fs';
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

/** Whether a TCP listener can be opened on 127.0.0.1:port right now. */
function bindable(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * Ports the kernel never hands out by itself: below its ephemeral range (ip_local_port_range),
 * where "bind to port 0" and outgoing connections (ZeroMQ's among them) take theirs. A port
 * chosen there cannot be taken by another socket between the choice and the program's bind.
 */
function quietRange(): [number, number] {
  let low = 32768;
  try {
    const first = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (Number.isInteger(first)) low = first;
  } catch {
    // not Linux: the usual default
  }
  return low > 12_000 ? [10_000, low - 2] : [low + 20_000, 65_000];
}

/**
 * A free loopback port for a program to bind, with port + 1 free and reserved too (the buffer's
 * replay service binds OUTPUT_PORT + 1). Both are checked bindable and reserved across the
 * test processes until this one exits.
 */
export async function freePort(): Promise<number> {
  const [lo, hi] = quietRange();
  for (let attempt = 0; attempt < 500; attempt++) {
    const port = lo + Math.floor(Math.random() * (hi - lo));
    if (!reserve(port)) continue;
    if (!reserve(port + 1)) continue;
    if ((await bindable(port)) && (await bindable(port + 1))) return port;
  }
  throw new Error(`no free pair of ports found in ${lo}..${hi}`);
}
