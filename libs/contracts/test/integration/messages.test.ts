import { expect } from 'chai';
import { Registry } from 'prom-client';
import { createBus, topologyNames, type Bus, type Topology } from '@stacklink/bus';
import { isAppError } from '@stacklink/errors';
import { createSilentLogger } from '@stacklink/logger';
import { deleteNamespace, RABBITMQ_URL, uniqueNamespace, waitFor } from '@stacklink/testing';
import {
  integrationEventsExchange,
  integrationEventsQueue,
  publishIntegrationEvent,
  publishRunMessage,
  RUN_READY,
  RUNS_EXCHANGE,
  RUNS_READY_QUEUE,
  runsExchange,
  runsReadyQueueSpec,
  subscribeIntegrationEvents,
  subscribeRunMessages,
  type IntegrationEvent,
  type RunMessage,
} from '../../src';

const ready: RunMessage<typeof RUN_READY> = {
  specVersion: 1,
  type: RUN_READY,
  runId: 'run-1',
  version: 1,
  state: 'QUEUED',
  runType: 'tracked',
  commit: 'c'.repeat(40),
  ref: 'refs/heads/main',
  trigger: { kind: 'push' },
  stack: {
    id: 's',
    name: 'n',
    integrationId: 'i',
    repository: { projectKey: 'P', slug: 'r' },
    projectRoot: '',
  },
  occurredAt: new Date().toISOString(),
};

describe('typed publish and subscribe (real RabbitMQ)', () => {
  const namespace = uniqueNamespace('contracts');
  const feed = 'contracts-test.integration-events';
  const topology: Topology = {
    exchanges: [runsExchange, integrationEventsExchange],
    queues: [{ ...runsReadyQueueSpec, retry: { delaysMs: [50] } }, integrationEventsQueue(feed)],
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

  it('delivers a published run.ready to its handler, typed, with its id and headers', async () => {
    const got: { run: RunMessage; id: string | undefined; headers: Record<string, unknown> }[] = [];
    const consumer = await subscribeRunMessages(bus, RUNS_READY_QUEUE, RUN_READY, async (run, msg) => {
      got.push({ run, id: msg.messageId, headers: msg.headers });
    });
    await publishRunMessage(bus, ready);
    await waitFor(() => got.length === 1, { message: 'the run arrives' });
    await consumer.cancel();
    expect(got[0]!.run).to.deep.equal(ready);
    expect(got[0]!.id).to.equal('run-1:1:run.ready');
    expect(got[0]!.headers).to.include({ runId: 'run-1', stackId: 's', state: 'QUEUED', version: 1 });
  });

  it('refuses to publish a message off its schema, and sends nothing', async () => {
    const err = await publishRunMessage(bus, { ...ready, runType: 'nightly' as RunMessage['runType'] }).catch(
      (e: unknown) => e,
    );
    expect(isAppError(err) && err.code === 'RUNS.INVALID_MESSAGE' && !err.retryable).to.equal(true);
  });

  it('dead-letters a message that does not conform at once, without calling the handler', async () => {
    const handled: unknown[] = [];
    const consumer = await subscribeRunMessages(bus, RUNS_READY_QUEUE, RUN_READY, async (run) => {
      handled.push(run);
    });
    const { trigger: _trigger, ...withoutTrigger } = ready;
    await bus.publish(RUNS_EXCHANGE, RUN_READY, withoutTrigger, { messageId: 'bad-run' });
    await waitFor(
      async () => (await bus.inspectDeadLetters(RUNS_READY_QUEUE)).some((d) => d.messageId === 'bad-run'),
      { message: 'the message is parked' },
    );
    await consumer.cancel();
    const parked = (await bus.inspectDeadLetters(RUNS_READY_QUEUE)).find((d) => d.messageId === 'bad-run');
    expect(parked?.errorCode).to.equal('RUNS.INVALID_MESSAGE');
    expect(parked?.attempts).to.equal(1);
    expect(handled).to.deep.equal([]);
  });

  it('delivers integration events, typed, to a feed bound to every type', async () => {
    const got: IntegrationEvent[] = [];
    const consumer = await subscribeIntegrationEvents(bus, feed, async (event) => void got.push(event));
    const event: IntegrationEvent = {
      type: 'integration.deleted',
      integrationId: 'int-9',
      occurredAt: new Date().toISOString(),
    };
    await publishIntegrationEvent(bus, event);
    await waitFor(() => got.length === 1, { message: 'the event arrives' });
    await consumer.cancel();
    expect(got).to.deep.equal([event]);
  });
});
