import { expect } from 'chai';
import { Registry } from 'prom-client';
import { createBus, topologyNames, type Bus } from '@stacklink/bus';
import { createSilentLogger } from '@stacklink/logger';
import { deleteNamespace, RABBITMQ_URL, uniqueNamespace, waitFor } from '@stacklink/testing';
import {
  normalize,
  subscribeEvents,
  toBusMessage,
  vcsEventsQueue,
  VCS_EVENTS_EXCHANGE,
  type CanonicalEvent,
} from '../../src';
import { loadWebhook } from '../support/fixtures';

function fixtureEvent(file: string, eventKey: string, id: string): CanonicalEvent {
  const body = loadWebhook(file);
  const result = normalize({
    eventKey,
    deliveryId: `d-${id}`,
    integrationId: 'int-1',
    receivedAt: new Date(),
    body,
    id,
  });
  if (result.kind !== 'event') throw new Error(`${file} did not normalize`);
  return result.event;
}

describe('subscribeEvents (real RabbitMQ)', () => {
  const namespace = uniqueNamespace('events');
  const topology = {
    exchanges: [{ name: VCS_EVENTS_EXCHANGE }],
    queues: [
      vcsEventsQueue('prs', ['bitbucket-dc.pull_request.*'], { delaysMs: [50] }),
      vcsEventsQueue('pushes', ['bitbucket-dc.push'], { delaysMs: [50] }),
    ],
  };
  let bus: Bus;

  before(async () => {
    bus = createBus({
      url: RABBITMQ_URL,
      logger: createSilentLogger(),
      topology,
      namespace,
      metricsRegistry: new Registry(),
    });
    await bus.start();
  });

  after(async () => {
    await bus.close();
    await deleteNamespace({ namespace, amqpUrl: RABBITMQ_URL, ...topologyNames(topology) });
  });

  it('routes each type to the queues bound to its routing key, with the filtering headers, as typed events', async () => {
    const pr = fixtureEvent('pr-opened-draft.json', 'pr:opened', '00000000-0000-4000-8000-000000000001');
    const push = fixtureEvent(
      'push-branch-update.json',
      'repo:refs_changed',
      '00000000-0000-4000-8000-000000000002',
    );
    const prs: { event: CanonicalEvent; headers: Record<string, unknown> }[] = [];
    const pushes: CanonicalEvent[] = [];
    const a = await subscribeEvents(
      bus,
      'prs',
      async (event, msg) => void prs.push({ event, headers: msg.headers }),
    );
    const b = await subscribeEvents(bus, 'pushes', async (event) => void pushes.push(event));

    for (const event of [pr, push]) {
      const m = toBusMessage(event);
      await bus.publish(m.exchange, m.routingKey, m.body, {
        messageId: m.messageId,
        headers: { ...m.headers },
      });
    }
    await waitFor(() => prs.length === 1 && pushes.length === 1, { message: 'each queue got its event' });
    await a.cancel();
    await b.cancel();

    expect(prs[0]!.event).to.deep.equal(pr);
    expect(prs[0]!.headers).to.include({
      integrationId: 'int-1',
      projectKey: pr.repository.projectKey,
      repositorySlug: pr.repository.slug,
      eventType: 'pull_request.opened',
    });
    expect(pushes[0]!.type).to.equal('push');
  });

  it('a message that is not a valid event is dead-lettered without reaching the handler', async () => {
    let calls = 0;
    const handle = await subscribeEvents(bus, 'pushes', async () => void (calls += 1));
    await bus.publish(
      VCS_EVENTS_EXCHANGE,
      'bitbucket-dc.push',
      { specVersion: 1, type: 'push' },
      { messageId: 'bad-1' },
    );

    await waitFor(async () => (await bus.inspectDeadLetters('pushes')).some((d) => d.messageId === 'bad-1'), {
      message: 'the invalid event is parked',
    });
    await handle.cancel();
    const parked = (await bus.inspectDeadLetters('pushes')).find((d) => d.messageId === 'bad-1');
    expect(parked?.errorCode).to.equal('EVENT.INVALID');
    expect(parked?.attempts).to.equal(1);
    expect(calls).to.equal(0);
  });
});
