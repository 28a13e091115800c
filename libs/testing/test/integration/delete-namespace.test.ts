import { expect } from 'chai';
import amqp from 'amqplib';
import Redis from 'ioredis';
import { deleteNamespace, RABBITMQ_URL, REDIS_URL, uniqueNamespace } from '../../src';

describe('deleteNamespace', () => {
  it('deletes the namespace queues, exchanges and Redis keys and leaves everything else alone', async () => {
    const namespace = uniqueNamespace('cleanup');
    const other = uniqueNamespace('bystander');
    const connection = await amqp.connect(RABBITMQ_URL);
    const redis = new Redis(REDIS_URL);
    try {
      const setup = await connection.createChannel();
      await setup.assertExchange(`${namespace}.events`, 'topic', { durable: true });
      await setup.assertQueue(`${namespace}.work`, { durable: true });
      await setup.assertQueue(`${other}.work`, { durable: true });
      await redis.set(`${namespace}:dedup:1`, 'x');
      await redis.set(`${namespace}.lock`, 'x');
      await redis.set(`${other}:dedup:1`, 'x');

      const deleted = await deleteNamespace({
        namespace,
        amqpUrl: RABBITMQ_URL,
        redisUrl: REDIS_URL,
        queues: ['work'],
        exchanges: ['events'],
      });

      expect(deleted).to.deep.equal({ queues: 1, exchanges: 1, redisKeys: 2 });
      const probe = await connection.createChannel();
      probe.on('error', () => undefined);
      const missing = await probe.checkQueue(`${namespace}.work`).then(
        () => 'exists',
        (err: Error) => err.message,
      );
      expect(missing).to.contain('NOT_FOUND');
      const survivor = await connection.createChannel();
      expect((await survivor.checkQueue(`${other}.work`)).queue).to.equal(`${other}.work`);
      expect(await redis.exists(`${namespace}:dedup:1`, `${namespace}.lock`)).to.equal(0);
      expect(await redis.get(`${other}:dedup:1`)).to.equal('x');
      await survivor.deleteQueue(`${other}.work`);
    } finally {
      await redis.del(`${other}:dedup:1`);
      redis.disconnect();
      await connection.close();
    }
  });

  it('deletes the names of several topologies, each name once however many topologies declare it', async () => {
    const namespace = uniqueNamespace('cleanup-topologies');
    const connection = await amqp.connect(RABBITMQ_URL);
    try {
      const setup = await connection.createChannel();
      await setup.assertExchange(`${namespace}.shared`, 'topic', { durable: true });
      await setup.assertQueue(`${namespace}.a`, { durable: true });
      await setup.assertQueue(`${namespace}.b`, { durable: true });

      const deleted = await deleteNamespace({
        namespace,
        amqpUrl: RABBITMQ_URL,
        topologies: [
          { exchanges: ['shared'], queues: ['a'] },
          { exchanges: ['shared'], queues: ['b'] },
        ],
      });

      expect(deleted).to.deep.equal({ queues: 2, exchanges: 1, redisKeys: 0 });
      const probe = await connection.createChannel();
      probe.on('error', () => undefined);
      const missing = await probe.checkExchange(`${namespace}.shared`).then(
        () => 'exists',
        (err: Error) => err.message,
      );
      expect(missing).to.contain('NOT_FOUND');
    } finally {
      await connection.close();
    }
  });

  it('refuses an empty namespace instead of deleting every key', async () => {
    const error = await deleteNamespace({ namespace: '', redisUrl: REDIS_URL }).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(error?.message).to.contain('non-empty namespace');
  });
});
