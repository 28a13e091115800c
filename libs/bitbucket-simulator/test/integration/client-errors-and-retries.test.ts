import { expect } from 'chai';
import { createBitbucketClient, mayHaveLanded, type BitbucketClientOptions } from '@stacklink/bitbucket';
import { startSimulator, type BitbucketSimulator } from '../../src';
import { rejection, startPlainServer } from './helpers';

const TOKEN = 'tok-4f1c9e-do-not-leak';

describe('client against the simulator: errors and retries', () => {
  let sim: BitbucketSimulator;
  let waits: number[];

  const client = (extra: Partial<BitbucketClientOptions> = {}) =>
    createBitbucketClient({
      baseUrl: sim.url,
      token: TOKEN,
      retry: { maxAttempts: 4, baseDelayMs: 10, maxDelayMs: 50, maxTotalMs: 5_000 },
      sleep: async (ms) => {
        waits.push(ms);
      },
      ...extra,
    });

  const repoRequests = () =>
    sim.recorded.requests.filter((r) => r.path === '/rest/api/1.0/projects/PRJ/repos/infra');

  beforeEach(async () => {
    waits = [];
    sim = await startSimulator();
    sim.addUser({ name: 'ci', token: TOKEN, permission: 'read' });
    sim.addRepository({ project: 'PRJ', slug: 'infra' });
  });

  afterEach(() => sim.close());

  it('on 429 it waits the Retry-After seconds, then succeeds', async () => {
    sim.injectFaults({ status: 429, retryAfterSeconds: 2, path: '/rest/api/1.0/projects/PRJ/repos/infra' });
    const repo = await client().getRepository('PRJ', 'infra');
    expect(repo.slug).to.equal('infra');
    expect(waits).to.deep.equal([2000]);
    expect(repoRequests().map((r) => r.status)).to.deep.equal([429, 200]);
  });

  it('when the per-user rate limit is hit, it really waits for the bucket to refill, then succeeds', async () => {
    await sim.close();
    sim = await startSimulator({ rateLimit: { perSecond: 2, burst: 2 } });
    sim.addUser({ name: 'ci', token: TOKEN, permission: 'read' });
    sim.addRepository({ project: 'PRJ', slug: 'infra' });
    const real = createBitbucketClient({ baseUrl: sim.url, token: TOKEN, retry: { maxTotalMs: 5_000 } });
    const started = Date.now();
    await real.getRepository('PRJ', 'infra');
    await real.getRepository('PRJ', 'infra');
    await real.getRepository('PRJ', 'infra');
    expect(Date.now() - started).to.be.at.least(900);
    expect(repoRequests().map((r) => r.status)).to.deep.equal([200, 200, 429, 200]);
  });

  it('does not wait for a Retry-After beyond its time budget and says it was rate-limited', async () => {
    sim.injectFaults({ status: 429, retryAfterSeconds: 60 });
    const err = await rejection(client().getRepository('PRJ', 'infra'));
    expect(err.code).to.equal('BITBUCKET.RATE_LIMITED');
    expect(err.retryable).to.equal(true);
    expect(err.details).to.include({ status: 429, retryAfterMs: 60_000, attempts: 1 });
    expect(waits).to.deep.equal([]);
  });

  it('on 5xx it retries with growing backoff, then succeeds', async () => {
    sim.injectFaults({ status: 503, count: 2 });
    const repo = await client({ random: () => 1 }).getRepository('PRJ', 'infra');
    expect(repo.slug).to.equal('infra');
    expect(waits).to.deep.equal([10, 20]);
    expect(repoRequests().map((r) => r.status)).to.deep.equal([503, 503, 200]);
  });

  it('after the last try on 5xx it fails with SERVER_ERROR, retryable, with the attempts made', async () => {
    sim.injectFaults({ status: 500, count: 10 });
    const err = await rejection(client().getRepository('PRJ', 'infra'));
    expect(err.code).to.equal('BITBUCKET.SERVER_ERROR');
    expect(err.retryable).to.equal(true);
    expect(err.details).to.deep.include({ status: 500, attempts: 4, messages: ['Injected failure (500)'] });
    expect(repoRequests()).to.have.length(4);
  });

  it('on 401 it fails once with UNAUTHORIZED and Bitbucket’s message, without retrying or leaking the token', async () => {
    const err = await rejection(client({ token: `${TOKEN}-wrong` }).getRepository('PRJ', 'infra'));
    expect(err.code).to.equal('BITBUCKET.UNAUTHORIZED');
    expect(err.retryable).to.equal(false);
    expect(err.details).to.deep.include({
      status: 401,
      messages: ['Authentication failed. Please check your credentials and try again.'],
    });
    expect(repoRequests()).to.have.length(1);
    expect(waits).to.deep.equal([]);
    expect(JSON.stringify({ message: err.message, details: err.details })).to.not.include(TOKEN);
  });

  it('on 404 it fails once with NOT_FOUND carrying Bitbucket’s exception name', async () => {
    const err = await rejection(client().getRepository('PRJ', 'nope'));
    expect(err.code).to.equal('BITBUCKET.NOT_FOUND');
    expect(err.retryable).to.equal(false);
    expect(err.details).to.deep.include({
      status: 404,
      messages: ['Repository PRJ/nope does not exist.'],
      exceptionNames: ['com.atlassian.bitbucket.repository.NoSuchRepositoryException'],
    });
    expect(sim.recorded.requests.filter((r) => r.path.endsWith('/repos/nope'))).to.have.length(1);
  });

  it('answers FORBIDDEN when a read-only token manages webhooks', async () => {
    const err = await rejection(client().listWebhooks('PRJ', 'infra'));
    expect(err.code).to.equal('BITBUCKET.FORBIDDEN');
    expect(err.details).to.include({ status: 403 });
  });

  it('does not retry a comment creation that met a 503, since it may have been stored', async () => {
    await sim.push({ project: 'PRJ', repo: 'infra', branch: 'feature', files: ['x.tf'] });
    const { id } = await sim.openPullRequest({ project: 'PRJ', repo: 'infra', from: 'feature', to: 'main' });
    sim.injectFaults({ status: 503, method: 'POST' });
    const err = await rejection(client().createPullRequestComment('PRJ', 'infra', id, 'hello'));
    expect(err.code).to.equal('BITBUCKET.SERVER_ERROR');
    expect(sim.recorded.requests.filter((r) => r.method === 'POST')).to.have.length(1);
  });

  it('when Bitbucket is slower than the timeout, it fails with UNREACHABLE saying so', async () => {
    sim.injectFaults({ latencyMs: 500, count: 10 });
    const err = await rejection(
      client({ timeoutMs: 100, retry: { maxAttempts: 2 } }).getRepository('PRJ', 'infra'),
    );
    expect(err.code).to.equal('BITBUCKET.UNREACHABLE');
    expect(err.retryable).to.equal(true);
    expect(err.message).to.include('did not answer within 100 ms');
  });

  it('says a write that went out and timed out may still land, and the server does apply it after the client gave up', async () => {
    sim.addUser({ name: 'writer', token: 'writer-token', permission: 'admin' });
    const { commit } = await sim.push({ project: 'PRJ', repo: 'infra', branch: 'main', files: ['a.tf'] });
    sim.injectFaults({ latencyMs: 300, count: 2, method: 'POST' });
    const status = {
      key: 'stacklink/stk-1',
      state: 'INPROGRESS' as const,
      url: 'https://ui.example.com/r/1',
    };
    const err = await rejection(
      client({ token: 'writer-token', timeoutMs: 100, retry: { maxAttempts: 2 } }).postBuildStatus(
        'PRJ',
        'infra',
        commit,
        status,
      ),
    );
    expect(err.code).to.equal('BITBUCKET.UNREACHABLE');
    expect(mayHaveLanded(err)).to.equal(true);
    expect(sim.recorded.statuses, 'nothing applied when the client gave up').to.have.length(0);
    for (let i = 0; i < 100 && sim.recorded.statuses.length < 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(
      sim.recorded.statuses.map((s) => s.state),
      'both tries applied afterwards',
    ).to.deep.equal(['INPROGRESS', 'INPROGRESS']);
  });

  it('says a write refused before it was sent or answered with an error cannot land later, and a read never', async () => {
    sim.addUser({ name: 'writer', token: 'writer-token', permission: 'admin' });
    const { commit } = await sim.push({ project: 'PRJ', repo: 'infra', branch: 'main', files: ['a.tf'] });
    const status = {
      key: 'stacklink/stk-1',
      state: 'INPROGRESS' as const,
      url: 'https://ui.example.com/r/1',
    };
    const gone = await startPlainServer(200, 'text/plain', '');
    await gone.close();
    const refused = await rejection(
      client({ baseUrl: gone.url, token: 'writer-token' }).postBuildStatus('PRJ', 'infra', commit, status),
    );
    expect(refused.details).to.include({ cause: 'ECONNREFUSED' });
    expect(mayHaveLanded(refused), 'connection refused').to.equal(false);

    sim.injectFaults({ status: 500, count: 10, method: 'POST' });
    const answered = await rejection(
      client({ token: 'writer-token' }).postBuildStatus('PRJ', 'infra', commit, status),
    );
    expect(answered.code).to.equal('BITBUCKET.SERVER_ERROR');
    expect(mayHaveLanded(answered), 'answered 500').to.equal(false);
    sim.clearFaults();

    sim.injectFaults({ latencyMs: 300, count: 2 });
    const read = await rejection(
      client({ timeoutMs: 100, retry: { maxAttempts: 2 } }).getRepository('PRJ', 'infra'),
    );
    expect(read.code).to.equal('BITBUCKET.UNREACHABLE');
    expect(mayHaveLanded(read), 'a read that timed out').to.equal(false);
  });

  it('when nothing listens at the address, it fails with UNREACHABLE (ECONNREFUSED) after its retries', async () => {
    const gone = await startPlainServer(200, 'text/plain', '');
    await gone.close();
    const err = await rejection(client({ baseUrl: gone.url }).getServerVersion());
    expect(err.code).to.equal('BITBUCKET.UNREACHABLE');
    expect(err.details).to.include({ cause: 'ECONNREFUSED', attempts: 4 });
  });

  it('when a web page answers at the base URL, it fails with NOT_BITBUCKET', async () => {
    const page = await startPlainServer(200, 'text/html', '<html><body>Welcome to nginx!</body></html>');
    try {
      const err = await rejection(client({ baseUrl: page.url }).getServerVersion());
      expect(err.code).to.equal('BITBUCKET.NOT_BITBUCKET');
      expect(err.message).to.include('not JSON');
    } finally {
      await page.close();
    }
  });

  it('when a 404 page answers for application-properties, it fails with NOT_BITBUCKET', async () => {
    const page = await startPlainServer(404, 'text/html', '<html>Not Found</html>');
    try {
      const err = await rejection(client({ baseUrl: page.url }).getServerVersion());
      expect(err.code).to.equal('BITBUCKET.NOT_BITBUCKET');
    } finally {
      await page.close();
    }
  });

  it('when some other JSON API answers, it fails with NOT_BITBUCKET naming what is missing', async () => {
    const api = await startPlainServer(200, 'application/json', '{"status":"ok"}');
    try {
      const err = await rejection(client({ baseUrl: api.url }).getServerVersion());
      expect(err.code).to.equal('BITBUCKET.NOT_BITBUCKET');
      expect(err.message).to.include('.version');
    } finally {
      await api.close();
    }
  });

  it('checks credentials: the user comes from X-AUSERNAME, with the server capabilities', async () => {
    const credentials = await client({ username: 'ci' }).checkCredentials();
    expect(credentials).to.deep.include({ username: 'ci', application: 'stash', matchesExpectedUser: true });
    expect(credentials.capabilities).to.include.members(['build', 'webhooks']);
  });

  it('reports a token that belongs to someone else than the expected user', async () => {
    const credentials = await client({ username: 'deploy-bot' }).checkCredentials();
    expect(credentials.matchesExpectedUser).to.equal(false);
  });
});
