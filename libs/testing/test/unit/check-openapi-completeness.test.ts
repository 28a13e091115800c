import { expect } from 'chai';
import express, { Router } from 'express';
import { Joi } from '@stacklink/config';
import { createDocumentedRouter, openApiDocument } from '@stacklink/http';
import { answerProblems, checkOpenApiCompleteness } from '../../src/check-openapi-completeness';

/** An app like the services build: documented routers under /api/v1, and what a helper might add. */
function appWith(extra: (app: express.Express) => void) {
  const api = createDocumentedRouter();
  api.route(
    {
      method: 'get',
      path: '/things/:id',
      summary: 'a thing',
      auth: ['admin'],
      query: Joi.object({ limit: Joi.number().integer().min(1) }),
      responses: { 200: { description: 'the thing', schema: Joi.object({ id: Joi.string() }) } },
    },
    (_input, _req, res) => {
      res.json({});
    },
  );
  const app = express();
  app.use('/api/v1', api.router);
  extra(app);
  return {
    app,
    document: openApiDocument({ title: 't', version: '1' }, [{ prefix: '/api/v1', routers: [api] }]),
  };
}

describe('checkOpenApiCompleteness', () => {
  it('is empty when every served route is documented from its own schemas', () => {
    const { app, document } = appWith(() => undefined);
    expect(checkOpenApiCompleteness(app, document, '/api/v1')).to.deep.equal([]);
  });

  it('names a route served with plain express and says how to declare it', () => {
    const { app, document } = appWith((a) => {
      const plain = Router();
      plain.get('/runs/:id/logs', (_req, res) => {
        res.json({});
      });
      a.use('/api/v1', plain);
    });
    expect(checkOpenApiCompleteness(app, document, '/api/v1')).to.deep.equal([
      'GET /api/v1/runs/{id}/logs is served but has no OpenAPI description: declare it with ' +
        'createDocumentedRouter().route({method, path, summary, auth, params?, query?, body?, responses}, ' +
        'handler) from @stacklink/http (libs/http/README.md) instead of router.get/post/…',
    ]);
  });

  it('names a documented route whose schema no longer matches, and one documented but not served', () => {
    const { app, document } = appWith(() => undefined);
    const paths = document.paths as Record<string, Record<string, { parameters: { schema: object }[] }>>;
    paths['/api/v1/things/{id}']!.get!.parameters[1]!.schema = { type: 'integer', minimum: 0 };
    paths['/api/v1/gone'] = { get: paths['/api/v1/things/{id}']!.get! };
    const problems = checkOpenApiCompleteness(app, document, '/api/v1');
    expect(problems).to.deep.equal([
      'GET /api/v1/things/{id} is documented with schemas that differ from the ones validating it: build the ' +
        'document with openApiDocument() from the same routers instead of editing it',
      'GET /api/v1/gone is documented but not served',
    ]);
  });

  it('ignores routes outside the prefix (probes, the other API)', () => {
    const { app, document } = appWith((a) => {
      a.get('/healthz', (_req, res) => {
        res.json({});
      });
    });
    expect(checkOpenApiCompleteness(app, document, '/api/v1')).to.deep.equal([]);
  });

  it('answerProblems names an answer that does not fit its documented schema, and an undocumented status', () => {
    const { document } = appWith(() => undefined);
    const route = { method: 'GET', path: '/api/v1/things/{id}', status: 200 };
    expect(answerProblems(document, route, { id: 't-1' })).to.deep.equal([]);
    expect(answerProblems(document, route, { id: 7 })).to.deep.equal([
      'GET /api/v1/things/{id} 200: /id must be string',
    ]);
    expect(answerProblems(document, { ...route, status: 418 }, {})).to.deep.equal([
      'GET /api/v1/things/{id} 418 is not documented with a JSON answer',
    ]);
  });
});
