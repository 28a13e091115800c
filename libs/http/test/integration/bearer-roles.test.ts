import { expect } from 'chai';
import { Registry } from 'prom-client';
import { createSilentLogger } from '@stacklink/logger';
import { bearerAuth, createHttpApp, requireBearerRole, startServer, type RunningServer } from '../../src';

const logger = createSilentLogger();
const ADMIN = 'admin-token-0123456789abcdef-roles';
const RUNNER_A = 'runner-token-a-0123456789abcdef-0123';
const RUNNER_B = 'runner-token-b-0123456789abcdef-0123';

describe('bearer tokens with roles', () => {
  let server: RunningServer;
  let adminWrites = 0;
  let runnerWrites = 0;

  before(async () => {
    const app = createHttpApp({ service: 'test', logger, registry: new Registry(), readiness: [] }, (a) => {
      a.use('/api', bearerAuth({ admin: ADMIN, runner: [RUNNER_A, RUNNER_B] }));
      a.post('/api/runs/:id/state', requireBearerRole('admin', 'runner'), (_req, res) => {
        runnerWrites += 1;
        res.json({ ok: true });
      });
      a.use('/api', requireBearerRole('admin'));
      a.post('/api/stacks', (_req, res) => {
        adminWrites += 1;
        res.status(201).json({ ok: true });
      });
    });
    server = await startServer(app, { port: 0, logger });
  });
  after(async () => server.close(1000));

  async function post(path: string, token?: string): Promise<{ status: number; code?: string }> {
    const res = await fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    });
    const body = (await res.json()) as { error?: { code: string } };
    return { status: res.status, ...(body.error ? { code: body.error.code } : {}) };
  }

  it('lets every runner token and the admin token through on a route both roles may use', async () => {
    expect(await post('/api/runs/r1/state', RUNNER_A)).to.deep.equal({ status: 200 });
    expect(await post('/api/runs/r1/state', RUNNER_B)).to.deep.equal({ status: 200 });
    expect(await post('/api/runs/r1/state', ADMIN)).to.deep.equal({ status: 200 });
    expect(runnerWrites).to.equal(3);
  });

  it('answers a runner token on an admin-only route 403 AUTH.FORBIDDEN and runs nothing', async () => {
    const before = adminWrites;
    expect(await post('/api/stacks', RUNNER_A)).to.deep.equal({ status: 403, code: 'AUTH.FORBIDDEN' });
    expect(adminWrites).to.equal(before);
    expect(await post('/api/stacks', ADMIN)).to.deep.equal({ status: 201 });
  });

  it('answers an unknown or missing token 401 AUTH.UNAUTHORIZED on every route', async () => {
    const before = runnerWrites + adminWrites;
    expect(await post('/api/stacks', 'not-a-token-0123456789abcdef0123')).to.deep.equal({
      status: 401,
      code: 'AUTH.UNAUTHORIZED',
    });
    expect(await post('/api/runs/r1/state', `${RUNNER_A}x`)).to.deep.equal({
      status: 401,
      code: 'AUTH.UNAUTHORIZED',
    });
    expect(await post('/api/runs/r1/state')).to.deep.equal({ status: 401, code: 'AUTH.UNAUTHORIZED' });
    expect(runnerWrites + adminWrites).to.equal(before);
  });

  it('refuses to be built without a token or without a role to allow', () => {
    expect(() => bearerAuth({ admin: '', runner: [] })).to.throw(/at least one non-empty token/);
    expect(() => requireBearerRole()).to.throw(/at least one role/);
  });
});
