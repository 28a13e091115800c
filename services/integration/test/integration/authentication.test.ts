import { expect } from 'chai';
import {
  ADMIN_TOKEN,
  INTERNAL_TOKEN,
  integrationInput,
  startService,
  type RunningService,
} from '../support/start-service';

describe('authentication', () => {
  let service: RunningService;
  let id: string;

  before(async () => {
    service = await startService();
    id = (await service.admin('POST', '/integrations', integrationInput())).body.id;
  });
  after(async () => service.close());

  const endpoints = (integrationId: string): { method: string; path: string; body?: unknown }[] => [
    { method: 'POST', path: '/api/v1/integrations', body: integrationInput() },
    { method: 'GET', path: '/api/v1/integrations' },
    { method: 'GET', path: `/api/v1/integrations/${integrationId}` },
    { method: 'PATCH', path: `/api/v1/integrations/${integrationId}`, body: { username: 'intruder' } },
    { method: 'DELETE', path: `/api/v1/integrations/${integrationId}?force=true` },
    { method: 'POST', path: `/api/v1/integrations/${integrationId}/test` },
    { method: 'POST', path: `/api/v1/integrations/${integrationId}/webhook-secret/rotate` },
    { method: 'GET', path: `/api/v1/integrations/${integrationId}/repositories` },
    { method: 'GET', path: `/internal/v1/integrations/${integrationId}/webhook-secrets` },
    { method: 'GET', path: `/internal/v1/integrations/${integrationId}/credentials` },
  ];

  const wrongTokens: { label: string; token: (path: string) => string | null }[] = [
    { label: 'no token', token: () => null },
    { label: 'a wrong token', token: () => 'not-the-token-0123456789' },
    // Each API has its own token: the other one must not open it.
    {
      label: 'the other API’s token',
      token: (path) => (path.startsWith('/internal') ? ADMIN_TOKEN : INTERNAL_TOKEN),
    },
  ];

  for (const { method, path } of endpoints('ID')) {
    for (const wrong of wrongTokens) {
      it(`${method} ${path} with ${wrong.label} answers 401 and changes nothing`, async () => {
        const before = await service.repository.list();
        const stackTriggerCalls = service.stackTrigger.requests.length;
        const endpoint = endpoints(id).find((e) => e.method === method && e.path === path.replace('ID', id))!;
        const res = await service.call(method, endpoint.path, {
          token: wrong.token(path),
          body: endpoint.body,
        });
        expect(res.status).to.equal(401);
        expect(res.body.error.code).to.equal('AUTH.UNAUTHORIZED');
        expect(res.headers.get('www-authenticate')).to.match(/^Bearer /);
        expect(res.text).to.not.contain('secrets');
        expect(await service.repository.list()).to.deep.equal(before);
        expect(service.stackTrigger.requests.length).to.equal(stackTriggerCalls);
      });
    }
  }

  it('answers 401 before looking at the body', async () => {
    const res = await fetch(`${service.url}/api/v1/integrations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{not json',
    });
    expect(res.status).to.equal(401);
  });

  it('opens every endpoint with the right token', async () => {
    for (const endpoint of endpoints(id).filter((e) => e.method === 'GET')) {
      const token = endpoint.path.startsWith('/internal') ? INTERNAL_TOKEN : ADMIN_TOKEN;
      const res = await service.call(endpoint.method, endpoint.path, { token });
      expect(res.status, endpoint.path).to.not.equal(401);
    }
  });
});
