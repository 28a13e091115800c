import { expect } from 'chai';
import { verifySignature } from '@stacklink/bitbucket';
import { normalize } from '@stacklink/events';
import { startSimulator, type BitbucketSimulator } from '../../src';
import { startReceiver, type ReceivedDelivery } from './helpers';

const SECRET = 'b9c1f7e0d2a34c5e8f90a1b2c3d4e5f6';

/** The fields of the delivered JSON these tests read; what the bodies must hold is normalize()'s to say. */
interface RefsChangedBody {
  repository: { slug: string; project: { key: string } };
  actor: { name: string };
  date: string;
  changes: { ref: { type: string }; refId: string; fromHash: string; toHash: string; type: string }[];
}
interface PullRequestRefBody {
  id: string;
  repository: { project: { key: string }; origin?: { project: { key: string } } };
}
interface PullRequestBody {
  pullRequest: {
    state: string;
    fromRef: PullRequestRefBody;
    toRef: PullRequestRefBody;
    reviewers?: { user: { name: string } }[];
  };
}

describe('simulator webhook deliveries', () => {
  let sim: BitbucketSimulator;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  beforeEach(async () => {
    receiver = await startReceiver(202);
    sim = await startSimulator({ webhookTarget: { url: receiver.url, secret: SECRET } });
    sim.addUser({ name: 'alice', token: 't-alice', permission: 'admin' });
    sim.addUser({ name: 'bob', token: 't-bob', permission: 'read' });
    sim.addRepository({ project: 'PRJ', slug: 'infra' });
  });

  afterEach(async () => {
    await sim.close();
    await receiver.close();
  });

  /** Checks what every signed delivery must have and returns the parsed body. */
  function check(delivery: ReceivedDelivery, eventKey: string) {
    const h = delivery.headers;
    expect(h['x-event-key']).to.equal(eventKey);
    expect(h['x-request-id']).to.match(/^[0-9a-f-]{36}$/);
    expect(h['content-type']).to.equal('application/json; charset=utf-8');
    expect(h['user-agent']).to.match(
      /^Atlassian HttpClient .* \/ Bitbucket-\d+\.\d+\.\d+ \(\d+\) \/ Default$/,
    );
    expect(verifySignature(delivery.rawBody, h['x-hub-signature'] as string, [SECRET])).to.deep.equal({
      valid: true,
    });
    const body = JSON.parse(delivery.rawBody.toString('utf8')) as { eventKey: string };
    expect(body.eventKey).to.equal(eventKey);
    // The body must be one the running normalizer turns into an event (it throws on a body it refuses).
    const normalized = normalize({
      eventKey,
      deliveryId: h['x-request-id'] as string,
      integrationId: 'simulator',
      receivedAt: new Date(),
      body,
    });
    expect(normalized.kind, eventKey).to.equal('event');
    return body as unknown;
  }

  it('a push delivers a signed repo:refs_changed in the fixture shape and returns the answer', async () => {
    const before = sim.state.repository('PRJ', 'infra')!.refs.get('refs/heads/main');
    const result = await sim.push({
      project: 'PRJ',
      repo: 'infra',
      branch: 'main',
      files: ['stacks/net/main.tf'],
    });
    expect(result.deliveries).to.have.length(1);
    expect(result.deliveries[0]).to.include({ status: 202, eventKey: 'repo:refs_changed' });
    expect(receiver.received).to.have.length(1);
    expect(receiver.received[0]!.headers['x-request-id']).to.equal(result.deliveries[0]!.requestId);
    const payload = check(receiver.received[0]!, 'repo:refs_changed') as RefsChangedBody;
    expect(payload.repository).to.deep.include({ slug: 'infra' });
    expect(payload.repository.project.key).to.equal('PRJ');
    expect(payload.actor.name).to.equal('alice');
    expect(payload.date).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000$/);
    expect(payload.changes).to.deep.equal([
      {
        ref: { id: 'refs/heads/main', displayId: 'main', type: 'BRANCH' },
        refId: 'refs/heads/main',
        fromHash: before,
        toHash: result.commit,
        type: 'UPDATE',
      },
    ]);
  });

  it('one push can create a branch, create a tag and delete a branch, in one delivery', async () => {
    await sim.push({ project: 'PRJ', repo: 'infra', branch: 'old', files: ['x.tf'] });
    receiver.received.length = 0;
    await sim.pushRefs({
      project: 'PRJ',
      repo: 'infra',
      actor: 'bob',
      changes: [{ branch: 'feature', files: ['a.tf'] }, { tag: 'v1.0.0' }, { deleteBranch: 'old' }],
    });
    const payload = check(receiver.received[0]!, 'repo:refs_changed') as RefsChangedBody;
    expect(payload.changes.map((c) => [c.refId, c.ref.type, c.type])).to.deep.equal([
      ['refs/heads/feature', 'BRANCH', 'ADD'],
      ['refs/tags/v1.0.0', 'TAG', 'ADD'],
      ['refs/heads/old', 'BRANCH', 'DELETE'],
    ]);
    expect(payload.changes[0]!.fromHash).to.equal('0'.repeat(40));
    expect(payload.changes[2]!.toHash).to.equal('0'.repeat(40));
  });

  it('plays a pull request’s life: opened, source updated, retargeted, reviewed, commented, merged', async () => {
    await sim.push({ project: 'PRJ', repo: 'infra', branch: 'feature', files: ['a.tf'] });
    await sim.push({ project: 'PRJ', repo: 'infra', branch: 'release', files: ['r.tf'] });
    receiver.received.length = 0;
    const { id } = await sim.openPullRequest({
      project: 'PRJ',
      repo: 'infra',
      from: 'feature',
      to: 'main',
      reviewers: ['bob'],
    });
    const first = sim.state.repository('PRJ', 'infra')!.refs.get('refs/heads/feature');
    const pr = { project: 'PRJ', repo: 'infra', id };
    await sim.updatePullRequestSource({ ...pr, files: ['b.tf'] });
    await sim.retargetPullRequest({ ...pr, to: 'release' });
    await sim.review({ ...pr, user: 'bob', status: 'NEEDS_WORK' });
    await sim.review({ ...pr, user: 'bob', status: 'APPROVED' });
    await sim.review({ ...pr, user: 'bob', status: 'UNAPPROVED' });
    await sim.addComment({ ...pr, actor: 'bob', text: '/stacklink propose network' });
    await sim.mergePullRequest(pr);

    const keys = receiver.received.map((d) => d.headers['x-event-key']);
    expect(keys).to.deep.equal([
      'pr:opened',
      'repo:refs_changed',
      'pr:from_ref_updated',
      'pr:modified',
      'pr:reviewer:needs_work',
      'pr:reviewer:approved',
      'pr:reviewer:unapproved',
      'pr:comment:added',
      'pr:merged',
      'repo:refs_changed',
    ]);
    const payloads = receiver.received.map(
      (d) => check(d, d.headers['x-event-key'] as string) as Record<string, unknown>,
    );
    const opened = payloads[0] as unknown as PullRequestBody;
    expect(opened.pullRequest).to.deep.include({ id, state: 'OPEN', version: 0 });
    expect(opened.pullRequest.fromRef.repository.project.key).to.equal('PRJ');
    expect(opened.pullRequest.reviewers!.map((r) => r.user.name)).to.deep.equal(['bob']);
    expect(payloads[2]!.previousFromHash).to.equal(first);
    expect((payloads[3]!.previousTarget as { id: string }).id).to.equal('refs/heads/main');
    expect((payloads[3] as unknown as PullRequestBody).pullRequest.toRef.id).to.equal('refs/heads/release');
    expect(payloads[4]).to.deep.include({ previousStatus: 'UNAPPROVED' });
    expect(payloads[5]).to.deep.include({ previousStatus: 'NEEDS_WORK' });
    expect((payloads[7]!.comment as { text: string }).text).to.equal('/stacklink propose network');
    expect((payloads[8] as unknown as PullRequestBody).pullRequest.state).to.equal('MERGED');
  });

  it('delivers pr:declined and pr:deleted', async () => {
    await sim.push({ project: 'PRJ', repo: 'infra', branch: 'a', files: ['a.tf'] });
    await sim.push({ project: 'PRJ', repo: 'infra', branch: 'b', files: ['b.tf'] });
    const one = await sim.openPullRequest({ project: 'PRJ', repo: 'infra', from: 'a', to: 'main' });
    const two = await sim.openPullRequest({ project: 'PRJ', repo: 'infra', from: 'b', to: 'main' });
    receiver.received.length = 0;
    await sim.declinePullRequest({ project: 'PRJ', repo: 'infra', id: one.id });
    await sim.deletePullRequest({ project: 'PRJ', repo: 'infra', id: two.id });
    const declined = check(receiver.received[0]!, 'pr:declined') as PullRequestBody;
    expect(declined.pullRequest.state).to.equal('DECLINED');
    check(receiver.received[1]!, 'pr:deleted');
  });

  it('a pull request from a fork names the fork as the source repository, with its origin', async () => {
    sim.addProject({ key: '~BOB' });
    sim.addRepository({ project: '~BOB', slug: 'infra', forkOf: { project: 'PRJ', repo: 'infra' } });
    await sim.push({ project: '~BOB', repo: 'infra', branch: 'fix', files: ['a.tf'], actor: 'bob' });
    receiver.received.length = 0;
    await sim.openPullRequest({
      project: 'PRJ',
      repo: 'infra',
      fromRepo: { project: '~BOB', repo: 'infra' },
      from: 'fix',
      to: 'main',
      author: 'bob',
    });
    const payload = check(receiver.received[0]!, 'pr:opened') as PullRequestBody;
    expect(payload.pullRequest.fromRef.repository.project.key).to.equal('~BOB');
    expect(payload.pullRequest.fromRef.repository.origin?.project.key).to.equal('PRJ');
    expect(payload.pullRequest.toRef.repository.project.key).to.equal('PRJ');
  });

  it('sends diagnostics:ping unsigned with body {"test": true}', async () => {
    const { deliveries } = await sim.ping();
    expect(deliveries.map((d) => d.status)).to.deep.equal([202]);
    const ping = receiver.received[0]!;
    expect(ping.headers['x-event-key']).to.equal('diagnostics:ping');
    expect(ping.headers['x-hub-signature']).to.equal(undefined);
    expect(JSON.parse(ping.rawBody.toString('utf8'))).to.deep.equal({ test: true });
  });

  it('delivers to repository webhooks created through the REST API, signed with their own secret, only for their events', async () => {
    sim.setWebhookDelivery(undefined);
    const other = await startReceiver(200);
    try {
      const res = await fetch(`${sim.url}/rest/api/1.0/projects/PRJ/repos/infra/webhooks`, {
        method: 'POST',
        headers: {
          Authorization: 'Bearer t-alice',
          'Content-Type': 'application/json',
          'X-Atlassian-Token': 'no-check',
        },
        body: JSON.stringify({
          name: 'stacklink',
          url: other.url,
          events: ['pr:opened'],
          active: true,
          configuration: { secret: 'hook-secret' },
        }),
      });
      expect(res.status).to.equal(201);
      await sim.push({ project: 'PRJ', repo: 'infra', branch: 'feature', files: ['a.tf'] });
      await sim.openPullRequest({ project: 'PRJ', repo: 'infra', from: 'feature', to: 'main' });
      expect(other.received.map((d) => d.headers['x-event-key'])).to.deep.equal(['pr:opened']);
      const delivery = other.received[0]!;
      expect(
        verifySignature(delivery.rawBody, delivery.headers['x-hub-signature'] as string, ['hook-secret'])
          .valid,
      ).to.equal(true);
      expect(receiver.received).to.have.length(0);
    } finally {
      await other.close();
    }
  });

  it('records a failed delivery with its error when nothing listens', async () => {
    const gone = await startReceiver();
    await gone.close();
    sim.setWebhookDelivery({ url: gone.url, secret: SECRET });
    const { deliveries } = await sim.push({ project: 'PRJ', repo: 'infra', branch: 'main', files: ['a.tf'] });
    expect(deliveries[0]!.status).to.equal(undefined);
    expect(deliveries[0]!.error).to.match(/ECONNREFUSED/);
    expect(sim.recorded.deliveries).to.have.length(1);
  });
});
