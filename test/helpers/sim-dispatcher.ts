// The embedded dispatcher in this process on a free port, for tests that only need it for a while.
import { SimDispatcher } from '../../src/sim/index.js';

/** Runs fn with a SimDispatcher (200 Hz) started on port 0, and closes it afterwards. */
export async function withDispatcher(fn: (base: string, d: SimDispatcher) => Promise<void>): Promise<void> {
  const d = new SimDispatcher({ rate: 200 });
  const base = await d.start({ port: 0 });
  try {
    await fn(base, d);
  } finally {
    await d.close();
  }
}
