import net from 'node:net';

export interface TcpProxyOptions {
  targetHost: string;
  targetPort: number;
}

/**
 * A TCP forwarder on 127.0.0.1 in front of RabbitMQ or Redis, so a test can break the network under a
 * client without touching the server that other test runs share.
 */
export interface TcpProxy {
  readonly host: string;
  readonly port: number;
  /** The given URL (amqp://, redis://…) with its host and port replaced by the proxy's. */
  urlFor(url: string): string;
  /** Connections currently forwarded. */
  connectionCount(): number;
  /** Destroys every live connection and refuses new ones, like a peer that went away. */
  cut(): Promise<void>;
  /**
   * Stops forwarding bytes in both directions but keeps the sockets open, like a network partition:
   * the client sees no error, only silence. `restore()` lets the held bytes through again.
   */
  freeze(): Promise<void>;
  /** Accepts connections again and unfreezes the frozen ones. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

interface Pair {
  client: net.Socket;
  upstream: net.Socket;
}

export async function createTcpProxy(options: TcpProxyOptions): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let refusing = false;
  let frozen = false;

  const destroyPair = (pair: Pair): void => {
    pairs.delete(pair);
    pair.client.destroy();
    pair.upstream.destroy();
  };

  // Manual forwarding instead of pipe(): pipe() resumes a paused source on its own, which would
  // defeat freeze().
  const forward = (from: net.Socket, to: net.Socket): void => {
    from.on('data', (chunk: Buffer) => {
      if (!to.write(chunk)) from.pause();
    });
    to.on('drain', () => {
      if (!frozen) from.resume();
    });
  };

  const server = net.createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = net.connect({ host: options.targetHost, port: options.targetPort });
    const pair: Pair = { client, upstream };
    pairs.add(pair);
    forward(client, upstream);
    forward(upstream, client);
    if (frozen) {
      client.pause();
      upstream.pause();
    }
    const end = (): void => destroyPair(pair);
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;

  return {
    host: '127.0.0.1',
    port,
    urlFor(url: string): string {
      const parsed = new URL(url);
      parsed.hostname = '127.0.0.1';
      parsed.port = String(port);
      return parsed.toString();
    },
    connectionCount: () => pairs.size,
    async cut() {
      refusing = true;
      for (const pair of [...pairs]) destroyPair(pair);
    },
    async freeze() {
      frozen = true;
      for (const { client, upstream } of pairs) {
        client.pause();
        upstream.pause();
      }
    },
    async restore() {
      refusing = false;
      frozen = false;
      for (const { client, upstream } of pairs) {
        client.resume();
        upstream.resume();
      }
    },
    async close() {
      refusing = true;
      for (const pair of [...pairs]) destroyPair(pair);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
