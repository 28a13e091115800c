import { expect } from 'chai';
import { closedPort } from '../support/network';
import {
  integrationInput,
  PUBLIC_WEBHOOK_BASE_URL,
  startService,
  type RunningService,
} from '../support/start-service';

describe('integrations API', () => {
  let service: RunningService;
  beforeEach(async () => {
    service = await startService();
  });
  afterEach(async () => service.close());

  it('creates an integration and answers 201 with the webhook endpoint and a fresh secret', async () => {
    const input = integrationInput({ tls: {} });
    const res = await service.admin('POST', '/integrations', input);
    expect(res.status).to.equal(201);
    const body = res.body;
    expect(body.id).to.match(/^[0-9a-f-]{36}$/);
    expect(body).to.deep.include({
      name: input.name,
      apiHost: 'https://bitbucket.internal.example.test/bitbucket',
      userFacingHost: 'https://git.example.test/bitbucket',
      username: 'stacklink-bot',
      description: 'main Bitbucket',
      labels: ['prod'],
    });
    expect(body.createdAt).to.equal(service.clock.now().toISOString());
    expect(body.webhook.endpoint).to.equal(`${PUBLIC_WEBHOOK_BASE_URL}/webhooks/bitbucket-dc/${body.id}`);
    expect(body.webhook.secret).to.match(/^[0-9a-f]{64}$/);
    expect(body).to.not.have.property('accessToken');
  });

  it('gives every integration its own webhook secret', async () => {
    const a = await service.admin('POST', '/integrations', integrationInput());
    const b = await service.admin('POST', '/integrations', integrationInput());
    expect(a.body.webhook.secret).to.not.equal(b.body.webhook.secret);
  });

  it('shows an integration and the list with the webhook endpoint but without token or secret', async () => {
    const created = (await service.admin('POST', '/integrations', integrationInput())).body;
    const one = await service.admin('GET', `/integrations/${created.id}`);
    expect(one.status).to.equal(200);
    expect(one.body.webhook).to.deep.equal({ endpoint: created.webhook.endpoint });
    const { webhook: _w, ...rest } = created;
    expect(one.body).to.deep.include(rest);
    const list = await service.admin('GET', '/integrations');
    expect(list.status).to.equal(200);
    expect(list.body.integrations).to.deep.equal([one.body]);
  });

  it('answers 404 naming the integration for an unknown id', async () => {
    const res = await service.admin('GET', '/integrations/00000000-0000-4000-8000-000000000000');
    expect(res.status).to.equal(404);
    expect(res.body.error.code).to.equal('INTEGRATION.NOT_FOUND');
  });

  it('refuses a second integration with the same name with 409 naming the field, and stores nothing more', async () => {
    const input = integrationInput();
    await service.admin('POST', '/integrations', input);
    const res = await service.admin('POST', '/integrations', integrationInput({ name: input.name }));
    expect(res.status).to.equal(409);
    expect(res.body.error.code).to.equal('INTEGRATION.NAME_TAKEN');
    expect(res.body.error.details.fields[0].field).to.equal('name');
    expect(await service.repository.count()).to.equal(1);
  });

  it('updates fields with PATCH, keeps the name, and replaces the token', async () => {
    const created = (await service.admin('POST', '/integrations', integrationInput())).body;
    service.clock.advance(60_000);
    const res = await service.admin('PATCH', `/integrations/${created.id}`, {
      name: created.name,
      apiHost: 'https://new-bitbucket.example.test/',
      accessToken: 'BBDC-replacement-token-0123456789',
      description: null,
      labels: ['staging', 'eu'],
    });
    expect(res.status).to.equal(200);
    expect(res.body).to.deep.include({
      name: created.name,
      apiHost: 'https://new-bitbucket.example.test',
      labels: ['staging', 'eu'],
      createdAt: created.createdAt,
      updatedAt: service.clock.now().toISOString(),
    });
    expect(res.body).to.not.have.property('description');
    const credentials = await service.internal('GET', `/integrations/${created.id}/credentials`);
    expect(credentials.body.accessToken).to.equal('BBDC-replacement-token-0123456789');
    expect(credentials.body.apiHost).to.equal('https://new-bitbucket.example.test');
  });

  it('refuses to rename an integration with 400 naming the name field, and changes nothing', async () => {
    const created = (await service.admin('POST', '/integrations', integrationInput())).body;
    const before = await service.repository.findById(created.id as string);
    const res = await service.admin('PATCH', `/integrations/${created.id}`, {
      name: 'renamed',
      username: 'x',
    });
    expect(res.status).to.equal(400);
    expect(res.body.error.details.fields[0].field).to.equal('name');
    expect(await service.repository.findById(created.id as string)).to.deep.equal(before);
  });

  it('refuses to move the API host without a new access token, with 400 naming accessToken, and changes nothing', async () => {
    const created = (await service.admin('POST', '/integrations', integrationInput())).body;
    const before = await service.repository.findById(created.id as string);
    const res = await service.admin('PATCH', `/integrations/${created.id}`, {
      apiHost: 'https://elsewhere.example.test',
    });
    expect(res.status).to.equal(400);
    expect(res.body.error.details.fields[0].field).to.equal('accessToken');
    expect(await service.repository.findById(created.id as string)).to.deep.equal(before);
    // The same host sent back unchanged (as a client echoing the whole record does) needs no token.
    const same = await service.admin('PATCH', `/integrations/${created.id}`, {
      apiHost: `${created.apiHost as string}/`,
      username: 'other-bot',
    });
    expect(same.status).to.equal(200);
    expect(same.body).to.include({ apiHost: created.apiHost, username: 'other-bot' });
  });

  it('answers 404 to PATCH of an unknown integration', async () => {
    const res = await service.admin('PATCH', '/integrations/nope', { username: 'x' });
    expect(res.status).to.equal(404);
  });

  it('deletes an integration when no stack uses it', async () => {
    const created = (await service.admin('POST', '/integrations', integrationInput())).body;
    const res = await service.admin('DELETE', `/integrations/${created.id}`);
    expect(res.status).to.equal(204);
    expect((await service.admin('GET', `/integrations/${created.id}`)).status).to.equal(404);
    expect((await service.internal('GET', `/integrations/${created.id}/webhook-secrets`)).status).to.equal(
      404,
    );
  });

  it('serves the current webhook secret and the credentials on the internal API', async () => {
    const input = integrationInput({ tls: {} });
    const created = (await service.admin('POST', '/integrations', input)).body;
    const secrets = await service.internal('GET', `/integrations/${created.id}/webhook-secrets`);
    expect(secrets.status).to.equal(200);
    expect(secrets.body).to.deep.equal({ secrets: [{ value: created.webhook.secret }] });
    expect(secrets.headers.get('cache-control')).to.equal('no-store');
    const credentials = await service.internal('GET', `/integrations/${created.id}/credentials`);
    expect(credentials.status).to.equal(200);
    expect(credentials.body).to.deep.equal({
      apiHost: 'https://bitbucket.internal.example.test/bitbucket',
      username: 'stacklink-bot',
      accessToken: input.accessToken,
      tls: {},
      webhooks: { mode: 'manual', scope: 'repository' },
    });
  });

  it('never shows the access token in any public answer, and the webhook secret only on create and rotate', async () => {
    // Nothing listens there: test and repositories fail fast, and their answers are scanned too.
    const input = integrationInput({ apiHost: `http://127.0.0.1:${await closedPort()}` });
    const token = input.accessToken as string;
    const created = await service.admin('POST', '/integrations', input);
    const id = created.body.id as string;
    const firstSecret = created.body.webhook.secret as string;
    const publicAnswers: { label: string; text: string }[] = [];
    const record = async (label: string, method: string, path: string, body?: unknown) => {
      const res = await service.admin(method, path, body);
      publicAnswers.push({ label, text: res.text });
      return res;
    };
    await record('get', 'GET', `/integrations/${id}`);
    await record('list', 'GET', '/integrations');
    await record('patch', 'PATCH', `/integrations/${id}`, { username: 'other-bot' });
    await record('patch token', 'PATCH', `/integrations/${id}`, { accessToken: `${token}-v2` });
    await record('invalid patch', 'PATCH', `/integrations/${id}`, { accessToken: `${token} with spaces` });
    await record('invalid create', 'POST', '/integrations', {
      ...input,
      name: '',
      accessToken: `${token} x`,
    });
    await record('duplicate', 'POST', '/integrations', input);
    await record('test', 'POST', `/integrations/${id}/test`);
    await record('repositories', 'GET', `/integrations/${id}/repositories`);
    const rotated = await service.admin('POST', `/integrations/${id}/webhook-secret/rotate`);
    await record('get after rotate', 'GET', `/integrations/${id}`);
    await record('delete', 'DELETE', `/integrations/${id}`);

    expect(created.text).to.not.contain(token);
    expect(rotated.text).to.not.contain(token);
    for (const answer of publicAnswers) {
      expect(answer.text, answer.label).to.not.contain(token);
      expect(answer.text, answer.label).to.not.contain(firstSecret);
      expect(answer.text, answer.label).to.not.contain(rotated.body.webhook.secret);
    }
    expect(publicAnswers.length).to.equal(11);
  });
});
