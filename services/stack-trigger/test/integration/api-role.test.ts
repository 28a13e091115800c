import { expect } from 'chai';
import { waitFor } from '@stacklink/testing';
import { readConfig } from '../../src/config';
import { startStackTriggerApi, type StackTriggerApi } from '../../src/main';
import { RUN_READY, RUN_STATE_CHANGED } from '../../src/run-messages';
import {
  ADMIN_TOKEN,
  INTERNAL_TOKEN,
  startTriggerHarness,
  type TriggerHarness,
} from '../support/trigger-harness';
import { createSilentLogger } from '@stacklink/logger';

describe('stack-trigger API role, started as main.ts starts it', function () {
  this.timeout(30_000);
  let h: TriggerHarness;
  let api: StackTriggerApi;

  before(async () => {
    h = await startTriggerHarness();
    api = await startStackTriggerApi(
      readConfig({
        PORT: '0',
        STORE_URL: h.storeUrl,
        NAMESPACE: h.namespace,
        ADMIN_TOKEN,
        INTERNAL_TOKEN,
        INTEGRATION_URL: h.integrationUrl,
        LOG_LEVEL: 'error',
      }),
      { logger: createSilentLogger() },
    );
  });
  after(async () => {
    await api?.stop();
    await h?.close();
  });

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${api.url}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('checks the repository through the integration service and Bitbucket before it stores a stack', async () => {
    const slug = h.addRepository();
    const ok = await call('POST', '/stacks', {
      name: `api-${slug}`,
      integrationId: h.integrationId,
      repository: { projectKey: 'PRJ', slug },
      branch: 'main',
    });
    expect(ok.status).to.equal(201);
    const missing = await call('POST', '/stacks', {
      name: `api-${slug}-missing`,
      integrationId: h.integrationId,
      repository: { projectKey: 'PRJ', slug: 'no-such-repo' },
      branch: 'main',
    });
    expect(missing.status).to.equal(400);
    expect((missing.body.error as { code: string }).code).to.equal('STACK.REPOSITORY_NOT_FOUND');
  });

  it('publishes run.state_changed and run.ready for a manual run, and run.state_changed for a reported state', async () => {
    const slug = h.addRepository();
    const { commit } = await h.sim.push({ project: 'PRJ', repo: slug, branch: 'main', files: ['README.md'] });
    const stack = await h.addStack(slug);

    const manual = await call('POST', `/stacks/${stack.id}/runs`, { commit });
    expect(manual.status).to.equal(201);
    const runId = manual.body.id as string;
    await waitFor(
      () =>
        h.messagesFor(runId, RUN_STATE_CHANGED).length === 1 && h.messagesFor(runId, RUN_READY).length === 1,
      {
        message: 'the manual run was not announced',
      },
    );

    const running = await call('POST', `/runs/${runId}/state`, { state: 'RUNNING' });
    expect(running.status).to.equal(200);
    const changes = await waitFor(() => {
      const m = h.messagesFor(runId, RUN_STATE_CHANGED);
      return m.length === 2 ? m : undefined;
    });
    expect(changes[1]!.body).to.include({ runId, state: 'RUNNING', version: 2, type: RUN_STATE_CHANGED });
    expect(changes[1]!.messageId).to.equal(`${runId}:2:${RUN_STATE_CHANGED}`);
  });
});
