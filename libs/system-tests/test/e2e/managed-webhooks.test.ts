import { expect } from 'chai';
import type { SimWebhook } from '@stacklink/bitbucket-simulator';
import { waitFor } from '@stacklink/testing';
import { runStacklink } from '../support/stacklink-command';
import { System, type Run, type Stack } from '../support/system';

const PROJECT = 'PRJ';
const REPO = 'infra';
const OTHER = 'apps';
/** Short enough to see several cycles in the test; the defaults are 30 s, 10 min and 5 min. */
const LEASE_MS = 3000;
const INTERVAL_MS = 2000;
/**
 * Two intervals (recovery feeds a head the cycle after it first found it unseen, so an in-flight webhook
 * wins), plus a lease for a takeover, plus the time the processes take on a busy machine.
 */
const WITHIN = 2 * INTERVAL_MS + LEASE_MS + 8000;

interface HealthAnswer {
  integrationId: string;
  mode: string;
  scope: string;
  note?: string;
  webhooks: { scope: string; health: string; detail: string; lastFailure?: string; checkedAt: string }[];
}

interface DeliveryView {
  decisions: { stacks: { stackId: string; outcome: string; runId?: string }[] }[];
}

/**
 * Managed webhooks and missed-event recovery (docs/architecture.md §14) with every role as its own OS
 * process, two reconciler replicas (one active through the Redis lease) and the simulator as Bitbucket.
 */
describe('end to end: managed webhooks and missed-event recovery', function () {
  this.timeout(180_000);
  let system: System;
  let integrationId: string;
  let network: Stack;
  let database: Stack;

  const hooksOf = (slug: string, id = integrationId): SimWebhook[] => {
    const repo = system.sim.state.repository(PROJECT, slug)!;
    return system.sim.recorded.webhooks.filter((w) => w.repoId === repo.id && w.name === `stacklink-${id}`);
  };
  const health = (id = integrationId) =>
    system.call<HealthAnswer>(system.integration, 'GET', `/api/v1/integrations/${id}/webhooks`);
  const runsFor = async (stack: Stack, commit: string): Promise<Run[]> =>
    (await system.runsOf(stack.id)).filter((r) => r.commit === commit);
  /** `stacklink integrations webhooks <id>` as an operator runs it (libs/cli). */
  const cliWebhooks = (id: string, json = false) =>
    runStacklink(['integrations', 'webhooks', id, ...(json ? ['--json'] : [])], {
      cwd: system.dir,
      env: {
        STACKLINK_INTEGRATION_URL: system.integration.url,
        STACKLINK_API_URL: system.api.url,
        STACKLINK_TOKEN: system.adminToken,
      },
    });
  const expectedUrl = (scope: string, id = integrationId) =>
    `${system.forwarder.url}/webhooks/bitbucket-dc/${id}?scope=${scope}`;

  before(async function () {
    this.timeout(120_000);
    system = await System.start({
      label: 'managed-hooks',
      startRunner: false,
      reconcilers: 2,
      env: {
        reconciler: {
          RECONCILER_LEASE: `${LEASE_MS / 1000}s`,
          WEBHOOK_RECONCILE_INTERVAL: `${INTERVAL_MS / 1000}s`,
          RECOVERY_INTERVAL: `${INTERVAL_MS / 1000}s`,
        },
      },
    });
    system.sim.addRepository({
      project: PROJECT,
      slug: REPO,
      files: ['README.md', 'stacks/network/main.tf', 'stacks/database/main.tf'],
    });
    system.sim.addRepository({ project: PROJECT, slug: OTHER, files: ['README.md', 'app/main.tf'] });
    integrationId = (await system.createIntegration()).id;
    // Manual at first (the default); switched to managed below, as an operator would.
    const patched = await system.call<{ webhooks: { mode: string } }>(
      system.integration,
      'PATCH',
      `/api/v1/integrations/${integrationId}`,
      { webhooks: { mode: 'managed', scope: 'repository' } },
    );
    expect(patched.webhooks.mode).to.equal('managed');
  });

  after(async function () {
    if (this.currentTest?.state === 'failed') console.log(system?.tails(20));
    await system?.close();
  });

  it('creating a stack registers exactly one hook on its repository; a second stack there adds none', async () => {
    const base = { integrationId, repository: { projectKey: PROJECT, slug: REPO }, branch: 'main' };
    network = await system.createStack({ ...base, name: 'network', projectRoot: 'stacks/network' });
    await waitFor(() => hooksOf(REPO).length === 1, {
      timeoutMs: WITHIN,
      message: 'no managed hook on PRJ/infra',
    });
    const [hook] = hooksOf(REPO);
    expect(hook!.url).to.equal(expectedUrl(`${PROJECT}/${REPO}`));
    expect(hook!.active).to.equal(true);
    expect(hook!.events).to.include.members(['repo:refs_changed', 'pr:opened', 'pr:from_ref_updated']);

    database = await system.createStack({ ...base, name: 'database', projectRoot: 'stacks/database' });
    const after = Date.now();
    // A full reconcile after the second stack: its health is checked again, and still one hook.
    await waitFor(
      async () => {
        const entry = (await health()).webhooks.find((w) => w.scope === `${PROJECT}/${REPO}`);
        return entry !== undefined && Date.parse(entry.checkedAt) > after && entry.health === 'ok';
      },
      { timeoutMs: WITHIN, message: 'PRJ/infra not checked again after the second stack' },
    );
    expect(hooksOf(REPO)).to.have.length(1);
    const answer = await health();
    expect(answer).to.deep.include({ integrationId, mode: 'managed', scope: 'repository' });
    // The command line shows the same, and exits 0 when every scope is ok or repaired.
    const cli = await cliWebhooks(integrationId);
    expect(cli.code, cli.stderr).to.equal(0);
    expect(cli.stdout).to.contain('mode: managed, scope: repository');
    expect(cli.stdout).to.match(/PRJ\/infra\s+ok/);
  });

  it('a hook deleted in Bitbucket is restored within one reconcile interval, and said repaired', async () => {
    const [hook] = hooksOf(REPO);
    expect(system.sim.deleteWebhook(hook!.id)).to.equal(true);
    await waitFor(() => hooksOf(REPO).length === 1, { timeoutMs: WITHIN, message: 'hook not restored' });
    const entry = (await health()).webhooks.find((w) => w.scope === `${PROJECT}/${REPO}`);
    expect(entry?.health).to.equal('repaired');
    expect(entry?.detail).to.match(/missing/);
  });

  it('a hook edited to a wrong URL is repaired', async () => {
    const [hook] = hooksOf(REPO);
    system.sim.editWebhook(hook!.id, { url: 'https://elsewhere.example.test/hook' });
    await waitFor(() => hooksOf(REPO)[0]?.url === expectedUrl(`${PROJECT}/${REPO}`), {
      timeoutMs: WITHIN,
      message: 'hook URL not repaired',
    });
    expect(hooksOf(REPO)).to.have.length(1);
    expect(hooksOf(REPO)[0]!.id).to.equal(hook!.id);
  });

  it('a delivered push through the managed hook starts the tracked run (the scoped secret verifies)', async () => {
    const { commit, deliveries } = await system.sim.push({
      project: PROJECT,
      repo: REPO,
      branch: 'main',
      files: ['stacks/network/vpc.tf'],
    });
    expect(deliveries.map((d) => d.status)).to.deep.equal([202]);
    const runs = await waitFor(
      async () => ((await runsFor(network, commit)).length === 1 ? runsFor(network, commit) : undefined),
      {
        timeoutMs: WITHIN,
        message: 'no run for the delivered push',
      },
    );
    expect(runs[0]!.trigger.kind).to.equal('push');
  });

  it('missed events: a push and a new pull request commit nobody delivered become runs within two recovery intervals (noticed, then confirmed unseen), once, also when the webhook arrives late', async () => {
    // The pull request is opened while deliveries work, so its first commit is seen from the event.
    await system.sim.push({
      project: PROJECT,
      repo: REPO,
      branch: 'feature',
      files: ['stacks/database/db.tf'],
    });
    const pr = await system.sim.openPullRequest({
      project: PROJECT,
      repo: REPO,
      from: 'feature',
      to: 'main',
    });
    await waitFor(async () => (await system.runsOf(database.id)).some((r) => r.pullRequest?.id === pr.id), {
      timeoutMs: WITHIN,
      message: 'no proposed run for the delivered pull request',
    });

    // The hook is switched off in Bitbucket and the deliveries are lost.
    system.sim.editWebhook(hooksOf(REPO)[0]!.id, { active: false });
    system.sim.holdWebhookDeliveries(true);
    const pushed = await system.sim.push({
      project: PROJECT,
      repo: REPO,
      branch: 'main',
      files: ['stacks/network/subnets.tf'],
    });
    const updated = await system.sim.updatePullRequestSource({
      project: PROJECT,
      repo: REPO,
      id: pr.id,
      files: ['stacks/database/index.tf'],
    });
    expect(pushed.deliveries).to.deep.equal([]);
    expect(updated.deliveries).to.deep.equal([]);

    const tracked = await waitFor(
      async () => {
        const runs = await runsFor(network, pushed.commit);
        return runs.length > 0 ? runs : undefined;
      },
      { timeoutMs: WITHIN, message: 'the missed push was not recovered' },
    );
    const proposed = await waitFor(
      async () => {
        const runs = await runsFor(database, updated.commit);
        return runs.length > 0 ? runs : undefined;
      },
      { timeoutMs: WITHIN, message: 'the missed pull request commit was not recovered' },
    );
    expect(tracked.map((r) => [r.type, r.trigger.kind])).to.deep.equal([['tracked', 'recovered']]);
    expect(proposed.map((r) => [r.type, r.trigger.kind])).to.deep.equal([['proposed', 'recovered']]);
    // The recovered event's decision is in the delivery history, under its own delivery id.
    const recoveredDelivery = tracked[0]!.trigger.deliveryId!;
    expect(recoveredDelivery).to.match(/^recovered-/);
    const recoveredView = await system.call<DeliveryView>(
      system.api,
      'GET',
      `/api/v1/deliveries/${recoveredDelivery}`,
    );
    expect(
      recoveredView.decisions.flatMap((d) => d.stacks).find((d) => d.stackId === network.id),
    ).to.deep.include({ outcome: 'run-created', runId: tracked[0]!.id });

    // The hook is back (the reconciler enabled it again); the lost webhooks now arrive, late.
    system.sim.holdWebhookDeliveries(false);
    await waitFor(() => hooksOf(REPO)[0]?.active === true, {
      timeoutMs: WITHIN,
      message: 'hook not re-enabled',
    });
    const late = await system.sim.deliverHeldWebhooks();
    // The push to main, and the pull request's update (with the push to its source branch).
    expect(late.map((d) => d.eventKey).sort()).to.deep.equal([
      'pr:from_ref_updated',
      'repo:refs_changed',
      'repo:refs_changed',
    ]);
    expect(late.every((d) => d.status === 202)).to.equal(true);
    const latePush = late.find((d) => d.eventKey === 'repo:refs_changed' && d.body.includes(pushed.commit))!;
    // The late delivery's decision: the run exists already.
    const decision = await waitFor(
      async () => {
        const view = await system.call<DeliveryView>(
          system.api,
          'GET',
          `/api/v1/deliveries/${latePush.requestId}`,
          undefined,
          [200, 404],
        );
        const stacks = view?.decisions?.flatMap((d) => d.stacks) ?? [];
        return stacks.length > 0 ? stacks : undefined;
      },
      { timeoutMs: WITHIN, message: 'no decision for the late webhook' },
    );
    expect(decision.find((s) => s.stackId === network.id)).to.deep.include({
      outcome: 'existing-run',
      runId: tracked[0]!.id,
    });
    expect(await runsFor(network, pushed.commit)).to.have.length(1);
    expect(await runsFor(database, updated.commit)).to.have.length(1);
  });

  it('killing the active reconciler mid-cycle: the standby takes over, no duplicate run', async () => {
    const leaderOf = async () => {
      for (const r of system.reconcilers.filter((p) => p.running))
        if ((await system.metricSum([r], /^stacklink_reconciler_leader /)) === 1) return r;
      return undefined;
    };
    const leader = await waitFor(leaderOf, { timeoutMs: WITHIN, message: 'no active reconciler' });
    system.sim.holdWebhookDeliveries(true);
    const pushed = await system.sim.push({
      project: PROJECT,
      repo: REPO,
      branch: 'main',
      files: ['stacks/network/routes.tf', 'stacks/database/tables.tf'],
    });
    await leader.kill9();
    const standby = system.reconcilers.find((r) => r !== leader)!;
    await waitFor(async () => (await leaderOf()) === standby, {
      timeoutMs: WITHIN,
      message: 'the standby did not take over',
    });
    await waitFor(
      async () =>
        (await runsFor(network, pushed.commit)).length === 1 &&
        (await runsFor(database, pushed.commit)).length === 1,
      { timeoutMs: WITHIN, message: 'the missed push was not recovered after the takeover' },
    );
    system.sim.holdWebhookDeliveries(false);
    await system.sim.deliverHeldWebhooks();
    // One more recovery cycle and the late webhook: still one run per stack for the commit.
    const since = await system.metricSum([standby], /^stacklink_recovery_cycles_total /);
    await waitFor(
      async () => (await system.metricSum([standby], /^stacklink_recovery_cycles_total /)) > since,
      {
        timeoutMs: WITHIN,
        message: 'no further recovery cycle',
      },
    );
    expect(await runsFor(network, pushed.commit)).to.have.length(1);
    expect(await runsFor(database, pushed.commit)).to.have.length(1);
    await leader.start();
  });

  it('a token without REPO_ADMIN: health is forbidden naming the permission, nothing else broken', async () => {
    system.sim.addUser({ name: 'writer', token: 'writer-token-e2e', permission: 'read' });
    system.sim.setRepositoryPermission({
      project: PROJECT,
      repo: OTHER,
      user: 'writer',
      permission: 'REPO_WRITE',
    });
    const limited = await system.call<{ id: string }>(system.integration, 'POST', '/api/v1/integrations', {
      name: `limited-${system.namespace}`,
      apiHost: system.sim.url,
      userFacingHost: system.sim.url,
      username: 'writer',
      accessToken: 'writer-token-e2e',
      webhooks: { mode: 'managed' },
    });
    await system.createStack({
      name: 'apps',
      integrationId: limited.id,
      repository: { projectKey: PROJECT, slug: OTHER },
      branch: 'main',
      projectRoot: 'app',
    });
    const entry = await waitFor(
      async () => (await health(limited.id)).webhooks.find((w) => w.scope === `${PROJECT}/${OTHER}`),
      { timeoutMs: WITHIN, message: 'no health for PRJ/apps' },
    );
    expect(entry.health).to.equal('forbidden');
    expect(entry.detail).to.contain('REPO_ADMIN');
    // The command says so too, and exits 7 (a check failed).
    const cli = await cliWebhooks(limited.id, true);
    expect(cli.code, cli.stderr).to.equal(7);
    expect(JSON.parse(cli.stdout).webhooks[0]).to.deep.include({
      scope: `${PROJECT}/${OTHER}`,
      health: 'forbidden',
    });
    expect(hooksOf(OTHER, limited.id)).to.deep.equal([]);
    // The managed integration's hook is untouched and healthy.
    expect(hooksOf(REPO)).to.have.length(1);
    const ours = (await health()).webhooks.find((w) => w.scope === `${PROJECT}/${REPO}`);
    expect(['ok', 'repaired']).to.include(ours?.health);
  });

  it('deleting the last stack of the repository removes the hook', async () => {
    await system.call(system.api, 'DELETE', `/api/v1/stacks/${network.id}`);
    await system.call(system.api, 'DELETE', `/api/v1/stacks/${database.id}`);
    await waitFor(() => hooksOf(REPO).length === 0, { timeoutMs: WITHIN, message: 'hook not removed' });
    await waitFor(async () => (await health()).webhooks.every((w) => w.scope !== `${PROJECT}/${REPO}`), {
      timeoutMs: WITHIN,
      message: 'health of PRJ/infra still listed',
    });
  });
});
