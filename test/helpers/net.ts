// Free loopback ports for programs whose port must be chosen before they start.
import { createServer } from 'node:net';

const handedOut = new Set<number>();

export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const addr = srv.address();
        const p = typeof addr === 'object' && addr !== null ? addr.port : 0;
        srv.close(() => resolve(p));
      });
    });
    // Some programs also use port + 1 (the buffer's replay service): keep both free of reuse.
    if (!handedOut.has(port) && !handedOut.has(port + 1) && port < 65535) {
      handedOut.add(port);
      handedOut.add(port + 1);
      return port;
    }
  }
  throw new Error('no free port found');
}
