import type { Response } from 'express';

/** An open `text/event-stream` answer (server-sent events). */
export interface EventStream {
  /** Writes one event; resolves once the socket took it (back-pressure), or at once when closed. */
  send(event: string, data: unknown, id?: number): Promise<void>;
  /** Ends the answer; idempotent. */
  close(): void;
  readonly closed: Promise<void>;
}

/** The event streams a process holds open, so a stopping process ends them instead of waiting on them. */
export interface EventStreams {
  open(res: Response, options: { heartbeatMs: number }): EventStream;
  closeAll(): void;
}

/**
 * Server-sent events as the HTML spec defines them: `event:`, `id:`, one `data:` line of JSON, a blank
 * line; a comment line as heartbeat so proxies and load balancers keep an idle stream open.
 */
export function createEventStreams(): EventStreams {
  const open = new Set<EventStream>();
  return {
    open(res, options) {
      res.status(200);
      res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
      res.setHeader('Cache-Control', 'no-store');
      res.setHeader('Connection', 'keep-alive');
      // nginx (and ingress-nginx) buffer answers unless told not to.
      res.setHeader('X-Accel-Buffering', 'no');
      res.flushHeaders();
      let ended = false;
      let markClosed!: () => void;
      const closed = new Promise<void>((resolve) => {
        markClosed = resolve;
      });
      const write = (text: string): Promise<void> => {
        if (ended) return Promise.resolve();
        if (res.write(text)) return Promise.resolve();
        return new Promise<void>((resolve) => {
          const done = () => {
            res.off('drain', done);
            res.off('close', done);
            resolve();
          };
          res.once('drain', done);
          res.once('close', done);
        });
      };
      const heartbeat = setInterval(() => void write(': heartbeat\n\n'), options.heartbeatMs);
      const stream: EventStream = {
        send(event, data, id) {
          const idLine = id === undefined ? '' : `id: ${id}\n`;
          // JSON.stringify escapes line breaks, so the data stays on one line.
          return write(`event: ${event}\n${idLine}data: ${JSON.stringify(data)}\n\n`);
        },
        close() {
          if (ended) return;
          ended = true;
          clearInterval(heartbeat);
          open.delete(stream);
          res.end();
          markClosed();
        },
        closed,
      };
      res.on('close', () => stream.close());
      open.add(stream);
      // The browser reconnects after this long if the connection drops.
      void write(`retry: 2000\n\n`);
      return stream;
    },
    closeAll() {
      for (const stream of [...open]) stream.close();
    },
  };
}
