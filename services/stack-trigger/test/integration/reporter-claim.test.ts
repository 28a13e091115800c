import { expect } from 'chai';
import Redis from 'ioredis';
import { AppError } from '@stacklink/errors';
import { createSilentLogger } from '@stacklink/logger';
import { deleteNamespace, REDIS_URL, uniqueNamespace, waitFor } from '@stacklink/testing';
import { createRedisRunStatusLedger } from '../../src/adapters/redis-run-status-ledger';
import type { CommitStatus } from '../../src/domain/commit-status';
import { createReportCommitStatus, type RunStateUpdate } from '../../src/domain/report-commit-status';
import type { CommitStatusesPort } from '../../src/domain/reporter-ports';

const CLAIM_TTL_MS = 300;
const metrics = { posted() {}, stale() {} };

function update(version: number, state: RunStateUpdate['state']): RunStateUpdate {
  return {
    runId: 'run-claim-1',
    version,
    state,
    runType: 'tracked',
    commit: 'a'.repeat(40),
    ref: 'refs/heads/main',
    occurredAt: new Date().toISOString(),
    stack: {
      id: 'stk-claim',
      name: 'prod',
      integrationId: 'int-1',
      repository: { projectKey: 'PRJ', slug: 'infra' },
    },
  };
}

/** A Bitbucket whose build-status calls finish only when the test lets them. */
function heldStatuses() {
  const posted: string[] = [];
  const waiting: Array<() => void> = [];
  const port: CommitStatusesPort = {
    supportsCancelled: async () => true,
    post: (_target, status: CommitStatus) =>
      new Promise((resolve) => {
        waiting.push(() => {
          posted.push(status.state);
          resolve({ api: 'repository', state: status.state });
        });
      }),
  };
  return { port, posted, waiting };
}

/** A Bitbucket that takes each status at once, or throws the error `failNext` was given for the next one. */
function recordingStatuses() {
  const posted: string[] = [];
  let failure: Error | undefined;
  const port: CommitStatusesPort = {
    supportsCancelled: async () => true,
    post: async (_target, status) => {
      const err = failure;
      failure = undefined;
      if (err) throw err;
      posted.push(status.state);
      return { api: 'repository', state: status.state };
    },
  };
  return { port, posted, failNext: (err: Error) => (failure = err) };
}

/**
 * The reporter's per-run claim (docs/architecture.md §8) against real Redis: a replica that is slow, not
 * dead, keeps its claim however long Bitbucket takes, so a newer state can never land before its older one.
 */
describe('reporter per-run claim (real Redis)', function () {
  this.timeout(15_000);
  let namespace: string;
  let redis: Redis;

  beforeEach(() => {
    namespace = uniqueNamespace('reporter-claim');
    redis = new Redis(REDIS_URL);
  });
  afterEach(async () => {
    await deleteNamespace({ namespace, redisUrl: REDIS_URL });
    redis.disconnect();
  });

  const reporter = (
    statuses: CommitStatusesPort,
    extra: { codeInsights?: (u: RunStateUpdate) => Promise<unknown> } = {},
  ) =>
    createReportCommitStatus({
      ledger: createRedisRunStatusLedger({ redis, namespace, claimTtlMs: CLAIM_TTL_MS }),
      statuses,
      metrics,
      logger: createSilentLogger(),
      publicUiUrl: 'https://stacklink.example.com',
      claimWaitMs: 10_000,
      ...extra,
    });

  it('a post slower than the claim time keeps the claim: the newer state waits and lands last', async () => {
    const bitbucket = heldStatuses();
    const replicaA = reporter(bitbucket.port);
    const replicaB = reporter(bitbucket.port);

    const running = replicaA(update(2, 'RUNNING'));
    await waitFor(() => bitbucket.waiting.length === 1);
    const finished = replicaB(update(3, 'FINISHED'));
    // Several claim lifetimes pass while RUNNING is still being posted.
    await new Promise((resolve) => setTimeout(resolve, CLAIM_TTL_MS * 4));
    expect(bitbucket.waiting, 'FINISHED did not start posting while RUNNING was in flight').to.have.length(1);

    bitbucket.waiting.shift()!();
    expect(await running).to.equal('posted');
    await waitFor(() => bitbucket.waiting.length === 1);
    bitbucket.waiting.shift()!();
    expect(await finished).to.equal('posted');
    expect(bitbucket.posted).to.deep.equal(['INPROGRESS', 'SUCCESSFUL']);
  });

  it('after a write Bitbucket never answered, the claim is left to lapse; after an answered error it is freed at once', async () => {
    const failure = (unanswered: boolean) =>
      new AppError('BITBUCKET.UNREACHABLE', 'Bitbucket did not answer', {
        status: 502,
        retryable: true,
        details: { method: 'POST', path: '/builds', messages: [], exceptionNames: [], unanswered },
      });
    const { port, posted, failNext } = recordingStatuses();
    const report = reporter(port);

    const claimOf = async (runId: string) =>
      (await redis.keys(`${namespace}*reporter:claim:${runId}`)).length;

    failNext(failure(false));
    await report(update(2, 'RUNNING')).catch(() => undefined);
    expect(await claimOf('run-claim-1'), 'freed after an answered error').to.equal(0);
    expect(await report(update(3, 'FINISHED'))).to.equal('posted');

    const next = { ...update(2, 'RUNNING'), runId: 'run-claim-2' };
    failNext(failure(true));
    await report(next).catch(() => undefined);
    expect(await claimOf('run-claim-2'), 'held after an unanswered write').to.equal(1);
    expect(await report({ ...next, version: 3, state: 'FINISHED' }), 'posted once the claim lapsed').to.equal(
      'posted',
    );
    expect(posted).to.deep.equal(['SUCCESSFUL', 'SUCCESSFUL']);
  });

  it('a replica killed after posting a newer state and before recording it: an older state is not posted after it', async () => {
    const { port, posted } = recordingStatuses();
    const report = reporter(port);
    const ledger = createRedisRunStatusLedger({ redis, namespace, claimTtlMs: CLAIM_TTL_MS });
    expect(await report(update(1, 'QUEUED'))).to.equal('posted');

    // The killed replica: it claimed version 3 and Bitbucket took SUCCESSFUL; it never recorded it.
    const dead = await ledger.claim('run-claim-1', 3);
    expect(dead.outcome).to.equal('claimed');
    posted.push('SUCCESSFUL');
    await new Promise((resolve) => setTimeout(resolve, CLAIM_TTL_MS * 2));

    expect(await report(update(2, 'RUNNING')), 'RUNNING arrives late, after the claim lapsed').to.equal(
      'stale',
    );
    expect(await report(update(3, 'FINISHED')), "FINISHED's own update, handed back").to.equal('posted');
    expect(await report(update(3, 'FINISHED')), 'and recorded').to.equal('stale');
    expect(posted).to.deep.equal(['INPROGRESS', 'SUCCESSFUL', 'SUCCESSFUL']);
  });

  it('a newer state whose post failed with an answer does not hold back an older one', async () => {
    const { port, posted, failNext } = recordingStatuses();
    const report = reporter(port);
    expect(await report(update(1, 'QUEUED'))).to.equal('posted');
    failNext(new AppError('BITBUCKET.BAD_REQUEST', 'Bitbucket refused the status', { status: 400 }));
    const err = await report(update(3, 'FINISHED')).catch((e: unknown) => e as AppError);
    expect(err).to.have.property('code', 'BITBUCKET.BAD_REQUEST');
    expect(await report(update(2, 'RUNNING')), 'RUNNING still posts: FINISHED never landed').to.equal(
      'posted',
    );
    expect(await report(update(3, 'FINISHED'))).to.equal('posted');
    expect(posted).to.deep.equal(['INPROGRESS', 'INPROGRESS', 'SUCCESSFUL']);
  });

  it('a newer state whose status landed and whose report then failed still holds back an older one', async () => {
    const { port, posted } = recordingStatuses();
    let failReport = true;
    const report = reporter(port, {
      codeInsights: async (u: RunStateUpdate) => {
        if (!failReport || u.state !== 'FINISHED') return;
        failReport = false;
        throw new AppError('BITBUCKET.SERVER_ERROR', 'Bitbucket answered 500 to the report', {
          status: 502,
          retryable: true,
        });
      },
    });
    expect(await report(update(1, 'QUEUED'))).to.equal('posted');
    const err = await report(update(3, 'FINISHED')).catch((e: unknown) => e as AppError);
    expect(err).to.have.property('code', 'BITBUCKET.SERVER_ERROR');
    expect(await report(update(2, 'RUNNING')), 'SUCCESSFUL is in Bitbucket: RUNNING is dropped').to.equal(
      'stale',
    );
    expect(await report(update(3, 'FINISHED')), "FINISHED's retry").to.equal('posted');
    expect(posted).to.deep.equal(['INPROGRESS', 'SUCCESSFUL', 'SUCCESSFUL']);
  });

  it('a claim found lost after the status is posted takes no further step, records nothing and is retried', async () => {
    const bitbucket = heldStatuses();
    let insightsCalls = 0;
    const report = reporter(bitbucket.port, { codeInsights: async () => insightsCalls++ });

    const running = report(update(2, 'RUNNING'));
    await waitFor(() => bitbucket.waiting.length === 1);
    // What a stalled process finds: its claim expired and another replica took it.
    const claimKey = (await redis.keys(`${namespace}*reporter:claim:run-claim-1`))[0]!;
    await redis.set(claimKey, 'another-replica', 'PX', 10_000);
    await new Promise((resolve) => setTimeout(resolve, CLAIM_TTL_MS));
    bitbucket.waiting.shift()!();

    const err = await running.then(
      () => undefined,
      (e: unknown) => e as { code?: string; retryable?: boolean },
    );
    expect(err).to.include({ code: 'REPORTER.CLAIM_LOST', retryable: true });
    expect(insightsCalls, 'the Code Insights report was not put').to.equal(0);
    expect(await redis.get(claimKey), "the other replica's claim is left alone").to.equal('another-replica');
    const versionKeys = await redis.keys(`${namespace}*reporter:run:run-claim-1`);
    expect(versionKeys, 'no version recorded as posted').to.deep.equal([]);
  });
});
