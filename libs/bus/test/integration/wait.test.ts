import { expect } from 'chai';
import { AppError } from '@stacklink/errors';
import { waitFor } from '@stacklink/testing';
import type { Topology } from '../../src';
import { Harness } from './harness';

const topology: Topology = {
  exchanges: [{ name: 'events' }],
  queues: [
    {
      name: 'waiting',
      bindings: [{ exchange: 'events', pattern: 'work.#' }],
      retry: { delaysMs: [100, 300], wait: { delayMs: 150, horizonMs: 1500 } },
    },
  ],
};

const hostDown = () =>
  Object.assign(new AppError('BITBUCKET.HOST_DOWN', 'Bitbucket is down', { retryable: true }), {
    waitMs: 10_000,
  });

describe('bus wait outcome (real RabbitMQ)', () => {
  let h: Harness;

  beforeEach(() => {
    h = new Harness(topology);
  });

  afterEach(async () => {
    await h.cleanup();
  });

  it('a message whose dependency is down waits longer than its whole retry schedule without using up an attempt, then succeeds', async () => {
    const bus = h.bus();
    await bus.start();
    const seen: { attempt: number; at: number }[] = [];
    let downUntil = Date.now() + 1000;
    await bus.consume('waiting', async (msg) => {
      seen.push({ attempt: msg.attempt, at: Date.now() });
      if (Date.now() < downUntil) throw hostDown();
    });
    await bus.publish('events', 'work.created', { id: 1 }, { messageId: 'w-1' });
    await waitFor(() => seen.length > 0 && Date.now() >= downUntil && seen.at(-1)!.at >= downUntil, {
      timeoutMs: 5000,
      message: 'the waiting message never came back after the dependency did',
    });
    downUntil = 0;
    // Far more tries than the two retries the schedule allows, every one still the first attempt.
    expect(seen.length).to.be.at.least(4);
    expect(seen.every((s) => s.attempt === 1)).to.equal(true);
    expect(await h.readyCount('waiting.dlq')).to.equal(0);
    expect(await h.metric('stacklink_bus_retried_total', { queue: 'waiting' })).to.equal(0);
    expect(
      await h.metric('stacklink_bus_waited_total', { queue: 'waiting', code: 'BITBUCKET.HOST_DOWN' }),
    ).to.equal(seen.length - 1);
  });

  it('a message that waits past the horizon is dead-lettered with the wait error', async () => {
    const bus = h.bus();
    await bus.start();
    let tries = 0;
    await bus.consume('waiting', async () => {
      tries += 1;
      throw hostDown();
    });
    await bus.publish('events', 'work.created', { id: 2 }, { messageId: 'w-2' });
    await waitFor(async () => (await h.readyCount('waiting.dlq')) === 1, {
      timeoutMs: 6000,
      message: 'the message never reached the DLQ after the horizon',
    });
    const [parked] = await bus.inspectDeadLetters('waiting');
    expect(parked).to.deep.include({ messageId: 'w-2', errorCode: 'BITBUCKET.HOST_DOWN', attempts: 1 });
    expect(tries).to.be.at.least(5);
  });
});
