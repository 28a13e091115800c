import net from 'node:net';
import { expect } from 'chai';
import Redis from 'ioredis';
import { createTcpProxy, REDIS_URL, TcpProxy, waitFor } from '../../src';

const redisTarget = new URL(REDIS_URL);

/** A raw client so the test sees exactly what the socket does, with no client-side reconnect logic. */
function connectRaw(
  port: number,
): Promise<{ socket: net.Socket; received: () => string; closed: () => boolean }> {
  return new Promise((resolve, reject) => {
    let data = '';
    let isClosed = false;
    const socket = net.connect({ host: '127.0.0.1', port }, () =>
      resolve({ socket, received: () => data, closed: () => isClosed }),
    );
    socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
    socket.on('close', () => (isClosed = true));
    socket.on('error', reject);
  });
}

describe('createTcpProxy', () => {
  let proxy: TcpProxy;

  beforeEach(async () => {
    proxy = await createTcpProxy({
      targetHost: redisTarget.hostname,
      targetPort: Number(redisTarget.port || 6379),
    });
  });

  afterEach(async () => {
    await proxy.close();
  });

  it('forwards traffic to the target and rewrites URLs to point at itself', async () => {
    expect(proxy.urlFor('redis://127.0.0.1:6379/0')).to.equal(`redis://127.0.0.1:${proxy.port}/0`);
    expect(proxy.urlFor('amqp://guest:guest@127.0.0.1:5672')).to.equal(
      `amqp://guest:guest@127.0.0.1:${proxy.port}`,
    );

    const client = await connectRaw(proxy.port);
    client.socket.write('PING\r\n');

    await waitFor(() => client.received().includes('+PONG'), { message: 'no PONG through the proxy' });
    client.socket.destroy();
  });

  it('when cut, it breaks live connections and refuses new ones until restored', async () => {
    const live = await connectRaw(proxy.port);
    await waitFor(() => proxy.connectionCount() === 1, { message: 'proxy never saw the connection' });

    await proxy.cut();

    await waitFor(() => live.closed(), { message: 'the live connection survived the cut' });
    const refused = await connectRaw(proxy.port);
    await waitFor(() => refused.closed(), { message: 'a new connection was accepted while cut' });
    expect(refused.received()).to.equal('');

    await proxy.restore();
    const again = await connectRaw(proxy.port);
    again.socket.write('PING\r\n');
    await waitFor(() => again.received().includes('+PONG'), { message: 'no PONG after restore' });
    again.socket.destroy();
  });

  it('when frozen, the connection stays open but silent, and the held bytes flow after restore', async () => {
    const client = await connectRaw(proxy.port);
    await waitFor(() => proxy.connectionCount() === 1, { message: 'proxy never saw the connection' });
    await proxy.freeze();

    client.socket.write('PING\r\n');
    // Silence cannot be awaited with waitFor; a PING round trip on loopback takes well under 200 ms, so
    // a frozen proxy is proven by a waitFor for the answer that must time out.
    const answered = await waitFor(() => client.received().includes('+PONG'), { timeoutMs: 200 }).then(
      () => true,
      () => false,
    );
    expect(answered).to.equal(false);
    expect(client.closed()).to.equal(false);

    await proxy.restore();
    await waitFor(() => client.received().includes('+PONG'), {
      message: 'held PING never answered after restore',
    });
    client.socket.destroy();
  });

  it('an ioredis client through the proxy loses its connection when cut', async () => {
    const redis = new Redis(proxy.urlFor(REDIS_URL), {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    await redis.connect();
    expect(await redis.ping()).to.equal('PONG');

    await proxy.cut();

    await waitFor(() => redis.status === 'end', { message: 'ioredis did not notice the cut' });
    redis.disconnect();
  });
});
