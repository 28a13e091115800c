import { expect } from 'chai';
import Joi from 'joi';
import { Registry } from 'prom-client';
import { AppError } from '@stacklink/errors';
import { createSilentLogger } from '@stacklink/logger';
import {
  bearerAuth,
  createHttpApp,
  jsonBody,
  startServer,
  validateInput,
  type RunningServer,
} from '../../src';

const logger = createSilentLogger();
const TOKEN = 'admin-token-0123456789abcdef';

describe('http app', () => {
  let server: RunningServer;
  let ready = true;
  let cacheUp = true;
  let writes = 0;
  let releaseSlow: () => void = () => undefined;
  let slowStarted = false;

  before(async () => {
    const app = createHttpApp(
      {
        service: 'test',
        logger,
        registry: new Registry(),
        readiness: [
          { name: 'rabbitmq', check: () => ready },
          { name: 'redis', check: () => true },
          { name: 'cache', check: () => cacheUp, critical: false },
        ],
      },
      (a) => {
        const schema = Joi.object({ name: Joi.string().required(), size: Joi.number().integer().min(1) });
        a.post('/things', bearerAuth(TOKEN), ...jsonBody('1kb'), (req, res) => {
          const body = validateInput<{ name: string }>(schema, req.body);
          writes += 1;
          res.status(201).json({ name: body.name });
        });
        // Auth for a whole prefix, as the services mount it: a 401 here is answered before any route.
        a.use('/guarded', bearerAuth(TOKEN));
        a.get('/guarded/:id', (_req, res) => {
          res.json({ ok: true });
        });
        a.get('/conflict', () => {
          throw new AppError('THING.CONFLICT', 'thing exists', { status: 409 });
        });
        a.get('/crash', () => {
          throw new Error('secret internals');
        });
      },
    );
    server = await startServer(app, { port: 0, logger });
  });
  after(async () => server.close(1000));

  it('answers /healthz while alive', async () => {
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).to.equal(200);
    expect(await res.json()).to.deep.include({ status: 'ok' });
  });

  it('answers /readyz 200 when every check is up and 503 naming the one that is down', async () => {
    ready = true;
    const up = await fetch(`${server.url}/readyz`);
    expect(up.status).to.equal(200);
    ready = false;
    const down = await fetch(`${server.url}/readyz`);
    expect(down.status).to.equal(503);
    expect(await down.json()).to.deep.equal({
      status: 'not ready',
      checks: { rabbitmq: 'down', redis: 'up', cache: 'up' },
    });
    ready = true;
  });

  it('stays ready but says degraded when only a non-critical dependency is down', async () => {
    cacheUp = false;
    const res = await fetch(`${server.url}/readyz`);
    cacheUp = true;
    expect(res.status).to.equal(200);
    expect(await res.json()).to.deep.equal({
      status: 'degraded',
      checks: { rabbitmq: 'up', redis: 'up', cache: 'degraded' },
    });
  });

  it('serves Prometheus text with process metrics and request durations', async () => {
    await fetch(`${server.url}/healthz`);
    const res = await fetch(`${server.url}/metrics`);
    const text = await res.text();
    expect(res.headers.get('content-type')).to.contain('text/plain');
    expect(text).to.contain('stacklink_process_cpu_user_seconds_total');
    expect(text).to.match(/stacklink_http_request_duration_seconds_count\{[^}]*route="\/healthz"/);
  });

  it('labels request durations by route pattern, never by a path no route matched', async () => {
    const ok = await fetch(`${server.url}/guarded/known-7`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    const refused = await fetch(`${server.url}/guarded/probe-4711`);
    expect([ok.status, refused.status]).to.deep.equal([200, 401]);
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).to.match(
      /stacklink_http_request_duration_seconds_count\{[^}]*route="\/guarded\/:id"[^}]*status="200"/,
    );
    expect(text).to.match(
      /stacklink_http_request_duration_seconds_count\{[^}]*route="unrouted"[^}]*status="401"/,
    );
    expect(text).to.not.contain('probe-4711');
    expect(text).to.not.contain('known-7');
  });

  it('answers 400 to a path parameter with broken percent-encoding, not 500', async () => {
    const res = await fetch(`${server.url}/guarded/x%2`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).to.equal(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).to.equal('HTTP.INVALID_PATH');
  });

  it('when the bearer token is missing or wrong, it answers 401 and runs nothing', async () => {
    const before = writes;
    const missing = await fetch(`${server.url}/things`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"name":"a"}',
    });
    const wrong = await fetch(`${server.url}/things`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}x` },
      body: '{"name":"a"}',
    });
    expect(missing.status).to.equal(401);
    expect(missing.headers.get('www-authenticate')).to.contain('Bearer');
    expect(wrong.status).to.equal(401);
    expect(((await wrong.json()) as { error: { code: string } }).error.code).to.equal('AUTH.UNAUTHORIZED');
    expect(writes).to.equal(before);
  });

  it('with the right token and a valid body, the route runs', async () => {
    const res = await fetch(`${server.url}/things`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: '{"name":"a"}',
    });
    expect(res.status).to.equal(201);
  });

  it('when a field is invalid, it answers 400 naming the field', async () => {
    const res = await fetch(`${server.url}/things`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: '{"size":0}',
    });
    expect(res.status).to.equal(400);
    const body = (await res.json()) as {
      error: { code: string; message: string; details: { fields: { field: string }[] } };
    };
    expect(body.error.code).to.equal('VALIDATION.FAILED');
    expect(body.error.details.fields.map((f) => f.field)).to.have.members(['name', 'size']);
    expect(body.error.message).to.contain('"name" is required');
  });

  it('rejects malformed JSON (400), a body over the limit (413) and a non-JSON content type (415)', async () => {
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` };
    const bad = await fetch(`${server.url}/things`, { method: 'POST', headers, body: '{"name":' });
    const big = await fetch(`${server.url}/things`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ name: 'x'.repeat(2048) }),
    });
    const text = await fetch(`${server.url}/things`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'text/plain' },
      body: 'name=a',
    });
    expect([bad.status, big.status, text.status]).to.deep.equal([400, 413, 415]);
    expect(((await big.json()) as { error: { code: string } }).error.code).to.equal('HTTP.BODY_TOO_LARGE');
  });

  it('answers an AppError with its status and code, an unknown route with 404, a crash with an opaque 500', async () => {
    const conflict = await fetch(`${server.url}/conflict`);
    expect(conflict.status).to.equal(409);
    expect(await conflict.json()).to.deep.equal({
      error: { code: 'THING.CONFLICT', message: 'thing exists' },
    });
    const missing = await fetch(`${server.url}/nowhere`);
    expect(missing.status).to.equal(404);
    const crash = await fetch(`${server.url}/crash`);
    expect(crash.status).to.equal(500);
    expect(await crash.text()).not.to.contain('secret internals');
  });

  it('echoes a well-formed X-Request-Id and makes one up otherwise', async () => {
    const given = await fetch(`${server.url}/healthz`, { headers: { 'x-request-id': 'abc-123' } });
    expect(given.headers.get('x-request-id')).to.equal('abc-123');
    const made = await fetch(`${server.url}/healthz`, { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(made.headers.get('x-request-id')).to.match(/^[0-9a-f-]{36}$/);
  });

  it('on graceful close, finishes the request in flight and refuses new connections', async () => {
    const app = createHttpApp({ service: 'shutdown', logger, registry: new Registry() }, (a) => {
      a.get('/slow', async (_req, res) => {
        slowStarted = true;
        await new Promise<void>((resolve) => (releaseSlow = resolve));
        res.json({ done: true });
      });
    });
    const own = await startServer(app, { port: 0, logger });
    slowStarted = false;
    const inFlight = fetch(`${own.url}/slow`);
    const deadline = Date.now() + 5000;
    while (!slowStarted && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    expect(slowStarted).to.equal(true);
    const closed = own.close(5000);
    let refused = false;
    try {
      await fetch(`${own.url}/healthz`);
    } catch {
      refused = true;
    }
    releaseSlow();
    const released = Date.now();
    const res = await inFlight;
    expect(res.status).to.equal(200);
    expect(await res.json()).to.deep.equal({ done: true });
    await closed;
    expect(refused).to.equal(true);
    // The client's keep-alive socket, idle once the response is done, does not hold the close until
    // its 5 s timeout.
    expect(Date.now() - released).to.be.below(1000);
  });
});
