import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { startSimulator, type BitbucketSimulator } from '@stacklink/bitbucket-simulator';
import type { IntegrationApiClient, IntegrationOAuthClient } from '@stacklink/contracts';
import { startServer, type RunningServer } from '@stacklink/http';
import { createCapturingLogger } from '@stacklink/logger';
import { deleteNamespace, REDIS_URL, uniqueNamespace } from '@stacklink/testing';
import { consoleKeyPrefix, createRedisSessions } from '../../src/adapters/redis-sessions';
import { createRedisSignInLimiter } from '../../src/adapters/redis-sign-in-limiter';
import { createStacklinkApi } from '../../src/adapters/stacklink-api';
import { createTokenSealer } from '../../src/adapters/token-sealer';
import { createViewerAccess } from '../../src/adapters/viewer-access';
import { createConsoleApp } from '../../src/app';

const ADMIN_TOKEN = 'console-test-admin-token-0123456789';
const INTEGRATION = 'int-1';

/**
 * The console's "sign in with Bitbucket" routes over HTTP (no browser), against the simulator's OAuth
 * provider and the loopback Redis: the state is bound to the browser's session and single use, the code
 * is exchanged server-side, and what comes back is a new session cookie — never a token.
 */
describe('console: sign in with Bitbucket over HTTP', () => {
  let sim: BitbucketSimulator;
  let redis: Redis;
  let namespace: string;
  let server: RunningServer;
  let client: IntegrationOAuthClient;
  const capture = createCapturingLogger('console');

  before(async () => {
    sim = await startSimulator();
    sim.addUser({ name: 'alice', token: 'alice-password', permission: 'licensed' });
  });
  after(() => sim.close());

  beforeEach(async () => {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    namespace = uniqueNamespace('console-signin');
    const keyPrefix = consoleKeyPrefix(namespace);
    const sessions = createRedisSessions({ redis, keyPrefix, idleSeconds: 600, maxSeconds: 3600 });
    const api = createStacklinkApi({
      integrationUrl: 'http://127.0.0.1:9',
      stackTriggerUrl: 'http://127.0.0.1:9',
      adminToken: ADMIN_TOKEN,
      internalToken: 'console-test-internal-token-0123',
      timeoutMs: 500,
    });
    let publicUrl = '';
    const integrationApi: Pick<IntegrationApiClient, 'oauthClient'> = {
      oauthClient: (id) => Promise.resolve(id === INTEGRATION ? client : undefined),
    };
    const app = createConsoleApp({
      logger: capture.logger,
      adminToken: ADMIN_TOKEN,
      trustProxyHops: 0,
      publicUiUrl: 'http://placeholder',
      sessions,
      limiter: createRedisSignInLimiter({ redis, keyPrefix, maxFailures: 3, windowSeconds: 60 }),
      api,
      viewerAccess: createViewerAccess({
        integrationApi: integrationApi as IntegrationApiClient,
        sessions,
        sealer: createTokenSealer(randomBytes(32).toString('base64')),
        redis,
        keyPrefix,
        cacheSeconds: 60,
        redirectUri: (id) => `${publicUrl}/auth/bitbucket/${id}/callback`,
        timeoutMs: 2000,
        registerSecret: () => undefined,
      }),
    });
    server = await startServer(app, { port: 0, host: '127.0.0.1', logger: capture.logger });
    publicUrl = server.url;
    const registered = sim.addOAuthClient({
      name: 'Stacklink',
      redirectUri: `${server.url}/auth/bitbucket/${INTEGRATION}/callback`,
    });
    client = { ...registered, apiHost: sim.url, userFacingHost: sim.url, tls: {} };
  });

  afterEach(async () => {
    await server.close();
    redis.disconnect();
    await deleteNamespace({ namespace, redisUrl: REDIS_URL });
  });

  const get = (path: string, cookie?: string) =>
    fetch(path.startsWith('http') ? path : `${server.url}${path}`, {
      redirect: 'manual',
      headers: cookie ? { cookie } : {},
    });
  const cookieOf = (res: Response) => res.headers.get('set-cookie')?.split(';')[0];

  /** Starts a sign-in; the browser's cookie and the authorize URL it was sent to. */
  async function start(next = '/stacks/s-1/runs/r-1') {
    const res = await get(`/auth/bitbucket/${INTEGRATION}/start?next=${encodeURIComponent(next)}`);
    expect(res.status).to.equal(303);
    return { cookie: cookieOf(res)!, authorize: new URL(res.headers.get('location')!) };
  }

  /** Alice allows (or denies) on the simulator's consent page: the callback URL Bitbucket sends her to. */
  async function consent(authorize: URL, decision = 'allow'): Promise<URL> {
    const res = await fetch(`${sim.url}/rest/oauth2/latest/authorize`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        ...Object.fromEntries(authorize.searchParams),
        username: 'alice',
        password: 'alice-password',
        decision,
      }).toString(),
    });
    expect(res.status).to.equal(302);
    return new URL(res.headers.get('location')!);
  }

  it('sends the browser to Bitbucket with a state and an S256 challenge, and signs it in with a new cookie on the way back', async () => {
    const { cookie, authorize } = await start();
    expect(`${authorize.origin}${authorize.pathname}`).to.equal(`${sim.url}/rest/oauth2/latest/authorize`);
    expect(authorize.searchParams.get('client_id')).to.equal(client.clientId);
    expect(authorize.searchParams.get('code_challenge_method')).to.equal('S256');
    expect(authorize.searchParams.get('scope')).to.equal('REPO_READ');
    const callback = await consent(authorize);
    const back = await get(callback.toString(), cookie);
    expect(back.status).to.equal(303);
    expect(back.headers.get('location')).to.equal('/stacks/s-1/runs/r-1');
    const viewerCookie = cookieOf(back)!;
    expect(viewerCookie).to.match(/^stacklink_session=/);
    expect(viewerCookie).not.to.equal(cookie);
    // The anonymous session is gone; the viewer's holds only sealed tokens.
    expect((await get('/', cookie)).status).to.equal(303);
    const tokens = [...sim.state.oauth.accessTokens.keys(), ...sim.state.oauth.refreshTokens.keys()];
    expect(tokens).to.have.length(2);
    const page = await back.text();
    const home = await (await get('/no-such-page', viewerCookie)).text();
    expect(home.replace(/\s+/g, ' ')).to.contain('Signed in as <span id="viewer-username">alice</span>');
    const keys = await redis.keys(`${namespace}:console:*`);
    const values = (await Promise.all(keys.map((k) => redis.get(k)))).join('\n');
    expect(values).to.contain('sealedTokens');
    for (const token of tokens) {
      expect(values).not.to.contain(token);
      expect(page).not.to.contain(token);
      expect(capture.text()).not.to.contain(token);
    }
  });

  it('refuses a tampered state with 400 and no session, and the state is spent by the attempt', async () => {
    const issued = sim.state.oauth.accessTokens.size;
    const { cookie, authorize } = await start();
    const callback = await consent(authorize);
    const tampered = new URL(callback);
    tampered.searchParams.set('state', randomBytes(32).toString('base64url'));
    const refused = await get(tampered.toString(), cookie);
    expect(refused.status).to.equal(400);
    expect(refused.headers.get('set-cookie')).to.equal(null);
    expect(await refused.text()).to.contain('state does not match');
    expect((await get(callback.toString(), cookie)).status).to.equal(400);
    expect(sim.state.oauth.accessTokens.size).to.equal(issued);
  });

  it('refuses a callback in another browser (no session), and one for another integration', async () => {
    const issued = sim.state.oauth.accessTokens.size;
    const { cookie, authorize } = await start();
    const callback = await consent(authorize);
    expect((await get(callback.toString())).status).to.equal(400);
    const other = new URL(callback);
    other.pathname = '/auth/bitbucket/int-2/callback';
    expect((await get(other.toString(), cookie)).status).to.equal(400);
    expect(sim.state.oauth.accessTokens.size).to.equal(issued);
  });

  it('answers 401 naming Bitbucket’s error when the user denies access', async () => {
    const { cookie, authorize } = await start();
    const callback = await consent(authorize, 'deny');
    expect(callback.searchParams.get('error')).to.equal('access_denied');
    const refused = await get(callback.toString(), cookie);
    expect(refused.status).to.equal(401);
    expect(await refused.text()).to.contain('access_denied');
  });

  it('answers 502 and signs nobody in when Bitbucket does not say whom the new token belongs to', async () => {
    const { cookie, authorize } = await start();
    const callback = await consent(authorize);
    sim.injectFaults({ method: 'GET', path: '/rest/capabilities', status: 503, count: 2 });
    const refused = await get(callback.toString(), cookie);
    expect(refused.status).to.equal(502);
    expect(refused.headers.get('set-cookie')).to.equal(null);
    expect(await refused.text()).to.contain('did not say who you are');
  });

  it('lands on / when the page asked for is not a local path', async () => {
    const { cookie, authorize } = await start('//evil.example.test/phish');
    const back = await get((await consent(authorize)).toString(), cookie);
    expect(back.headers.get('location')).to.equal('/');
  });

  it('answers 404 for an integration without an OAuth client, sending nobody anywhere', async () => {
    const res = await get('/auth/bitbucket/int-2/start');
    expect(res.status).to.equal(404);
    expect(res.headers.get('location')).to.equal(null);
  });
});
