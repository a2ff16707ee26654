// The writer's source when its stream address is nats://HOST:PORT[,HOST:PORT...]/NAME: the
// pulses of the acquisition read from a JetStream stream a buffer publishes into
// (src/jetstream/reader.ts). One connection per acquisition, closed with it.
import type { MessageFrames } from '../bsread/index.js';
import { BsreadError, errorMessage } from '../errors.js';
import { isStreamNotFound, JetStreamConnection, JetStreamReader, type JetStreamAddress } from '../jetstream/index.js';
import type { Logger } from '../log.js';
import type { MessageSource, OpenSource } from './message-source.js';

export interface JetStreamSourceOptions {
  address: JetStreamAddress;
  log: Logger;
  /** receive() timeout (ms); the writer re-checks "is the range complete" after each. */
  receiveTimeoutMs?: number;
}

class JetStreamSource implements MessageSource {
  readonly kind = 'jetstream' as const;
  private closed = false;

  constructor(
    private readonly conn: JetStreamConnection,
    private readonly reader: JetStreamReader,
    private readonly receiveTimeoutMs: number,
  ) {}

  get gap(): number {
    return this.reader.opened.gap;
  }

  /** Messages dropped because a part never came, or because they did not decode. */
  get dropped(): number {
    return this.reader.incomplete + this.reader.badRecords;
  }

  async receive(): Promise<MessageFrames | null> {
    const r = await this.reader.receive(this.receiveTimeoutMs);
    return r === null ? null : r.frames;
  }

  async newestPulseId(): Promise<number | null> {
    try {
      return await this.reader.newestPulseIdIfCaughtUp();
    } catch {
      return null;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.reader.close();
    await this.conn.close();
    await Promise.race([this.reader.ended, new Promise((r) => setTimeout(r, 1000).unref())]);
  }
}

export function jetStreamSourceOpener(opts: JetStreamSourceOptions): OpenSource {
  const { address, log } = opts;
  return async (fromPulseId) => {
    const conn = await JetStreamConnection.open({ servers: address.servers, name: `sf_bsread_writer ${address.stream}`, log });
    let reader: JetStreamReader;
    try {
      reader = await JetStreamReader.open(conn, address.stream, fromPulseId, { log });
    } catch (e) {
      await conn.close();
      if (isStreamNotFound(e)) {
        throw new BsreadError(
          'BSREAD_ERR_JETSTREAM',
          `JetStream stream ${address.stream} does not exist on ${conn.server}; start a buffer with --jetstream_stream ${address.stream}`,
          {
            cause: e,
          },
        );
      }
      throw new BsreadError('BSREAD_ERR_JETSTREAM', `cannot open JetStream stream ${address.stream}: ${errorMessage(e)}`, { cause: e });
    }
    const o = reader.opened;
    log.info(
      { stream: address.stream, server: conn.server, from_pulse_id: fromPulseId, start_seq: o.startSeq, first_stored_pulse_id: o.firstStoredPulseId, gap: o.gap },
      'reading from JetStream',
    );
    return new JetStreamSource(conn, reader, opts.receiveTimeoutMs ?? 1000);
  };
}
