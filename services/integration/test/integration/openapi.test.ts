import { expect } from 'chai';
import { answerProblems, checkOpenApiCompleteness, validateOpenApiDocument } from '@stacklink/testing';
import {
  ADMIN_TOKEN,
  GATEWAY_TOKEN,
  INTERNAL_TOKEN,
  integrationInput,
  startService,
  type RunningService,
} from '../support/start-service';

/**
 * `GET /api/v1/openapi.json` and `GET /internal/v1/openapi.json` (docs/architecture.md §16): every route
 * the routers serve is in the document, described by the joi schemas that validate it, and the document
 * is valid OpenAPI 3.1.
 */
describe('integration service: OpenAPI descriptions', () => {
  let service: RunningService;

  before(async () => {
    service = await startService();
  });

  after(async () => {
    await service.close();
  });

  for (const [prefix, token, other] of [
    ['/api/v1', ADMIN_TOKEN, INTERNAL_TOKEN],
    ['/internal/v1', INTERNAL_TOKEN, ADMIN_TOKEN],
  ] as const) {
    describe(`${prefix}/openapi.json`, () => {
      it('documents every served route with the schemas that validate it', async () => {
        const answer = await service.call('GET', `${prefix}/openapi.json`, { token });
        expect(answer.status).to.equal(200);
        expect(answer.body.openapi).to.equal('3.1.0');
        expect(
          checkOpenApiCompleteness(service.app, answer.body as Record<string, unknown>, prefix),
        ).to.deep.equal([]);
        expect(Object.keys(answer.body.paths as object).length).to.be.greaterThan(1);
      });

      it('is a valid OpenAPI 3.1 document', async () => {
        const answer = await service.call('GET', `${prefix}/openapi.json`, { token });
        expect(await validateOpenApiDocument(answer.body as Record<string, unknown>)).to.deep.equal([]);
      });

      it("needs the API's own token", async () => {
        expect((await service.call('GET', `${prefix}/openapi.json`, { token: null })).status).to.equal(401);
        expect((await service.call('GET', `${prefix}/openapi.json`, { token: other })).status).to.equal(401);
      });
    });
  }

  it('describes a request body with its constraints, the answers with their errors and examples', async () => {
    const { body } = await service.call('GET', '/api/v1/openapi.json', { token: ADMIN_TOKEN });
    const create = body.paths['/api/v1/integrations'].post;
    const schema = create.requestBody.content['application/json'].schema;
    expect(schema.required).to.have.members(['name', 'apiHost', 'userFacingHost', 'username', 'accessToken']);
    expect(schema.properties.name).to.include({ type: 'string', minLength: 1, maxLength: 100 });
    expect(schema.additionalProperties).to.equal(false);
    expect(create.responses['201'].content['application/json'].example.webhook.secret).to.be.a('string');
    expect(create.responses['400'].content['application/json'].schema.properties.error.required).to.include(
      'code',
    );
    expect(create.security).to.deep.equal([{ adminToken: [] }]);
    const repositories = body.paths['/api/v1/integrations/{id}/repositories'].get;
    expect(
      (repositories.parameters as { name: string; in: string }[]).map((p) => `${p.in}:${p.name}`),
    ).to.deep.equal(['path:id', 'query:project', 'query:filter', 'query:start', 'query:limit']);
  });

  it('the answers the service really gives fit the document, errors included', async () => {
    const doc = (await service.admin('GET', '/openapi.json')).body as Record<string, unknown>;
    const internalDoc = (await service.internal('GET', '/openapi.json')).body as Record<string, unknown>;
    const problems: string[] = [];
    const check = (
      answer: { status: number; body: unknown },
      method: string,
      path: string,
      of: Record<string, unknown> = doc,
    ) => {
      problems.push(...answerProblems(of, { method, path, status: answer.status }, answer.body));
      return answer;
    };
    const created = check(
      await service.admin('POST', '/integrations', integrationInput()),
      'POST',
      '/api/v1/integrations',
    );
    const id = String((created.body as { id: string }).id);
    check(await service.admin('GET', '/integrations'), 'GET', '/api/v1/integrations');
    check(await service.admin('GET', `/integrations/${id}`), 'GET', '/api/v1/integrations/{id}');
    check(
      await service.admin('PATCH', `/integrations/${id}`, { description: 'changed' }),
      'PATCH',
      '/api/v1/integrations/{id}',
    );
    check(
      await service.admin('POST', `/integrations/${id}/webhook-secret/rotate`),
      'POST',
      '/api/v1/integrations/{id}/webhook-secret/rotate',
    );
    check(
      await service.admin('GET', `/integrations/${id}/webhook-secret?scope=PRJ/repo`),
      'GET',
      '/api/v1/integrations/{id}/webhook-secret',
    );
    check(await service.admin('GET', '/integrations/nope'), 'GET', '/api/v1/integrations/{id}');
    check(await service.admin('POST', '/integrations', { name: 'x' }), 'POST', '/api/v1/integrations');
    for (const suffix of ['webhook-secrets', 'credentials'])
      check(
        await service.internal('GET', `/integrations/${id}/${suffix}`),
        'GET',
        `/internal/v1/integrations/{id}/${suffix}`,
        internalDoc,
      );
    expect(problems).to.deep.equal([]);
  });

  it('the gateway token may not read the internal document', async () => {
    const answer = await service.call('GET', '/internal/v1/openapi.json', { token: GATEWAY_TOKEN });
    expect(answer.status).to.equal(403);
  });

  it('the check names a route served without a description, and one whose documented schema was changed', async () => {
    const { body } = await service.call('GET', '/api/v1/openapi.json', { token: ADMIN_TOKEN });
    const edited = structuredClone(body);
    delete edited.paths['/api/v1/integrations/{id}'].get;
    edited.paths['/api/v1/integrations'].post.requestBody.content[
      'application/json'
    ].schema.properties.name.maxLength = 5;
    const problems = checkOpenApiCompleteness(service.app, edited as Record<string, unknown>, '/api/v1');
    expect(problems).to.have.length(2);
    expect(problems.find((p) => p.startsWith('GET /api/v1/integrations/{id} '))).to.match(
      /is served but missing from the document/,
    );
    expect(problems.find((p) => p.startsWith('POST /api/v1/integrations '))).to.match(
      /is documented with schemas that differ from the ones validating it/,
    );
  });
});
