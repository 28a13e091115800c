import { expect } from 'chai';
import { Redis } from 'ioredis';
import { startServer, type RunningServer } from '@stacklink/http';
import { createSilentLogger } from '@stacklink/logger';
import { deleteNamespace, REDIS_URL, uniqueNamespace } from '@stacklink/testing';
import { consoleKeyPrefix, createRedisSessions } from '../../src/adapters/redis-sessions';
import { createRedisSignInLimiter } from '../../src/adapters/redis-sign-in-limiter';
import { createStacklinkApi } from '../../src/adapters/stacklink-api';
import { createConsoleApp } from '../../src/app';

const ADMIN_TOKEN = 'console-test-admin-token-0123456789';

/**
 * Sign-in, sessions and CSRF of the console, served for real on port 0 with sessions in the loopback
 * Redis. No page here needs the APIs (they point at a closed port): what is tested is refused before.
 */
describe('console sign-in, session cookie and CSRF', () => {
  let redis: Redis;
  let namespace: string;
  let server: RunningServer;

  const start = async (trustProxyHops = 0) => {
    const keyPrefix = consoleKeyPrefix(namespace);
    const app = createConsoleApp({
      logger: createSilentLogger(),
      adminToken: ADMIN_TOKEN,
      trustProxyHops,
      publicUiUrl: 'http://127.0.0.1:8083',
      sessions: createRedisSessions({ redis, keyPrefix, idleSeconds: 600, maxSeconds: 3600 }),
      limiter: createRedisSignInLimiter({ redis, keyPrefix, maxFailures: 3, windowSeconds: 60 }),
      api: createStacklinkApi({
        integrationUrl: 'http://127.0.0.1:9',
        stackTriggerUrl: 'http://127.0.0.1:9',
        adminToken: ADMIN_TOKEN,
        internalToken: 'console-test-internal-token-0123',
        timeoutMs: 500,
      }),
    });
    server = await startServer(app, { port: 0, host: '127.0.0.1', logger: createSilentLogger() });
  };

  beforeEach(async () => {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    namespace = uniqueNamespace('console-app');
    await start();
  });

  afterEach(async () => {
    await server.close();
    redis.disconnect();
    await deleteNamespace({ namespace, redisUrl: REDIS_URL });
  });

  const get = (path: string, cookie?: string, headers: Record<string, string> = {}) =>
    fetch(`${server.url}${path}`, {
      redirect: 'manual',
      headers: { ...headers, ...(cookie ? { cookie } : {}) },
    });
  const post = (path: string, form: Record<string, string>, cookie?: string) =>
    fetch(`${server.url}${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
      body: new URLSearchParams(form).toString(),
    });
  const cookieOf = (res: Response) => res.headers.get('set-cookie')!.split(';')[0]!;
  const csrfOf = (page: string) => /name="_csrf" value="([^"]+)"/.exec(page)![1]!;

  /** The sign-in form's session cookie and CSRF token. */
  async function signInForm(headers: Record<string, string> = {}) {
    const res = await get('/sign-in?next=%2Fstacks', undefined, headers);
    return { res, cookie: cookieOf(res), csrf: csrfOf(await res.text()) };
  }

  /** Signs in through the form; the signed-in session's cookie, the form's and the answer. */
  async function signIn() {
    const form = await signInForm();
    const res = await post(
      '/sign-in',
      { _csrf: form.csrf, token: ADMIN_TOKEN, next: '/stacks' },
      form.cookie,
    );
    expect(res.status).to.equal(303);
    return { session: cookieOf(res), form, res };
  }

  it('sends a page request without a session to sign in, and back afterwards', async () => {
    const res = await get('/stacks/abc/runs/def');
    expect(res.status).to.equal(303);
    expect(res.headers.get('location')).to.equal('/sign-in?next=%2Fstacks%2Fabc%2Fruns%2Fdef');
  });

  it('gives an HttpOnly, SameSite=Lax cookie, Secure only over https through a trusted proxy', async () => {
    const plain = await signInForm({ 'x-forwarded-proto': 'https' });
    expect(plain.res.headers.get('set-cookie')).to.match(/HttpOnly; SameSite=Lax$/);
    await server.close();
    await start(1);
    const proxied = await signInForm({ 'x-forwarded-proto': 'https' });
    expect(proxied.res.headers.get('set-cookie')).to.match(/HttpOnly; SameSite=Lax; Secure$/);
  });

  it('signs in with ADMIN_TOKEN under a new session id, and never shows the token', async () => {
    const { session, form, res } = await signIn();
    expect(res.headers.get('location')).to.equal('/stacks');
    expect(session).not.to.equal(form.cookie);
    expect(session).not.to.contain(ADMIN_TOKEN);
    // The pre-sign-in id is worth nothing now (no session fixation).
    expect((await get('/stacks', form.cookie)).status).to.equal(303);
  });

  it('names the token field for a wrong or missing token, and refuses after too many failures', async () => {
    const form = await signInForm();
    const missing = await post('/sign-in', { _csrf: form.csrf, token: '' }, form.cookie);
    expect(missing.status).to.equal(400);
    expect(await missing.text()).to.match(/id="f-token-error"[^>]*>token is required/);
    for (let i = 0; i < 3; i++) {
      const wrong = await post('/sign-in', { _csrf: form.csrf, token: `wrong-${i}` }, form.cookie);
      expect(wrong.status).to.equal(401);
      expect(await wrong.text()).to.contain('token is not this deployment');
    }
    const limited = await post('/sign-in', { _csrf: form.csrf, token: ADMIN_TOKEN }, form.cookie);
    expect(limited.status).to.equal(429);
    expect(limited.headers.get('set-cookie')).to.equal(null);
  });

  it('refuses a sign-in post without the form’s CSRF token', async () => {
    const form = await signInForm();
    const res = await post('/sign-in', { token: ADMIN_TOKEN }, form.cookie);
    expect(res.status).to.equal(403);
    expect(res.headers.get('set-cookie')).to.equal(null);
  });

  it('refuses every state-changing post without the session’s CSRF token, before it reaches an API', async () => {
    const { session } = await signIn();
    for (const path of [
      '/stacks/s1/enabled',
      '/integrations',
      '/dead-letters/replay',
      '/deliveries/d/redeliver',
    ]) {
      const none = await post(path, { enabled: 'false' }, session);
      expect(none.status, path).to.equal(403);
      expect(await none.text()).to.contain('CSRF token is missing or wrong');
      const wrong = await post(path, { _csrf: 'x'.repeat(43) }, session);
      expect(wrong.status, path).to.equal(403);
    }
  });

  it('signs out: the session cookie no longer opens a page', async () => {
    const { session } = await signIn();
    const page = await get('/sign-in', session);
    expect(page.status).to.equal(303);
    const overview = await get('/stacks/new', session);
    const csrf = csrfOf(await overview.text());
    const out = await post('/sign-out', { _csrf: csrf }, session);
    expect(out.status).to.equal(303);
    expect(out.headers.get('set-cookie')).to.match(/Max-Age=0/);
    expect((await get('/stacks', session)).status).to.equal(303);
  });

  it('serves its stylesheet and script itself, with a CSP that allows nothing else', async () => {
    const css = await get('/assets/console.css');
    expect(css.status).to.equal(200);
    expect(css.headers.get('content-type')).to.contain('text/css');
    expect((await get('/assets/live-log.js')).status).to.equal(200);
    const page = await get('/sign-in');
    expect(page.headers.get('content-security-policy')).to.contain("script-src 'self'");
    expect(page.headers.get('cache-control')).to.equal('no-store');
  });
});
