// Is anybody listening on a TCP port? ZeroMQ connects and reconnects silently, so the programs ask
// the operating system itself: the buffer when a dispatcher stream has gone quiet (a refused
// connection means the stream's socket is closed), the writer when the buffer's replay service
// did not answer at once (something listening there is waited for longer).
import { connect } from 'node:net';
import { parseStreamAddress } from './address.js';

/** open: something accepted the connection; refused: nothing listens; unknown: no answer, or not TCP. */
export type ProbeResult = 'open' | 'refused' | 'unknown';

export function probeTcp(address: string, timeoutMs = 1000): Promise<ProbeResult> {
  let target: { host: string; port: number };
  try {
    const a = parseStreamAddress(address);
    if (!('host' in a)) return Promise.resolve('unknown');
    target = { host: a.host.replace(/^\[(.*)\]$/, '$1'), port: a.port };
  } catch {
    return Promise.resolve('unknown');
  }
  return new Promise<ProbeResult>((resolve) => {
    const socket = connect(target);
    const done = (r: ProbeResult): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done('unknown'), timeoutMs);
    socket.once('connect', () => done('open'));
    socket.once('error', (e: NodeJS.ErrnoException) => done(e.code === 'ECONNREFUSED' ? 'refused' : 'unknown'));
  });
}
