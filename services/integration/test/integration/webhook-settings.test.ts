import { expect } from 'chai';
import { integrationInput, startService, type RunningService } from '../support/start-service';

describe('integration webhook setting and health (managed webhooks)', () => {
  let service: RunningService;
  beforeEach(async () => {
    service = await startService();
  });
  afterEach(async () => service.close());

  it('an integration is manual per repository unless created managed, and says so', async () => {
    const plain = await service.admin('POST', '/integrations', integrationInput());
    expect(plain.body.webhooks).to.deep.equal({ mode: 'manual', scope: 'repository' });
    const managed = await service.admin(
      'POST',
      '/integrations',
      integrationInput({ webhooks: { mode: 'managed', scope: 'project' } }),
    );
    expect(managed.status).to.equal(201);
    expect((await service.admin('GET', `/integrations/${managed.body.id}`)).body.webhooks).to.deep.equal({
      mode: 'managed',
      scope: 'project',
    });
  });

  it('a bad mode is answered 400 naming webhooks.mode, and nothing is changed', async () => {
    const created = await service.admin('POST', '/integrations', integrationInput());
    const res = await service.admin('PATCH', `/integrations/${created.body.id}`, {
      webhooks: { mode: 'automatic' },
    });
    expect(res.status).to.equal(400);
    expect(JSON.stringify(res.body.error)).to.contain('webhooks.mode');
    expect((await service.admin('GET', `/integrations/${created.body.id}`)).body.webhooks.mode).to.equal(
      'manual',
    );
  });

  it('switching to managed shows the health stack-trigger reports, and switching back to manual says hooks stay', async () => {
    const created = await service.admin('POST', '/integrations', integrationInput());
    const id = created.body.id as string;
    const managed = await service.admin('PATCH', `/integrations/${id}`, { webhooks: { mode: 'managed' } });
    expect(managed.status).to.equal(200);
    expect(managed.body.webhooks).to.deep.equal({ mode: 'managed', scope: 'repository' });
    service.stackTrigger.webhooks.set(id, [
      {
        scope: 'PRJ/infra',
        health: 'ok',
        detail: 'hook 7 as expected',
        checkedAt: '2030-01-01T00:00:00.000Z',
      },
    ]);
    const health = await service.admin('GET', `/integrations/${id}/webhooks`);
    expect(health.status).to.equal(200);
    expect(health.body).to.deep.equal({
      integrationId: id,
      mode: 'managed',
      scope: 'repository',
      webhooks: [
        {
          scope: 'PRJ/infra',
          health: 'ok',
          detail: 'hook 7 as expected',
          checkedAt: '2030-01-01T00:00:00.000Z',
        },
      ],
    });
    await service.admin('PATCH', `/integrations/${id}`, { webhooks: { mode: 'manual' } });
    const manual = await service.admin('GET', `/integrations/${id}/webhooks`);
    expect(manual.body.mode).to.equal('manual');
    expect(manual.body.note).to.match(/stay as they are/);
  });

  it('the webhooks of an unknown integration are a 404', async () => {
    const res = await service.admin('GET', '/integrations/no-such-integration/webhooks');
    expect(res.status).to.equal(404);
  });
});
