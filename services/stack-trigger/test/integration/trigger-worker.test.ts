import amqp from 'amqplib';
import { expect } from 'chai';
import Redis from 'ioredis';
import { createTcpProxy, RABBITMQ_URL, REDIS_URL, waitFor } from '@stacklink/testing';
import { normalize, type CanonicalEvent } from '@stacklink/events';
import type { Delivery } from '@stacklink/bitbucket-simulator';
import { processRegistry } from '@stacklink/http';
import { createSilentLogger } from '@stacklink/logger';
import { createBusRunEvents } from '../../src/adapters/bus-run-events';
import { createRedisRunQueue, redisKeyPrefix } from '../../src/adapters/redis-run-queue';
import { createHandleVcsEvent } from '../../src/domain/handle-vcs-event';
import type { PushEvent } from '../../src/domain/canonical-event';
import type { Stack } from '../../src/domain/model';
import { RUN_READY, RUN_STATE_CHANGED, VCS_EVENTS_QUEUE } from '@stacklink/contracts';
import { files } from '../support/events';
import {
  countingMetrics,
  fixedChangedFiles,
  agreeingConfirmation,
  fixedCommentAuthority,
  recordingReplies,
} from '../support/fakes';
import { startTriggerHarness, waitForRuns, type TriggerHarness } from '../support/trigger-harness';

const RUN_MESSAGE_KEYS = [
  'commit',
  'occurredAt',
  'ref',
  'runId',
  'runType',
  'specVersion',
  'stack',
  'state',
  'trigger',
  'type',
  'version',
];

describe('trigger worker (RabbitMQ, Redis, SQLite, integration service, gateway and Bitbucket simulator)', function () {
  this.timeout(30_000);
  let h: TriggerHarness;

  before(async () => {
    h = await startTriggerHarness();
  });
  after(async () => {
    await h?.close();
  });
  afterEach(async () => {
    await h.stopWorkers();
    h.sim.clearFaults();
    h.deliverTo('gateway');
  });

  const changeRequests = (slug: string) =>
    h.sim.recorded.requests.filter((r) => r.path.includes(`/repos/${slug}/`) && r.path.endsWith('/changes'));

  it('turns a push to the tracked branch, received by the gateway, into one tracked run announced on the runs exchange', async () => {
    const slug = h.addRepository();
    const stack = await h.addStack(slug);
    await h.startWorker();

    const { commit, deliveries } = await h.sim.push({
      project: 'PRJ',
      repo: slug,
      branch: 'main',
      files: ['stacks/app/main.tf'],
    });
    expect(deliveries[0]!.status).to.equal(202);

    const [run] = await waitForRuns(h, stack.id, 1);
    expect(run).to.include({ type: 'tracked', commit, ref: 'refs/heads/main', state: 'QUEUED', version: 1 });
    const [changed] = await waitFor(() => nonEmpty(h.messagesFor(run!.id, RUN_STATE_CHANGED)));
    const [ready] = await waitFor(() => nonEmpty(h.messagesFor(run!.id, RUN_READY)));
    for (const [m, type] of [
      [changed!, RUN_STATE_CHANGED],
      [ready!, RUN_READY],
    ] as const) {
      expect(Object.keys(m.body).sort()).to.deep.equal(RUN_MESSAGE_KEYS);
      expect(m.body).to.include({
        specVersion: 1,
        type,
        runId: run!.id,
        version: 1,
        state: 'QUEUED',
        runType: 'tracked',
        commit,
        ref: 'refs/heads/main',
      });
      expect(m.body.stack).to.deep.equal({
        id: stack.id,
        name: stack.name,
        integrationId: h.integrationId,
        repository: { projectKey: 'PRJ', slug },
        projectRoot: 'stacks/app',
      });
      expect(m.body.trigger.kind).to.equal('push');
      expect(m.messageId).to.equal(`${run!.id}:1:${type}`);
      expect(m.headers).to.include({
        runId: run!.id,
        stackId: stack.id,
        integrationId: h.integrationId,
        state: 'QUEUED',
        version: 1,
      });
    }
  });

  it('makes one run when the same event is delivered twice, and announces it again with the same message id', async () => {
    const slug = h.addRepository();
    const stack = await h.addStack(slug);
    await h.startWorker();
    h.deliverTo('sink');
    const { deliveries } = await h.sim.push({
      project: 'PRJ',
      repo: slug,
      branch: 'main',
      files: ['stacks/app/a.tf'],
    });

    await h.publishDelivery(deliveries[0]!);
    const [run] = await waitForRuns(h, stack.id, 1);
    await waitFor(() => h.messagesFor(run!.id, RUN_STATE_CHANGED).length === 1);
    await h.publishDelivery(deliveries[0]!);
    // The second delivery re-announces the still-queued run: identical message id, nothing new stored.
    const announced = await waitFor(() => {
      const m = h.messagesFor(run!.id, RUN_STATE_CHANGED);
      return m.length === 2 ? m : undefined;
    });
    expect(announced[1]!.messageId).to.equal(announced[0]!.messageId);
    expect(await h.store.runs.listByStack(stack.id)).to.have.length(1);
  });

  it('makes one proposed run for a push to a feature branch and the pull request of the same commit', async () => {
    const slug = h.addRepository();
    const stack = await h.addStack(slug);
    await h.startWorker();

    const { commit } = await h.sim.push({
      project: 'PRJ',
      repo: slug,
      branch: 'feature',
      files: ['stacks/app/vpc.tf'],
    });
    const [run] = await waitForRuns(h, stack.id, 1);
    expect(run).to.include({ type: 'proposed', commit });
    const pr = await h.sim.openPullRequest({ project: 'PRJ', repo: slug, from: 'feature', to: 'main' });
    expect(pr.deliveries[0]!.status).to.equal(202);

    // The PR event found the push's run for (stack, commit, proposed) and re-announced it.
    await waitFor(() => h.messagesFor(run!.id, RUN_STATE_CHANGED).length === 2, {
      message: 'the pull request event was not handled',
    });
    const runs = await h.store.runs.listByStack(stack.id);
    expect(runs).to.have.length(1);
    expect(runs[0]).to.include({ id: run!.id, type: 'proposed', commit });
  });

  it('asks Bitbucket once per event however many stacks share the repository', async () => {
    const slug = h.addRepository();
    const stacks: Stack[] = [];
    for (let i = 0; i < 10; i++) stacks.push(await h.addStack(slug, { projectRoot: `stacks/s${i}` }));
    await h.startWorker();

    await h.sim.push({
      project: 'PRJ',
      repo: slug,
      branch: 'main',
      files: ['stacks/s2/main.tf', 'stacks/s7/main.tf'],
    });
    await waitForRuns(h, stacks[2]!.id, 1);
    await waitForRuns(h, stacks[7]!.id, 1);
    const touched = (await h.store.runs.listActive()).filter((r) => stacks.some((s) => s.id === r.stackId));
    expect(touched.map((r) => r.stackId).sort()).to.deep.equal([stacks[2]!.id, stacks[7]!.id].sort());
    expect(changeRequests(slug)).to.have.length(1);
  });

  it('treats the stack as touched when Bitbucket truncates the list of changed files', async () => {
    const slug = h.addRepository();
    const stack = await h.addStack(slug, { projectRoot: 'stacks/app' });
    // Pages of 3 and one page at most: four changed files cannot all be listed.
    await h.startWorker({ CHANGED_FILES_MAX_PAGES: '1' });

    const { commit } = await h.sim.push({
      project: 'PRJ',
      repo: slug,
      branch: 'main',
      files: ['docs/a.md', 'docs/b.md', 'docs/c.md', 'docs/d.md'],
    });
    const [run] = await waitForRuns(h, stack.id, 1);
    expect(run).to.include({ type: 'tracked', commit });
    expect(changeRequests(slug)).to.have.length(1);
  });

  it('leaves no file unlisted when the list is paged to the end, so an untouched stack gets no run', async () => {
    const slug = h.addRepository();
    const untouched = await h.addStack(slug, { projectRoot: 'stacks/app' });
    const touched = await h.addStack(slug, { projectRoot: 'docs' });
    await h.startWorker();

    await h.sim.push({
      project: 'PRJ',
      repo: slug,
      branch: 'main',
      files: ['docs/a.md', 'docs/b.md', 'docs/c.md', 'docs/d.md'],
    });
    await waitForRuns(h, touched.id, 1);
    expect(changeRequests(slug)).to.have.length(2);
    expect(await h.store.runs.listByStack(untouched.id)).to.be.empty;
  });

  const tagRequests = (slug: string) =>
    h.sim.recorded.requests.filter((r) => r.path.includes(`/repos/${slug}/tags/`));

  it('creates the run of an annotated tag on the commit the tag names, not on the tag object', async () => {
    const slug = h.addRepository();
    h.deliverTo('sink');
    const { commit } = await h.sim.push({
      project: 'PRJ',
      repo: slug,
      branch: 'main',
      files: ['stacks/app/main.tf'],
    });
    h.deliverTo('gateway');
    const stack = await h.addStack(slug, { triggerOnTags: true });
    await h.startWorker();

    const { deliveries } = await h.sim.pushRefs({
      project: 'PRJ',
      repo: slug,
      changes: [{ tag: 'v1.0', at: commit, annotated: true, message: 'Release 1.0' }],
    });
    const tagObject = (JSON.parse(deliveries[0]!.body) as { changes: { toHash: string }[] }).changes[0]!
      .toHash;
    expect(tagObject).to.not.equal(commit);

    const [run] = await waitForRuns(h, stack.id, 1);
    expect(run).to.include({ type: 'tracked', commit, ref: 'refs/tags/v1.0', state: 'QUEUED' });
    const [ready] = await waitFor(() => nonEmpty(h.messagesFor(run!.id, RUN_READY)));
    expect(ready!.body).to.include({ commit, ref: 'refs/tags/v1.0' });
    expect(tagRequests(slug).map((r) => r.path)).to.deep.equal([
      `/rest/api/1.0/projects/PRJ/repos/${slug}/tags/v1.0`,
    ]);
  });

  it('creates the run of a lightweight tag on the commit it points at', async () => {
    const slug = h.addRepository();
    h.deliverTo('sink');
    const { commit } = await h.sim.push({
      project: 'PRJ',
      repo: slug,
      branch: 'main',
      files: ['stacks/app/main.tf'],
    });
    h.deliverTo('gateway');
    const stack = await h.addStack(slug, { triggerOnTags: true });
    await h.startWorker();

    await h.sim.pushRefs({ project: 'PRJ', repo: slug, changes: [{ tag: 'v1.1', at: commit }] });

    const [run] = await waitForRuns(h, stack.id, 1);
    expect(run).to.include({ type: 'tracked', commit, ref: 'refs/tags/v1.1' });
    expect(tagRequests(slug)).to.have.length(1);
  });

  it('matches each ref of a multi-ref push against its own changed files: files changed only on a feature branch start no tracked run', async () => {
    const slug = h.addRepository();
    const stack = await h.addStack(slug, { projectRoot: 'stacks/app' });
    await h.startWorker();

    // One push: main gets a commit that touches nothing of the stack, feature is created with one
    // that does, and a tag is created (the stack does not trigger on tags).
    const { commits } = await h.sim.pushRefs({
      project: 'PRJ',
      repo: slug,
      changes: [
        { branch: 'main', files: ['docs/readme.md'] },
        { branch: 'feature', files: ['stacks/app/main.tf'] },
        { tag: 'v2.0' },
      ],
    });
    const [mainCommit, featureCommit] = commits;

    const run = await waitFor(() => h.store.runs.find(stack.id, featureCommit!, 'proposed'));
    // Every run of the event is in the store before any is handed out.
    await waitFor(() => nonEmpty(h.messagesFor(run.id, RUN_READY)));
    const runs = await h.store.runs.listByStack(stack.id);
    expect(runs.map((r) => [r.type, r.commit, r.ref])).to.deep.equal([
      ['proposed', featureCommit, 'refs/heads/feature'],
    ]);
    expect(await h.store.runs.find(stack.id, mainCommit!, 'tracked')).to.be.undefined;
    // One lookup per ref range (main's range, feature's new commit), none for the tag nobody wants.
    expect(changeRequests(slug)).to.have.length(2);
    expect(tagRequests(slug)).to.be.empty;
  });

  it('retries an event later when Bitbucket answers 503, then makes its run', async () => {
    const slug = h.addRepository();
    const stack = await h.addStack(slug);
    await h.startWorker();
    // More 503s than the client's own three tries: the event goes back to the bus and comes again.
    h.sim.injectFaults({ status: 503, count: 3, path: `/rest/api/1.0/projects/PRJ/repos/${slug}/compare` });

    await h.sim.push({ project: 'PRJ', repo: slug, branch: 'main', files: ['stacks/app/main.tf'] });
    await waitForRuns(h, stack.id, 1, 15_000);
    expect(changeRequests(slug).map((r) => r.status)).to.deep.equal([503, 503, 503, 200]);
  });

  it('refuses the ref whose commit Bitbucket does not know, acked rather than parked, and still runs the other refs of the push', async () => {
    const slug = h.addRepository();
    const stack = await h.addStack(slug);
    const worker = await h.startWorker();
    const refused = async () => {
      const text = await (await fetch(`${worker.url}/metrics`)).text();
      const match = /stacklink_trigger_unconfirmed_total\{reason="refused"\} (\d+)/.exec(text);
      return match ? Number(match[1]) : 0;
    };
    const before = await refused();
    h.deliverTo('sink');
    const { deliveries, commit } = await h.sim.push({
      project: 'PRJ',
      repo: slug,
      branch: 'main',
      files: ['stacks/app/x.tf'],
    });
    type Change = { ref: { id: string; displayId: string }; refId: string; toHash: string };
    const delivered = JSON.parse(deliveries[0]!.body) as { changes: Change[] };
    const gone = JSON.parse(JSON.stringify(delivered.changes[0])) as Change;
    gone.ref.id = gone.refId = 'refs/heads/gone';
    gone.ref.displayId = 'gone';
    gone.toHash = 'f'.repeat(40);
    delivered.changes.push(gone);
    const event = (await h.publishDelivery({
      ...deliveries[0]!,
      body: JSON.stringify(delivered),
    })) as PushEvent;

    const [run] = await waitForRuns(h, stack.id, 1);
    expect(run).to.include({ commit, ref: 'refs/heads/main', type: 'tracked' });
    await waitFor(async () => (await refused()) > before, {
      message: 'the unknown commit was never counted as refused',
    });
    const dead = await h.bus.inspectDeadLetters(VCS_EVENTS_QUEUE, 50);
    expect(dead.filter((d) => d.messageId === event.id)).to.be.empty;
    expect((await h.store.runs.listByStack(stack.id)).map((r) => r.ref)).to.deep.equal(['refs/heads/main']);
  });

  /** A repository with a stack and a running worker, and an open pull request to comment on. */
  const pullRequestWithWorker = async () => {
    const slug = h.addRepository();
    await h.addStack(slug);
    await h.startWorker();
    await h.sim.push({ project: 'PRJ', repo: slug, branch: 'feature', files: ['README.md'] });
    const pr = await h.sim.openPullRequest({ project: 'PRJ', repo: slug, from: 'feature', to: 'main' });
    const comment = (text: string) => h.sim.addComment({ project: 'PRJ', repo: slug, id: pr.id, text });
    return { pr, comment };
  };

  it('answers a /stacklink comment with a reply to that comment on the pull request', async () => {
    const { pr, comment } = await pullRequestWithWorker();

    const { commentId } = await comment('/stacklink what');
    const reply = await waitFor(() => h.sim.recorded.comments.find((c) => c.parentId === commentId));
    expect(reply.text).to.contain('/stacklink propose');
    expect(reply.pullRequestId).to.equal(pr.id);
  });

  it('answers a /stacklink comment once when its event comes again (a worker died after replying, before its ack)', async () => {
    const { comment } = await pullRequestWithWorker();
    h.deliverTo('sink');
    const { commentId, deliveries } = await comment('/stacklink what');
    const repliesTo = () => h.sim.recorded.comments.filter((c) => c.parentId === commentId);
    const before = await commentEventsHandled();

    const event = await h.publishDelivery(deliveries[0]!);
    await waitFor(() => repliesTo().length === 1);
    // The bus hands the same message again, as it does when the worker that replied died before acking.
    await h.publishEvent(event);
    await waitFor(async () => (await commentEventsHandled()) === before + 2);

    expect(repliesTo()).to.have.length(1);
  });

  it('hands the event of a worker that lost its broker connection mid-event to another worker, which makes exactly the runs', async () => {
    const slug = h.addRepository();
    const stack = await h.addStack(slug);
    const proxy = await createTcpProxy({
      targetHost: '127.0.0.1',
      targetPort: Number(new URL(RABBITMQ_URL).port),
    });
    try {
      const doomed = await h.startWorker({ RABBITMQ_URL: proxy.urlFor(RABBITMQ_URL) });
      // The doomed worker's Bitbucket call hangs long enough to lose its connection while holding the event.
      h.sim.injectFaults({
        latencyMs: 1500,
        count: 1,
        path: `/rest/api/1.0/projects/PRJ/repos/${slug}/compare`,
      });
      h.deliverTo('sink');
      const { commit, deliveries } = await h.sim.push({
        project: 'PRJ',
        repo: slug,
        branch: 'main',
        files: ['stacks/app/main.tf'],
      });
      await h.publishDelivery(deliveries[0]!);
      await waitFor(async () => (await queueDepth(h)) === 0, {
        message: 'the doomed worker never took the event',
      });
      await proxy.cut();

      await h.startWorker();
      const [run] = await waitForRuns(h, stack.id, 1);
      await waitFor(() => nonEmpty(h.messagesFor(run!.id, RUN_READY)), {
        message: 'the run was never handed out',
      });
      // The doomed worker's handler finishes its slow call too; the unique (stack, commit, type) holds.
      await waitFor(() => changeRequests(slug).length === 2, { message: 'the doomed handler never resumed' });
      await doomed.stop();
      const runs = await h.store.runs.listByStack(stack.id);
      expect(runs).to.have.length(1);
      expect(runs[0]).to.include({ commit, type: 'tracked', state: 'QUEUED' });
    } finally {
      await proxy.close();
    }
  });

  it('announces a run that a dead worker handed out but never announced as soon as its event comes again, without waiting for the lease', async () => {
    const slug = h.addRepository();
    const stack = await h.addStack(slug);
    h.deliverTo('sink');
    const { commit, deliveries } = await h.sim.push({
      project: 'PRJ',
      repo: slug,
      branch: 'main',
      files: ['stacks/app/main.tf'],
    });
    // The doomed worker: real store and Redis queue; it dies between the dispatch (run leased) and run.ready.
    const redis = new Redis(REDIS_URL);
    try {
      const queue = createRedisRunQueue({ redis, namespace: h.namespace, leaseSeconds: 900 });
      const busEvents = createBusRunEvents(h.bus);
      const doomed = createHandleVcsEvent({
        stacks: h.store.stacks,
        runs: h.store.runs,
        queue,
        changedFiles: fixedChangedFiles(files('stacks/app/main.tf')),
        confirmation: agreeingConfirmation(),
        runEvents: {
          publishStateChanged: (run, stack) => busEvents.publishStateChanged(run, stack),
          publishRunReady: async () => {
            throw new Error('worker died before announcing the run');
          },
        },
        replies: recordingReplies(),
        commentAuthority: fixedCommentAuthority(),
        metrics: countingMetrics(),
        logger: createSilentLogger(),
        maxRunsPerEvent: 100,
      });
      const event = await toEvent(h, deliveries[0]!);
      await doomed(event).catch(() => undefined);
      const [run] = await waitForRuns(h, stack.id, 1);
      expect(run).to.include({ commit, type: 'tracked', state: 'QUEUED' });
      expect(await redis.zscore(`${redisKeyPrefix(h.namespace)}leases`, run!.id)).to.not.be.null;

      await h.startWorker();
      await h.publishEvent(event);
      const [ready] = await waitFor(() => nonEmpty(h.messagesFor(run!.id, RUN_READY)), {
        timeoutMs: 5_000,
        message: 'the redelivered event did not announce the handed-out run',
      });
      expect(ready!.body).to.include({ runId: run!.id, state: 'QUEUED', version: 1 });
      expect(await h.store.runs.listByStack(stack.id)).to.have.length(1);
    } finally {
      redis.disconnect();
    }
  });

  it('rebuilds the run queue from the store after Redis lost it, keeping tracked runs in order', async () => {
    const slug = h.addRepository();
    const stack = await h.addStack(slug);
    await h.startWorker();
    const commits: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { commit } = await h.sim.push({
        project: 'PRJ',
        repo: slug,
        branch: 'main',
        files: [`stacks/app/${i}.tf`],
      });
      commits.push(commit);
      await waitForRuns(h, stack.id, i + 1);
    }
    const byCommit = async (c: string) => (await h.store.runs.find(stack.id, c, 'tracked'))!;
    const first = await byCommit(commits[0]!);
    // The first run is out (RUNNING); the other two wait behind it.
    expect((await h.store.runs.transition(first.id, ['QUEUED'], 'RUNNING')).ok).to.be.true;

    const redis = new Redis(REDIS_URL);
    try {
      const prefix = redisKeyPrefix(h.namespace);
      const keys = await redis.keys(`${prefix}*`);
      expect(keys).to.not.be.empty;
      await redis.del(...keys);

      const { commit: fourth } = await h.sim.push({
        project: 'PRJ',
        repo: slug,
        branch: 'main',
        files: ['stacks/app/3.tf'],
      });
      await waitForRuns(h, stack.id, 4);
      const waiting = await waitFor(async () => {
        const ids = await redis.zrange(`${prefix}q:${stack.id}:tracked`, 0, -1);
        return ids.length === 3 ? ids : undefined;
      });
      const expected = await Promise.all([commits[1]!, commits[2]!, fourth].map(byCommit));
      expect(waiting).to.deep.equal(expected.map((r) => r.id));
      expect(await redis.get(`${prefix}active:${stack.id}`)).to.equal(first.id);
      expect(await redis.exists(`${prefix}built`)).to.equal(1);
    } finally {
      redis.disconnect();
    }
  });

  it('answers /readyz once its broker, Redis and store are up, and exposes its metrics', async () => {
    const worker = await h.startWorker();
    const ready = await fetch(`${worker.url}/readyz`);
    expect(ready.status).to.equal(200);
    const metrics = await (await fetch(`${worker.url}/metrics`)).text();
    expect(metrics).to.contain('stacklink_bus_');
  });
});

/** The canonical event the gateway would publish for a simulator delivery. */
async function toEvent(h: TriggerHarness, delivery: Delivery): Promise<CanonicalEvent> {
  const result = normalize({
    eventKey: delivery.eventKey,
    deliveryId: delivery.requestId,
    integrationId: h.integrationId,
    receivedAt: new Date(),
    body: JSON.parse(delivery.body),
  });
  if (result.kind !== 'event') throw new Error(`delivery ${delivery.eventKey} was ignored`);
  return result.event;
}

function nonEmpty<T>(items: T[]): T[] | undefined {
  return items.length > 0 ? items : undefined;
}

async function queueDepth(h: TriggerHarness): Promise<number> {
  const connection = await amqp.connect(RABBITMQ_URL);
  try {
    const channel = await connection.createChannel();
    return (await channel.checkQueue(`${h.namespace}.${VCS_EVENTS_QUEUE}`)).messageCount;
  } finally {
    await connection.close();
  }
}

/** Comment events the trigger worker of this process has handled so far (its own metric). */
async function commentEventsHandled(): Promise<number> {
  const metric = processRegistry().getSingleMetric('stacklink_trigger_events_total');
  const values = metric === undefined ? [] : (await metric.get()).values;
  return values
    .filter((v) => v.labels.type === 'pull_request.comment_added' && v.labels.outcome === 'handled')
    .reduce((sum, v) => sum + v.value, 0);
}
