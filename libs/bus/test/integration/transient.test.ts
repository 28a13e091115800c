import { expect } from 'chai';
import { waitFor } from '@stacklink/testing';
import type { IncomingMessage, Topology } from '../../src';
import { Harness, rejectionOf } from './harness';

const topology: Topology = {
  exchanges: [{ name: 'announcements' }],
  queues: [
    { name: 'replica-feed', bindings: [{ exchange: 'announcements', pattern: '#' }], transient: true },
  ],
};

describe('bus transient queues (real RabbitMQ)', () => {
  let h: Harness;

  beforeEach(() => {
    h = new Harness(topology);
  });

  afterEach(async () => {
    await h.cleanup();
  });

  it('a transient queue receives what is published, drops a failing message without retry, and is gone after close', async () => {
    const bus = h.bus();
    const seen: IncomingMessage[] = [];
    await bus.consume('replica-feed', async (msg) => {
      seen.push(msg);
      if ((msg.body as { fail?: boolean }).fail) throw new Error('handler broke');
    });
    await bus.start();

    await bus.publish('announcements', 'x.changed', { fail: true }, { messageId: 'm1' });
    await bus.publish('announcements', 'x.changed', { n: 2 }, { messageId: 'm2' });
    await waitFor(() => seen.length >= 2, { message: 'both messages delivered' });

    expect(seen.map((m) => m.messageId)).to.deep.equal(['m1', 'm2']);
    expect(seen.every((m) => m.attempt === 1)).to.equal(true);
    // No dead-letter queue exists for a transient queue.
    const channel = await h.adminChannel();
    const missingDlq = await rejectionOf(channel.checkQueue(h.physical('replica-feed.dlq')));
    expect(String(missingDlq.message)).to.contain('NOT_FOUND');

    await bus.close();
    const check = await h.adminChannel();
    const gone = await rejectionOf(check.checkQueue(h.physical('replica-feed')));
    expect(String(gone.message)).to.contain('NOT_FOUND');
  });

  it('two processes each get their own copy of one announcement, on a transient queue of their own', async () => {
    // As the gateway's replicas do: one exchange, one queue per process, named after the process.
    const replica = (queue: string): Topology => ({
      exchanges: topology.exchanges,
      queues: [{ ...topology.queues[0]!, name: queue }],
    });
    const a = h.bus({ topology: replica('replica-feed-a') });
    const b = h.bus({ topology: replica('replica-feed-b') });
    const gotA: unknown[] = [];
    const gotB: unknown[] = [];
    await a.consume('replica-feed-a', async (m) => void gotA.push(m.body));
    await b.consume('replica-feed-b', async (m) => void gotB.push(m.body));
    await Promise.all([a.start(), b.start()]);

    await a.publish('announcements', 'k', { v: 1 }, { messageId: 'a1' });

    await waitFor(() => gotA.length === 1 && gotB.length === 1, { message: 'each replica got its copy' });
    expect(gotA).to.deep.equal([{ v: 1 }]);
    expect(gotB).to.deep.equal([{ v: 1 }]);
  });
});
