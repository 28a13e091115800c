import { createHmac } from 'node:crypto';
import { expect } from 'chai';
import { integrationInput, startService, type RunningService } from '../support/start-service';

function derived(secret: string, scope: string): string {
  return createHmac('sha256', secret).update(`scope:${scope}`).digest('hex');
}

describe('GET /api/v1/integrations/{id}/webhook-secret', () => {
  let service: RunningService;
  afterEach(async () => service.close());

  async function create(): Promise<{ id: string; secret: string }> {
    const body = (await service.admin('POST', '/integrations', integrationInput())).body;
    return { id: body.id, secret: body.webhook.secret };
  }

  it('without a scope, answers the integration-wide endpoint and secret', async () => {
    service = await startService();
    const { id, secret } = await create();
    const res = await service.admin('GET', `/integrations/${id}/webhook-secret`);
    expect(res.status).to.equal(200);
    expect(res.body.webhook.secret).to.equal(secret);
    expect(res.body.webhook.endpoint).to.match(new RegExp(`/webhooks/bitbucket-dc/${id}$`));
  });

  it('with a repository or project scope, answers the scoped endpoint and the secret derived for it', async () => {
    service = await startService();
    const { id, secret } = await create();
    const repo = await service.admin('GET', `/integrations/${id}/webhook-secret?scope=PRJ/repo-1`);
    expect(repo.status).to.equal(200);
    expect(repo.body.webhook).to.deep.include({ scope: 'PRJ/repo-1', secret: derived(secret, 'PRJ/repo-1') });
    expect(repo.body.webhook.endpoint).to.match(
      new RegExp(`/webhooks/bitbucket-dc/${id}\\?scope=PRJ/repo-1$`),
    );

    const project = await service.admin('GET', `/integrations/${id}/webhook-secret?scope=PRJ`);
    expect(project.body.webhook.secret).to.equal(derived(secret, 'PRJ'));
    expect(project.body.webhook.secret).to.not.equal(repo.body.webhook.secret);
  });

  it('rotating the integration secret rotates every scoped secret with it', async () => {
    service = await startService();
    const { id } = await create();
    const before = (await service.admin('GET', `/integrations/${id}/webhook-secret?scope=PRJ/repo-1`)).body;
    const rotated = (await service.admin('POST', `/integrations/${id}/webhook-secret/rotate`)).body;
    const after = (await service.admin('GET', `/integrations/${id}/webhook-secret?scope=PRJ/repo-1`)).body;
    expect(after.webhook.secret).to.equal(derived(rotated.webhook.secret as string, 'PRJ/repo-1'));
    expect(after.webhook.secret).to.not.equal(before.webhook.secret);
    expect(after.previousSecretValidUntil).to.equal(rotated.previousSecretValidUntil);
  });

  it('a malformed scope is a 400 naming scope; an unknown integration a 404; no admin token a 401', async () => {
    service = await startService();
    const { id } = await create();
    const bad = await service.admin(
      'GET',
      `/integrations/${id}/webhook-secret?scope=${encodeURIComponent('P/r/x')}`,
    );
    expect(bad.status).to.equal(400);
    expect(JSON.stringify(bad.body)).to.contain('scope');
    expect(JSON.stringify(bad.body)).to.not.match(/[0-9a-f]{64}/);
    expect((await service.admin('GET', '/integrations/nope/webhook-secret')).status).to.equal(404);
    const anonymous = await fetch(`${service.url}/api/v1/integrations/${id}/webhook-secret`);
    expect(anonymous.status).to.equal(401);
  });
});
