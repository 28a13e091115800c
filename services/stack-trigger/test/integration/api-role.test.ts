import { expect } from 'chai';
import Redis from 'ioredis';
import { REDIS_URL, waitFor } from '@stacklink/testing';
import { redisKeyPrefix } from '../../src/adapters/redis-run-queue';
import type { Run, Stack } from '../../src/domain/model';
import { loadApiConfig } from '../../src/config';
import type { RunningRole } from '@stacklink/http';
import { startStackTriggerApi } from '../../src/roles/api';
import { RUN_READY, RUN_STATE_CHANGED, stacksAnswerSchema } from '@stacklink/contracts';
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
  let api: RunningRole;

  before(async () => {
    h = await startTriggerHarness();
    api = await startStackTriggerApi(
      loadApiConfig({
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

  const call = async (method: string, path: string, body?: unknown, internal = false) => {
    const res = await fetch(`${api.url}${internal ? '/internal/v1' : '/api/v1'}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${internal ? INTERNAL_TOKEN : ADMIN_TOKEN}`,
        'content-type': 'application/json',
      },
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

  /**
   * A stack with one run in each situation a disable meets: a tracked run RUNNING (it holds the stack's
   * slot), a tracked run QUEUED behind it (waiting in Redis) and a proposed run QUEUED but already handed
   * out (leased, run.ready sent, no runner started yet).
   */
  async function stackWithRuns(overrides: Partial<Stack> = {}) {
    const slug = h.addRepository();
    const commits: string[] = [];
    for (const f of ['a', 'b', 'c']) {
      commits.push(
        (await h.sim.push({ project: 'PRJ', repo: slug, branch: 'main', files: [`${f}.tf`] })).commit,
      );
    }
    const stack = await h.addStack(slug, overrides);
    const manual = async (commit: string, type: Run['type']) =>
      (await call('POST', `/stacks/${stack.id}/runs`, { commit, type })).body as unknown as Run;
    const running = await manual(commits[0]!, 'tracked');
    expect((await call('POST', `/runs/${running.id}/state`, { state: 'RUNNING' })).status).to.equal(200);
    const waiting = await manual(commits[1]!, 'tracked');
    const handedOut = await manual(commits[2]!, 'proposed');
    await waitFor(() => h.messagesFor(handedOut.id, RUN_READY).length === 1, {
      message: 'the proposed run was not handed out',
    });
    return { stack, running, waiting, handedOut };
  }

  async function expectCanceledEverywhere(runs: Run[], note: string): Promise<void> {
    for (const run of runs) {
      expect(await h.store.runs.get(run.id)).to.include({ state: 'CANCELED', version: 2, note });
      const [announced] = await waitFor(
        () => {
          const m = h.messagesFor(run.id, RUN_STATE_CHANGED).filter((x) => x.body.state === 'CANCELED');
          return m.length > 0 ? m : undefined;
        },
        { message: `the cancellation of run ${run.id} was not announced` },
      );
      expect(announced!.body).to.include({ runId: run.id, version: 2, state: 'CANCELED' });
    }
    const redis = new Redis(REDIS_URL);
    try {
      const prefix = redisKeyPrefix(h.namespace);
      for (const run of runs) {
        expect(await redis.zscore(`${prefix}q:${run.stackId}:${run.type}`, run.id)).to.be.null;
        expect(await redis.zscore(`${prefix}leases`, run.id)).to.be.null;
      }
    } finally {
      redis.disconnect();
    }
  }

  it('cancels the queued runs of a stack disabled with PATCH, takes them out of the run queue and announces it, and lets the running run finish', async () => {
    const { stack, running, waiting, handedOut } = await stackWithRuns();

    const patched = await call('PATCH', `/stacks/${stack.id}`, { enabled: false });
    expect(patched.status).to.equal(200);

    await expectCanceledEverywhere([waiting, handedOut], 'stack disabled');
    expect(await h.store.runs.get(running.id)).to.include({ state: 'RUNNING' });
    // The running run finishes; nothing of the disabled stack is handed out after it.
    expect((await call('POST', `/runs/${running.id}/state`, { state: 'FINISHED' })).status).to.equal(200);
    expect(h.messagesFor(waiting.id, RUN_READY)).to.be.empty;
    expect((await call('POST', `/runs/${handedOut.id}/state`, { state: 'RUNNING' })).status).to.equal(409);
  });

  it('cancels the queued runs of every stack the integration service disables, and lets running runs finish', async () => {
    const integrationId = `disabled-${h.namespace}`;
    const first = await stackWithRuns({ integrationId });
    const second = await stackWithRuns({ integrationId });

    const res = await call(
      'POST',
      `/stacks/disable?integrationId=${integrationId}`,
      { reason: 'integration deleted' },
      true,
    );
    expect(res.status).to.equal(200);
    expect(stacksAnswerSchema.validate(res.body, { allowUnknown: true, convert: false }).error).to.equal(
      undefined,
    );

    const note = 'stack disabled: integration deleted';
    await expectCanceledEverywhere([first.waiting, first.handedOut, second.waiting, second.handedOut], note);
    for (const { running } of [first, second])
      expect(await h.store.runs.get(running.id)).to.include({ state: 'RUNNING' });
  });
});
