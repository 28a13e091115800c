import type { IncomingMessage, ServerResponse } from 'node:http';

/** How long the rest of a refused body is read and discarded before the connection is cut anyway. */
const DISCARD_MS = 5_000;

/**
 * Answers a request whose body is not (or no longer) wanted so that the client receives the answer
 * before the connection closes (docs/architecture.md §12). Ending the response at once would make Node
 * close a socket that still has unread bytes, which a client still sending sees as a reset, not as the
 * 413. So the whole answer is written (its Content-Length tells the client it is complete) with
 * `Connection: close`, the rest of the body is read and dropped — at most `discardLimitBytes` bytes or
 * for DISCARD_MS — and only then is the response ended and the socket closed.
 */
export function answerEarly(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  payload: string,
  headers: Record<string, string>,
  discardLimitBytes: number,
): void {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    connection: 'close',
    ...headers,
  });
  if (req.complete || req.readableEnded) {
    res.end(payload);
    return;
  }
  res.write(payload);
  let discarded = 0;
  let finished = false;
  const finish = (cut: boolean) => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    req.removeListener('data', onData);
    res.end();
    if (cut) res.once('finish', () => req.socket.destroy());
  };
  const onData = (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > discardLimitBytes) finish(true);
  };
  const timer = setTimeout(() => finish(true), DISCARD_MS);
  timer.unref();
  req.on('data', onData);
  req.once('end', () => finish(false));
  req.once('error', () => finish(true));
  req.resume();
}
