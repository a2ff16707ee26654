// Validation of ZeroMQ addresses given by users (CLI arguments, dispatcher replies).
import { BsreadError } from '../errors.js';

export interface TcpAddress {
  host: string;
  port: number;
}

const TCP = /^tcp:\/\/(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.*-]+):(\d{1,5})$/;

/**
 * Checks a `tcp://host:port` address (what bsread sources and the original programs use) and
 * returns it parsed. `ipc://` paths are accepted too; they have no host or port.
 */
export function parseStreamAddress(address: string, what = 'stream address'): TcpAddress | { ipc: string } {
  if (typeof address !== 'string' || address.length === 0) {
    throw new BsreadError('BSREAD_ERR_INVALID_ARGUMENT', `${what} is empty; expected tcp://HOST:PORT`);
  }
  if (address.startsWith('ipc://') && address.length > 6) return { ipc: address.slice(6) };
  const m = TCP.exec(address);
  if (m === null) {
    throw new BsreadError('BSREAD_ERR_INVALID_ARGUMENT', `${what} "${address}" is not of the form tcp://HOST:PORT`);
  }
  const port = Number(m[2]);
  if (port < 1 || port > 65535) {
    throw new BsreadError('BSREAD_ERR_INVALID_ARGUMENT', `${what} "${address}" has port ${port}; expected 1..65535`);
  }
  return { host: m[1]!, port };
}
