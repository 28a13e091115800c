import { existsSync, readFileSync } from 'node:fs';
import { expect } from 'chai';
import { createCapturingLogger } from '@stacklink/logger';
import { GATEWAY_TOKEN, integrationInput, startService, type RunningService } from '../support/start-service';

const SECRET = 'oauth-client-secret-0123456789abcdef0123456789';
const SECOND_SECRET = 'oauth-client-secret-second-fedcba9876543210';

function storeText(storePath: string): string {
  return [storePath, `${storePath}-wal`]
    .filter((p) => existsSync(p))
    .map((p) => readFileSync(p).toString('latin1'))
    .join('');
}

/** Sign in with Bitbucket (issue 22): an integration's optional OAuth client, its secret sealed like the token. */
describe('an integration’s OAuth client for "sign in with Bitbucket"', () => {
  let service: RunningService;
  const capture = createCapturingLogger('integration');
  let id: string;

  before(async () => {
    service = await startService({ logger: capture.logger });
  });
  after(async () => service.close());

  it('is set on create and shown as {clientId, configured} without its secret', async () => {
    const created = await service.admin(
      'POST',
      '/integrations',
      integrationInput({ oauth: { clientId: 'client-1', clientSecret: SECRET } }),
    );
    expect(created.status).to.equal(201);
    id = created.body.id as string;
    expect(created.body.oauth).to.deep.equal({ clientId: 'client-1', configured: true });
    const read = await service.admin('GET', `/integrations/${id}`);
    expect(read.body.oauth).to.deep.equal({ clientId: 'client-1', configured: true });
    expect(created.text + read.text).not.to.contain(SECRET);
  });

  it('is served with its secret on the internal API to INTERNAL_TOKEN only, never to the gateway token', async () => {
    const answer = await service.internal('GET', `/integrations/${id}/oauth-client`);
    expect(answer.status).to.equal(200);
    expect(answer.headers.get('cache-control')).to.equal('no-store');
    expect(answer.body).to.deep.include({ clientId: 'client-1', clientSecret: SECRET });
    const gateway = await service.call('GET', `/internal/v1/integrations/${id}/oauth-client`, {
      token: GATEWAY_TOKEN,
    });
    expect(gateway.status).to.equal(403);
    expect(gateway.text).not.to.contain(SECRET);
  });

  it('refuses a client without its secret with 400 naming oauth.clientSecret, and keeps the old one', async () => {
    const answer = await service.admin('PATCH', `/integrations/${id}`, { oauth: { clientId: 'client-2' } });
    expect(answer.status).to.equal(400);
    const fields = answer.body.error.details.fields as { field: string }[];
    expect(fields.map((f) => f.field)).to.deep.equal(['oauth.clientSecret']);
    const still = await service.internal('GET', `/integrations/${id}/oauth-client`);
    expect(still.body).to.deep.include({ clientId: 'client-1', clientSecret: SECRET });
  });

  it('is replaced by PATCH and removed by oauth: null, after which the internal API answers 404', async () => {
    const replaced = await service.admin('PATCH', `/integrations/${id}`, {
      oauth: { clientId: 'client-2', clientSecret: SECOND_SECRET },
    });
    expect(replaced.body.oauth).to.deep.equal({ clientId: 'client-2', configured: true });
    expect((await service.internal('GET', `/integrations/${id}/oauth-client`)).body.clientSecret).to.equal(
      SECOND_SECRET,
    );
    const removed = await service.admin('PATCH', `/integrations/${id}`, { oauth: null });
    expect(removed.status).to.equal(200);
    expect(removed.body).not.to.have.property('oauth');
    const gone = await service.internal('GET', `/integrations/${id}/oauth-client`);
    expect(gone.status).to.equal(404);
    expect(gone.body.error.code).to.equal('INTEGRATION.OAUTH_NOT_CONFIGURED');
  });

  it('leaves no client secret in the store, the public answers or the logs', () => {
    const stored = storeText(service.storePath);
    expect(stored).to.contain('client-1');
    const publicAnswers = service.responses.filter((r) => !r.includes('"clientSecret"')).join('\n');
    for (const secret of [SECRET, SECOND_SECRET]) {
      expect(stored, 'store').not.to.contain(secret);
      expect(publicAnswers, 'public answers').not.to.contain(secret);
      expect(capture.text(), 'logs').not.to.contain(secret);
    }
  });
});
