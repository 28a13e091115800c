import { createServer, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from '@stacklink/logger';

export interface RunningServer {
  server: Server;
  port: number;
  url: string;
  /**
   * Graceful stop: refuse new connections, let in-flight requests finish, close idle keep-alive
   * connections at once and everything else after `timeoutMs`.
   */
  close(timeoutMs?: number): Promise<void>;
}

/** `app` is an express app or any node:http listener (the gateway's webhook fast path is one). */
export async function startServer(
  app: RequestListener,
  options: { port: number; host?: string; logger: Logger; shutdownTimeoutMs?: number },
): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const server = createServer(app);
  server.listen(options.port, host);
  // Keep-alive must outlive a load balancer's idle timeout so it never reuses a socket we closed.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  const sockets = new Set<Socket>();
  let stopping = false;
  // Nothing per request unless stopping (this listener runs on the gateway's hot path too): a request
  // that arrives during shutdown is told to close its connection; see close() for the others.
  server.on('request', (_req, res: ServerResponse) => {
    // The gateway's webhook route may have answered already, synchronously (a refusal before any body).
    if (stopping && !res.headersSent) res.setHeader('Connection', 'close');
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  const close = (timeoutMs = options.shutdownTimeoutMs ?? 10_000): Promise<void> => {
    stopping = true;
    closing ??= new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        options.logger.warn('shutdown timeout: closing remaining connections', { open: sockets.size });
        server.closeAllConnections();
      }, timeoutMs);
      timer.unref();
      // A keep-alive socket whose last response finishes during shutdown goes idle; closing idle
      // sockets every 50 ms lets server.close() finish then instead of at the timeout.
      const sweep = setInterval(() => server.closeIdleConnections(), 50);
      sweep.unref();
      server.close(() => {
        clearTimeout(timer);
        clearInterval(sweep);
        resolve();
      });
      server.closeIdleConnections();
    });
    return closing;
  };
  return { server, port, url: `http://${host}:${port}`, close };
}
