import { expect } from 'chai';
import { createBitbucketClient, scopedWebhookSecret } from '@stacklink/bitbucket';
import { startSimulator, type BitbucketSimulator } from '@stacklink/bitbucket-simulator';
import { createSilentLogger } from '@stacklink/logger';
import { openSqliteStore } from '../../src/adapters/sqlite/sqlite-store';
import type { Store } from '../../src/adapters/store';
import { createReconcileWebhooks, managedWebhookName } from '../../src/domain/reconcile-webhooks';
import type { ReconcilerLeasePort, WebhookSettingsView } from '../../src/domain/reconciler-ports';
import { stackInput } from '../support/events';

const BASE = 'https://hooks.example.test';
const SECRET = 'integration-secret';
const held: ReconcilerLeasePort = {
  holder: 'me',
  acquire: async () => 1,
  assertHeld: async () => undefined,
  token: () => 1,
  release: async () => undefined,
};

describe('managed webhook reconcile against the simulator (docs/architecture.md §14)', () => {
  let sim: BitbucketSimulator;
  let store: Store;
  let settings: WebhookSettingsView;

  const reconcile = (token = 'admin-token') => {
    const client = createBitbucketClient({ baseUrl: sim.url, token });
    return createReconcileWebhooks({
      stacks: store.stacks,
      health: store.webhookHealth,
      integrations: { settings: async () => settings, webhookSecret: async () => SECRET },
      lease: held,
      call: (_id, request) => request(client),
      metrics: { webhookAction() {}, recoveryCycle() {}, leader() {} },
      logger: createSilentLogger(),
      publicWebhookBaseUrl: BASE,
    })('int-1');
  };

  beforeEach(async () => {
    sim = await startSimulator({ pageSize: 2 });
    sim.addUser({ name: 'admin', token: 'admin-token', permission: 'admin' });
    sim.addUser({ name: 'owner', token: 'owner-token', permission: 'read' });
    sim.addRepository({ project: 'PRJ', slug: 'infra', files: ['infra/prod/main.tf'] });
    sim.addRepository({ project: 'PRJ', slug: 'apps', files: ['app/main.tf'] });
    store = openSqliteStore(':memory:');
    await store.stacks.create(stackInput());
    settings = { mode: 'managed', scope: 'repository' };
  });
  afterEach(async () => {
    await sim.close();
    await store.close();
  });

  it('creates the hook with the scoped URL, the §6 events and the derived secret', async () => {
    const [health] = await reconcile();
    expect(health).to.deep.include({ scope: 'PRJ/infra', health: 'ok' });
    const [hook] = sim.recorded.webhooks;
    expect(hook).to.deep.include({
      name: managedWebhookName('int-1'),
      url: `${BASE}/webhooks/bitbucket-dc/int-1?scope=PRJ/infra`,
      active: true,
    });
    expect(hook!.configuration.secret).to.equal(scopedWebhookSecret(SECRET, 'PRJ/infra'));
  });

  it('manual mode creates, repairs and removes nothing', async () => {
    settings = { mode: 'manual', scope: 'repository' };
    await reconcile();
    expect(sim.recorded.webhooks).to.deep.equal([]);
    expect(sim.recorded.requests.filter((r) => r.path.includes('/webhooks'))).to.deep.equal([]);
  });

  it('adopts a hook set up by hand that points at us, instead of adding a second one', async () => {
    const manual = sim.addWebhook({
      project: 'PRJ',
      repo: 'infra',
      url: `${BASE}/webhooks/bitbucket-dc/int-1`,
      secret: SECRET,
      name: 'by hand',
    });
    const other = sim.addWebhook({
      project: 'PRJ',
      repo: 'infra',
      url: 'https://ci.example.test/hook',
      name: 'ci',
    });
    const [health] = await reconcile();
    expect(health!.health).to.equal('ok');
    expect(health!.detail).to.match(/adopted/);
    expect(sim.recorded.webhooks.map((w) => w.id).sort()).to.deep.equal([manual.id, other.id].sort());
    expect(sim.recorded.webhooks.find((w) => w.id === manual.id)!.name).to.equal(managedWebhookName('int-1'));
    expect(sim.recorded.webhooks.find((w) => w.id === other.id)!.url).to.equal(
      'https://ci.example.test/hook',
    );
  });

  it('a hook whose receiver is down is reported failing, with when and why', async () => {
    await reconcile();
    // Bitbucket delivers to the hook's URL, where nothing answers (hooks.example.test does not resolve).
    await sim.push({ project: 'PRJ', repo: 'infra', branch: 'main', files: ['infra/prod/x.tf'] });
    const [health] = await reconcile();
    expect(health!.health).to.equal('failing');
    expect(health!.lastFailure).to.match(/ERROR/);
  });

  it('project scope without PROJECT_ADMIN falls back to the repository, and says so', async () => {
    settings = { mode: 'managed', scope: 'project' };
    sim.setRepositoryPermission({ project: 'PRJ', repo: 'infra', user: 'owner', permission: 'REPO_ADMIN' });
    const [health] = await reconcile('owner-token');
    expect(health).to.deep.include({ scope: 'PRJ/infra', health: 'ok' });
    expect(health!.detail).to.match(/PROJECT_ADMIN.*per repository/);
    sim.setProjectPermission({ project: 'PRJ', user: 'owner', permission: 'PROJECT_ADMIN' });
    const [project] = await reconcile('owner-token');
    expect(project).to.deep.include({ scope: 'PRJ', health: 'ok' });
    // The repository hook it made before goes: the project hook covers the repository now.
    expect(sim.recorded.webhooks.map((w) => w.url)).to.deep.equal([
      `${BASE}/webhooks/bitbucket-dc/int-1?scope=PRJ`,
    ]);
  });
});
