// The options of a bsread sender: a PUSH or PUB socket that binds, as bsread sources do
// (NativeStreamSender; the tests' zeromq.js StreamSender takes the same).

export type SendMode = 'push' | 'pub';

export interface StreamSenderOptions {
  /** Where to bind, e.g. tcp://127.0.0.1:9999 (port 0 picks a free port). */
  address: string;
  mode?: SendMode;
  highWaterMark?: number;
  /**
   * When true (as IOCs do), a message that cannot be queued at once is dropped and counted;
   * otherwise send() waits until the peer takes it.
   */
  dropWhenFull?: boolean;
  /**
   * How long close() lets ZeroMQ deliver messages still queued (ms). Default 0: a program that
   * stops drops its queue at once; a sender of a fixed count needs a linger to deliver it all.
   */
  linger?: number;
}
