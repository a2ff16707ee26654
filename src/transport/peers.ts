// Counts the peers connected to a bound ZeroMQ socket through its event observer, so a send
// loop can wait for a reader instead of blocking in send() with a message already taken.
import type * as zmq from 'zeromq';

export class PeerTracker {
  peers = 0;
  /** Buffer clock (ms) when the peer count last dropped to zero (or when tracking started). */
  noPeerSinceMs: number;

  constructor(socket: zmq.Socket, onChange: () => void, now: () => number = Date.now) {
    this.noPeerSinceMs = now();
    socket.events.on('accept', () => {
      this.peers++;
      onChange();
    });
    socket.events.on('disconnect', () => {
      this.peers = Math.max(0, this.peers - 1);
      if (this.peers === 0) this.noPeerSinceMs = now();
      onChange();
    });
  }
}
