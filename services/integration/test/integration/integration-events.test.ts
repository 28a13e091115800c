import { expect } from 'chai';
import { Registry } from 'prom-client';
import { createBus, topologyNames, type Bus, type IncomingMessage, type Topology } from '@stacklink/bus';
import { validateIntegrationEvent } from '@stacklink/contracts';
import { AppError } from '@stacklink/errors';
import { createCapturingLogger, createSilentLogger } from '@stacklink/logger';
import { deleteNamespace, RABBITMQ_URL, uniqueNamespace, waitFor } from '@stacklink/testing';
import { integrationInput, startService, type RunningService } from '../support/start-service';

const TEST_QUEUE = 'test.integration-events';
const consumerTopology: Topology = {
  exchanges: [{ name: 'integration.events', type: 'topic' }],
  queues: [{ name: TEST_QUEUE, bindings: [{ exchange: 'integration.events', pattern: 'integration.#' }] }],
};

describe('integration events', () => {
  describe('on RabbitMQ', () => {
    let service: RunningService;
    let consumer: Bus;
    let namespace: string;
    const received: IncomingMessage[] = [];

    before(async () => {
      namespace = uniqueNamespace('integration-events');
      // A consumer of our own, bound like the gateway's cache would be, in this run's namespace.
      consumer = createBus({
        url: RABBITMQ_URL,
        logger: createSilentLogger(),
        namespace,
        topology: consumerTopology,
        metricsRegistry: new Registry(),
      });
      await consumer.start();
      await consumer.consume(TEST_QUEUE, async (msg) => {
        received.push(msg);
      });
      service = await startService({ namespace });
    });
    after(async () => {
      await service.close();
      await consumer.close();
      await deleteNamespace({ namespace, amqpUrl: RABBITMQ_URL, ...topologyNames(consumerTopology) });
    });

    it('publishes created, updated, secret_rotated and deleted on integration.events, routed by type', async () => {
      const input = integrationInput();
      const created = (await service.admin('POST', '/integrations', input)).body;
      await service.admin('PATCH', `/integrations/${created.id}`, { username: 'other' });
      const rotated = (await service.admin('POST', `/integrations/${created.id}/webhook-secret/rotate`)).body;
      await service.admin('DELETE', `/integrations/${created.id}`);

      const mine = () =>
        received.filter((m) => (m.body as { integrationId?: string }).integrationId === created.id);
      await waitFor(() => mine().length >= 4, { timeoutMs: 5000, message: 'four integration events arrive' });
      const events = mine();
      expect(events.map((m) => m.routingKey)).to.deep.equal([
        'integration.created',
        'integration.updated',
        'integration.secret_rotated',
        'integration.deleted',
      ]);
      for (const m of events) {
        expect(m.exchange).to.equal('integration.events');
        expect(m.messageId).to.be.a('string');
        expect(m.body).to.deep.equal({
          type: m.routingKey,
          integrationId: created.id,
          occurredAt: service.clock.now().toISOString(),
        });
        // Exactly the contract gateways read (@stacklink/contracts), with no field it does not name.
        expect(validateIntegrationEvent(m.body, 'producer')).to.deep.equal(m.body);
        const raw = m.content.toString('utf8');
        expect(raw).to.not.contain(input.accessToken);
        expect(raw).to.not.contain(created.webhook.secret);
        expect(raw).to.not.contain(rotated.webhook.secret);
      }
    });

    it('publishes nothing for a refused request', async () => {
      const before = received.length;
      const bad = await service.admin('POST', '/integrations', integrationInput({ apiHost: 'nope' }));
      expect(bad.status).to.equal(400);
      // A later event proves the queue is flowing; nothing may have arrived before it.
      const marker = (await service.admin('POST', '/integrations', integrationInput())).body.id as string;
      await waitFor(
        () => received.some((m) => (m.body as { integrationId: string }).integrationId === marker),
        {
          message: 'the marker event arrives',
        },
      );
      expect(
        received.slice(before).map((m) => (m.body as { integrationId: string }).integrationId),
      ).to.deep.equal([marker]);
    });
  });

  describe('when the broker does not confirm', () => {
    let service: RunningService;
    const capture = createCapturingLogger('integration');
    before(async () => {
      service = await startService({
        logger: capture.logger,
        events: {
          publish: async () => {
            throw new AppError('BUS.PUBLISH_FAILED', 'no confirm from the broker within 5000 ms', {
              status: 503,
              retryable: true,
              details: { reason: 'timeout' },
            });
          },
        },
      });
    });
    after(async () => service.close());

    it('still answers the API call (the store is the truth), logs it and counts it', async () => {
      const res = await service.admin('POST', '/integrations', integrationInput());
      expect(res.status).to.equal(201);
      expect(await service.repository.findById(res.body.id as string)).to.not.equal(undefined);
      const line = capture.lines.find((l) => l.eventType === 'integration.created');
      expect(line, 'a log line about the lost event').to.not.equal(undefined);
      expect(line!.level).to.equal('error');
      const metrics = await service.registry.metrics();
      expect(metrics).to.contain(
        'stacklink_integration_event_publish_failures_total{type="integration.created"} 1',
      );
    });
  });
});
