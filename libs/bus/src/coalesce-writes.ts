import type { ChannelModel } from 'amqplib';

interface AmqplibInternals {
  connection?: {
    /** Moves the frames every channel has waiting to the socket, in one pass per event-loop round. */
    muxer?: { _readIncoming?: (this: unknown) => void };
    stream?: { cork?: () => void; uncork?: () => void };
  };
}

/**
 * Makes the frames amqplib sends in one pass leave in one socket write.
 *
 * amqplib writes every frame to the socket as a write of its own: under load that is a system call
 * per publish on our side and a read per publish on the broker's. Its writer (the connection's
 * muxer) already collects what every channel has waiting and sends it in one pass, once per
 * event-loop round; corking the socket for that pass turns the pass into one write. Nothing waits
 * longer than before: the socket is uncorked as the pass ends.
 *
 * This reaches into amqplib (`connection.muxer`, `connection.stream`), pinned through
 * package-lock.json; a test holds amqplib to it. Returns false, changing nothing, when they are not
 * there.
 */
export function coalesceFrameWrites(model: ChannelModel): boolean {
  const connection = (model as unknown as AmqplibInternals).connection;
  const muxer = connection?.muxer;
  const socket = connection?.stream;
  const pass = muxer?._readIncoming;
  if (!muxer || !socket || typeof pass !== 'function') return false;
  if (typeof socket.cork !== 'function' || typeof socket.uncork !== 'function') return false;
  const cork = socket.cork.bind(socket);
  const uncork = socket.uncork.bind(socket);
  muxer._readIncoming = function corkedPass(this: unknown) {
    cork();
    try {
      pass.call(this);
    } finally {
      uncork();
    }
  };
  return true;
}
