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

  it('two processes each get their own copy of an announcement on their own transient queue', async () => {
    const a = h.bus();
    const b = new Harness(topology);
    const busB = b.bus();
    try {
      const gotA: unknown[] = [];
      const gotB: unknown[] = [];
      await a.consume('replica-feed', async (m) => void gotA.push(m.body));
      await busB.consume('replica-feed', async (m) => void gotB.push(m.body));
      await a.start();
      await busB.start();
      // Each harness has its own namespace, so publish to both exchanges as a real pair would share one.
      await a.publish('announcements', 'k', { v: 1 }, { messageId: 'a1' });
      await busB.publish('announcements', 'k', { v: 1 }, { messageId: 'b1' });
      await waitFor(() => gotA.length === 1 && gotB.length === 1, { message: 'each replica got its copy' });
    } finally {
      await b.cleanup();
    }
  });
});
