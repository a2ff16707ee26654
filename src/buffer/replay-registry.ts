// Who receives what: the replay consumers' queues, and the seam between the buffered past and
// live messages. Pure: no sockets, no timers. register() takes the snapshot of the ring and
// adds the consumer for live messages in ONE synchronous step, so (single-threaded JavaScript)
// no message can arrive in between: no gap and no duplicate at the seam.
import type { ReplayStore } from '../replay/index.js';
import { ConsumerQueue, type QueueLimits } from './consumer-queue.js';
import type { RingBuffer } from './ring-buffer.js';
import type { StoredMessage } from './stored-message.js';

export interface Registration {
  readonly id: string;
  /** null: live messages only. Otherwise only messages with pulseId >= fromPulseId are queued. */
  readonly fromPulseId: number | null;
  readonly queue: ConsumerQueue;
  /** Pulse id of the first queued message (snapshot), null when the snapshot was empty. */
  readonly firstPulseId: number | null;
  /** Oldest pulse id held by the ring at registration (arrival order), null when empty. */
  readonly oldestPulseId: number | null;
  /** Pulses asked for that the ring no longer holds: oldestPulseId - fromPulseId when positive, else 0. */
  readonly gap: number;
  /** Messages queued from the ring at registration. */
  readonly snapshotCount: number;
}

/** The gap a request from `fromPulseId` has against a ring whose oldest held pulse is `oldestPulseId`. */
export function replayGap(fromPulseId: number | null, oldestPulseId: number | null): number {
  if (fromPulseId === null || oldestPulseId === null) return 0;
  return oldestPulseId > fromPulseId ? oldestPulseId - fromPulseId : 0;
}

export class ReplayRegistry {
  private readonly consumers = new Map<string, Registration>();

  constructor(private readonly queueLimits: QueueLimits) {}

  /** Snapshot of ring entries with pulseId >= from (arrival order) + registration for live messages. */
  register(id: string, fromPulseId: number | null, ring: RingBuffer): Registration {
    if (this.consumers.has(id)) throw new RangeError(`consumer ${id} is registered already`);
    const queue = new ConsumerQueue(this.queueLimits);
    const snapshot = fromPulseId === null ? [] : ring.select(fromPulseId);
    for (const m of snapshot) queue.push(m);
    const oldestPulseId = ring.oldest()?.pulseId ?? null;
    const reg: Registration = {
      id,
      fromPulseId,
      queue,
      firstPulseId: snapshot[0]?.pulseId ?? null,
      oldestPulseId,
      gap: replayGap(fromPulseId, oldestPulseId),
      snapshotCount: queue.depth,
    };
    this.consumers.set(id, reg);
    return reg;
  }

  /** Hands a newly arrived message to every consumer (never waits; full queues drop and count). */
  publish(m: StoredMessage): void {
    for (const c of this.consumers.values()) {
      if (c.fromPulseId === null || m.pulseId >= c.fromPulseId) c.queue.push(m);
    }
  }

  unregister(id: string): Registration | undefined {
    const c = this.consumers.get(id);
    if (c !== undefined) {
      this.consumers.delete(id);
      c.queue.clear();
    }
    return c;
  }

  get(id: string): Registration | undefined {
    return this.consumers.get(id);
  }

  list(): Registration[] {
    return [...this.consumers.values()];
  }

  get size(): number {
    return this.consumers.size;
  }
}

/** The ring and its consumer registry as the store the replay service serves from. */
export function ringReplayStore(ring: RingBuffer, registry: ReplayRegistry): ReplayStore {
  return {
    get depth() {
      return ring.depth;
    },
    oldestPulseId: () => ring.oldest()?.pulseId ?? null,
    newestPulseId: () => ring.newest()?.pulseId ?? null,
    register: (id, fromPulseId) => registry.register(id, fromPulseId, ring),
    unregister: (id) => void registry.unregister(id),
  };
}
