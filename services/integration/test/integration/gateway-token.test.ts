import { expect } from 'chai';
import {
  ADMIN_TOKEN,
  GATEWAY_TOKEN,
  INTERNAL_TOKEN,
  integrationInput,
  startService,
  type RunningService,
} from '../support/start-service';

describe('the gateway token on the integration service (docs/architecture.md §12)', () => {
  let service: RunningService;
  let id: string;

  before(async () => {
    service = await startService();
    id = (await service.admin('POST', '/integrations', integrationInput())).body.id;
  });
  after(async () => service.close());

  it('reads an integration’s webhook secrets', async () => {
    const res = await service.call('GET', `/internal/v1/integrations/${id}/webhook-secrets`, {
      token: GATEWAY_TOKEN,
    });
    expect(res.status).to.equal(200);
    expect(res.body.secrets).to.have.length.greaterThan(0);
  });

  it('is answered 403 AUTH.FORBIDDEN on the credentials, which it never sees', async () => {
    const allowed = await service.call('GET', `/internal/v1/integrations/${id}/credentials`, {
      token: INTERNAL_TOKEN,
    });
    expect(allowed.status).to.equal(200);
    const accessToken = String(allowed.body.accessToken ?? allowed.body.token ?? '');

    const refused = await service.call('GET', `/internal/v1/integrations/${id}/credentials`, {
      token: GATEWAY_TOKEN,
    });

    expect(refused.status).to.equal(403);
    expect(refused.body.error.code).to.equal('AUTH.FORBIDDEN');
    expect(accessToken).to.not.equal('');
    expect(refused.text).to.not.contain(accessToken);
  });

  it('opens nothing on the admin API', async () => {
    const before = await service.repository.list();
    const list = await service.call('GET', '/api/v1/integrations', { token: GATEWAY_TOKEN });
    const patch = await service.call('PATCH', `/api/v1/integrations/${id}`, {
      token: GATEWAY_TOKEN,
      body: { username: 'intruder' },
    });
    expect([list.status, patch.status]).to.deep.equal([401, 401]);
    expect(await service.repository.list()).to.deep.equal(before);
    expect((await service.call('GET', '/api/v1/integrations', { token: ADMIN_TOKEN })).status).to.equal(200);
  });
});
