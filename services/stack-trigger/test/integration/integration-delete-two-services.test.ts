import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { expect } from 'chai';
import { createSilentLogger } from '@stacklink/logger';
import { loadIntegrationConfig, startIntegrationService } from '@stacklink/integration';
import { RABBITMQ_URL, REDIS_URL } from '@stacklink/testing';
import { loadApiConfig } from '../../src/config';
import type { RunningRole } from '@stacklink/http';
import { startStackTriggerApi } from '../../src/roles/api';
import { VCS_EVENTS_QUEUE } from '@stacklink/contracts';
import { pushEvent } from '../support/events';
import {
  ADMIN_TOKEN,
  INTERNAL_TOKEN,
  PROJECT,
  startTriggerHarness,
  waitForRuns,
  type TriggerHarness,
} from '../support/trigger-harness';

/** The JSON bodies these calls read: a stack, an integration or an error. */
interface Answer {
  id: string;
  name: string;
  error: { code: string; message: string; details: { stacks: unknown } };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * The integration service and the stack-trigger API, both real and in-process, each pointing at the
 * other (docs/architecture.md §4: the integration service asks stack-trigger's internal API which stacks use
 * an integration before deleting it). The trigger harness supplies RabbitMQ, Redis, the store, the
 * Bitbucket simulator and a trigger worker.
 */
describe('deleting an integration with the integration service and stack-trigger together', function () {
  this.timeout(30_000);
  let h: TriggerHarness;
  let api: RunningRole;
  let integrations: Awaited<ReturnType<typeof startIntegrationService>>;

  before(async () => {
    h = await startTriggerHarness();
    const apiPort = await freePort();
    integrations = await startIntegrationService(
      loadIntegrationConfig({
        PORT: '0',
        HOST: '127.0.0.1',
        STORE_URL: `sqlite:${h.storeUrl.slice('sqlite:'.length).replace(/\.db$/, '-integrations.db')}`,
        RABBITMQ_URL,
        NAMESPACE: h.namespace,
        ADMIN_TOKEN,
        INTERNAL_TOKEN,
        MASTER_KEY: randomBytes(32).toString('base64'),
        PUBLIC_WEBHOOK_BASE_URL: 'http://127.0.0.1:9',
        STACK_TRIGGER_URL: `http://127.0.0.1:${apiPort}`,
        LOG_LEVEL: 'error',
      }),
      { logger: createSilentLogger() },
    );
    api = await startStackTriggerApi(
      loadApiConfig({
        PORT: String(apiPort),
        STORE_URL: h.storeUrl,
        REDIS_URL,
        RABBITMQ_URL,
        NAMESPACE: h.namespace,
        ADMIN_TOKEN,
        INTERNAL_TOKEN,
        INTEGRATION_URL: integrations.url,
        LOG_LEVEL: 'error',
      }),
      { logger: createSilentLogger() },
    );
  });
  after(async () => {
    await api?.stop();
    await integrations?.stop();
    await h?.close();
  });

  const call = async (base: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: (text === '' ? {} : JSON.parse(text)) as Answer };
  };

  it('refuses with 409 naming the stack, then with ?force=true deletes it and disables the stack, whose events start no run', async () => {
    const slug = h.addRepository();
    const created = await call(`${integrations.url}/api/v1`, 'POST', '/integrations', {
      name: `two-services-${h.namespace}`,
      apiHost: h.sim.url,
      userFacingHost: h.sim.url,
      username: 'ci',
      accessToken: 'sim-token-for-trigger-tests',
    });
    expect(created.status).to.equal(201);
    const integrationId = created.body.id;
    const stack = await call(`${api.url}/api/v1`, 'POST', '/stacks', {
      name: `uses-${slug}`,
      integrationId,
      repository: { projectKey: PROJECT, slug },
      branch: 'main',
      projectRoot: 'stacks/app',
    });
    expect(stack.status).to.equal(201);
    expect(stack.body).to.include({ enabled: true, prComments: false });

    // What the integration service reads: {stacks: [{id, name, …}]}.
    const internal = await fetch(`${api.url}/internal/v1/stacks?integrationId=${integrationId}`, {
      headers: { authorization: `Bearer ${INTERNAL_TOKEN}` },
    });
    const listed = (await internal.json()) as { stacks: { id: string; name: string }[] };
    expect(listed.stacks.map((s) => ({ id: s.id, name: s.name }))).to.deep.equal([
      { id: stack.body.id, name: stack.body.name },
    ]);

    const refused = await call(`${integrations.url}/api/v1`, 'DELETE', `/integrations/${integrationId}`);
    expect(refused.status).to.equal(409);
    expect(refused.body.error.code).to.equal('INTEGRATION.IN_USE');
    expect(refused.body.error.message).to.contain(`${stack.body.name} (${stack.body.id})`);
    expect(refused.body.error.details.stacks).to.deep.equal([{ id: stack.body.id, name: stack.body.name }]);
    expect(
      (await call(`${integrations.url}/api/v1`, 'GET', `/integrations/${integrationId}`)).status,
    ).to.equal(200);

    const forced = await call(
      `${integrations.url}/api/v1`,
      'DELETE',
      `/integrations/${integrationId}?force=true`,
    );
    expect(forced.status).to.equal(204);
    expect(
      (await call(`${integrations.url}/api/v1`, 'GET', `/integrations/${integrationId}`)).status,
    ).to.equal(404);
    const disabled = await call(`${api.url}/api/v1`, 'GET', `/stacks/${stack.body.id}`);
    expect(disabled.body).to.include({
      enabled: false,
      disabledReason: `integration ${integrationId} was deleted`,
    });

    // One event at a time, in order: the disabled stack's event is handled before the control event.
    await h.startWorker({ TRIGGER_CONCURRENCY: '1' });
    const disabledStackEvent = randomUUID();
    await h.publishEvent({
      ...pushEvent({ after: 'b'.repeat(40) }),
      id: disabledStackEvent,
      integrationId,
      repository: { projectKey: PROJECT, slug, id: 1, name: slug },
    });
    const controlSlug = h.addRepository();
    const control = await h.addStack(controlSlug);
    await h.sim.push({ project: PROJECT, repo: controlSlug, branch: 'main', files: ['stacks/app/main.tf'] });
    await waitForRuns(h, control.id, 1);
    expect(await h.store.runs.listByStack(stack.body.id)).to.deep.equal([]);
    // Ignored, not failed: a worker that still matched the stack would look up its changed files with
    // the deleted integration's credentials, fail for good and park the event.
    const parked = await h.bus.inspectDeadLetters(VCS_EVENTS_QUEUE, 50);
    expect(parked.map((d) => d.messageId)).to.not.include(disabledStackEvent);

    const manual = await call(`${api.url}/api/v1`, 'POST', `/stacks/${stack.body.id}/runs`, {
      commit: 'c'.repeat(40),
    });
    expect(manual.status).to.equal(409);
    expect(manual.body.error.code).to.equal('STACK.DISABLED');

    const enabled = await call(`${api.url}/api/v1`, 'PATCH', `/stacks/${stack.body.id}`, { enabled: true });
    expect(enabled.body).to.include({ enabled: true });
    expect(enabled.body).to.not.have.property('disabledReason');
  });
});
