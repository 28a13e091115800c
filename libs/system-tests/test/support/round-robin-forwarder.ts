import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RoundRobinForwarder {
  url: string;
  /** How many requests each target received, in target order. */
  readonly forwarded: number[];
  close(): Promise<void>;
}

/**
 * The load balancer in front of the gateway replicas (docs/architecture.md §2): each request goes to the next
 * target in turn, path, headers and raw body unchanged; the target's answer goes back unchanged. A
 * target that cannot be reached answers 502, as a load balancer would.
 */
export async function startRoundRobinForwarder(targets: () => string[]): Promise<RoundRobinForwarder> {
  let next = 0;
  const forwarded: number[] = [];
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const server = http.createServer((req, res) => {
    const list = targets();
    const index = next++ % list.length;
    forwarded[index] = (forwarded[index] ?? 0) + 1;
    const target = new URL(req.url ?? '/', list[index]);
    const upstream = http.request(target, { method: req.method, headers: req.headers, agent }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`forwarder: ${err.message}`);
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    forwarded,
    close() {
      agent.destroy();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
