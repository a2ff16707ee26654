// Waiting on a condition instead of sleeping a fixed time: for the demo, the tests and the
// benchmarks, which start real programs and wait for them to answer.
import { errorMessage } from '../errors.js';

/**
 * Calls `check` every intervalMs until it returns something other than undefined, null or false
 * (then resolves that); an exception counts as "not yet". Rejects after timeoutMs, with the
 * last exception in the message.
 */
export async function waitFor<T>(what: string, check: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs = 10_000, intervalMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== null && v !== false) return v;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError !== undefined ? `: ${errorMessage(lastError)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** `p`, or 'timeout' after ms (the timer is cleared either way, so it does not keep the process alive). */
export function timeoutAfter<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<'timeout'>((r) => (t = setTimeout(() => r('timeout'), Math.max(0, ms))))]).finally(() => clearTimeout(t));
}
