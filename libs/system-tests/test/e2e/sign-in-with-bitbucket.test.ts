import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { WEBHOOK_EVENTS } from '@stacklink/bitbucket-simulator';
import { REDIS_URL, waitFor } from '@stacklink/testing';
import { launchChromium, slowlyPrintingCommand } from '../support/browser';
import { System, type Stack } from '../support/system';

const PROJECT = 'DEMO';
const READABLE = 'infra';
const HIDDEN = 'secret';
const VIEWER = 'alice';
const VIEWER_PASSWORD = `alice-${randomBytes(8).toString('hex')}`;
const CACHE_SECONDS = 2;
const RUNNER_COMMAND = slowlyPrintingCommand('viewer');

/**
 * Sign in with Bitbucket (issue 22, docs/decisions/013) in Chromium: every role as its own process,
 * the simulator as Bitbucket with its OAuth 2.0 provider. A viewer who may read DEMO/infra (and not
 * DEMO/secret) follows the link of a commit status, signs in on the simulator's consent page and sees
 * the run live; everything else answers 404; a revoked permission ends access, open live logs included,
 * within the cache time;
 * tampered state, a replayed code and a code sent with another flow's PKCE verifier are refused; no
 * user token shows in any log, page, API answer or Redis value.
 */
describe('end to end: sign in with Bitbucket in Chromium', function () {
  this.timeout(120_000);
  let system: System;
  let browser: Browser;
  let viewer: BrowserContext;
  let page: Page;
  let consoleUrl: string;
  let integrationId: string;
  let integrationName: string;
  let readableStack: Stack;
  let hiddenStack: Stack;
  let readableRunUrl: string;
  let hiddenRunUrl: string;
  /** Every console answer the browsers received (not the event streams), for the token search. */
  const answers: string[] = [];

  const statusUrl = async (stackId: string) =>
    (
      await waitFor(() => system.sim.recorded.statuses.find((s) => s.key === `stacklink/${stackId}`), {
        timeoutMs: 30_000,
        message: `no commit status for stack ${stackId}`,
      })
    ).url;

  const newContext = async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.on('response', (res) => {
      const type = res.headers()['content-type'] ?? '';
      if (res.url().startsWith(consoleUrl) && !type.includes('event-stream'))
        void res
          .text()
          .then((t) => answers.push(t))
          .catch(() => undefined);
    });
    return context;
  };

  /** From the sign-in page through the simulator's consent page, as the viewer. */
  const signInOnBitbucket = async (p: Page) => {
    await p.click(`#sign-in-with-bitbucket a[data-integration="${integrationId}"]`);
    await p.waitForSelector('#oauth-consent');
    expect(p.url().startsWith(`${system.sim.url}/rest/oauth2/latest/authorize?`)).to.equal(true);
    const asked = new URL(p.url()).searchParams;
    expect(asked.get('code_challenge_method')).to.equal('S256');
    expect(asked.get('code_challenge')).to.match(/^[A-Za-z0-9_-]{43}$/);
    expect(asked.get('state')).to.match(/^[A-Za-z0-9_-]{43}$/);
    await p.fill('#username', VIEWER);
    await p.fill('#password', VIEWER_PASSWORD);
    await p.click('#allow');
  };

  /** Starts a sign-in and stops on Bitbucket's consent page: its URL carries the state the console sent. */
  const startAndStopAtConsent = async (p: Page): Promise<URL> => {
    await p.goto(`${consoleUrl}/auth/bitbucket/${integrationId}/start?next=/`);
    await p.waitForSelector('#oauth-consent');
    return new URL(p.url());
  };

  /**
   * Signs in on the consent page and captures the callback URL (code and state) instead of following it.
   * Playwright does not route the requests a redirect makes, so the consent POST itself is fetched here
   * without following its redirect, and the redirect's target kept.
   */
  const consentAndCaptureCallback = async (context: BrowserContext, p: Page): Promise<URL> => {
    let captured: URL | undefined;
    const consentPost = (url: URL) => url.href === `${system.sim.url}/rest/oauth2/latest/authorize`;
    await context.route(consentPost, async (route) => {
      if (route.request().method() !== 'POST') return route.continue();
      const answer = await route.fetch({ maxRedirects: 0 });
      captured = new URL(answer.headers().location!);
      await route.fulfill({ status: 200, contentType: 'text/html', body: '<p id="held">held back</p>' });
    });
    await p.goto(`${consoleUrl}/sign-in?next=/`);
    await signInOnBitbucket(p);
    await p.waitForSelector('#held');
    await context.unroute(consentPost);
    const url = await waitFor(() => captured, { timeoutMs: 10_000, message: 'no callback was captured' });
    expect(url.pathname).to.equal(`/auth/bitbucket/${integrationId}/callback`);
    expect(url.searchParams.get('code')).to.be.a('string');
    return url;
  };

  before(async function () {
    this.timeout(120_000);
    system = await System.start({
      label: 'signin',
      console: true,
      startRunner: false,
      runnerCommand: RUNNER_COMMAND,
      gateways: 1,
      triggers: 1,
      reporters: 1,
      env: {
        console: {
          SESSION_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
          VIEWER_PERMISSION_CACHE_SECONDS: String(CACHE_SECONDS),
        },
      },
    });
    consoleUrl = system.console!.url;
    const sim = system.sim;
    sim.addProject({ key: PROJECT, name: 'Demo' });
    for (const slug of [READABLE, HIDDEN])
      sim.addRepository({ project: PROJECT, slug, files: ['README.md', 'stacks/app/main.tf'] });
    sim.addUser({ name: VIEWER, token: VIEWER_PASSWORD, permission: 'licensed', displayName: 'Alice' });
    sim.setRepositoryPermission({ project: PROJECT, repo: READABLE, user: VIEWER, permission: 'REPO_READ' });

    integrationName = `bitbucket-${system.namespace}`;
    const integration = await system.createIntegration(integrationName);
    integrationId = integration.id;
    for (const slug of [READABLE, HIDDEN])
      sim.addWebhook({
        project: PROJECT,
        repo: slug,
        url: integration.webhook.endpoint,
        secret: integration.webhook.secret,
        events: [...WEBHOOK_EVENTS],
        name: 'stacklink',
      });
    readableStack = await system.createStack({
      name: 'infra-app',
      integrationId,
      repository: { projectKey: PROJECT, slug: READABLE },
      branch: 'main',
      projectRoot: 'stacks/app',
    });
    hiddenStack = await system.createStack({
      name: 'secret-app',
      integrationId,
      repository: { projectKey: PROJECT, slug: HIDDEN },
      branch: 'main',
      projectRoot: 'stacks/app',
    });
    browser = await launchChromium();
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.error(system.tails());
  });

  after(async function () {
    this.timeout(60_000);
    await browser?.close().catch(() => undefined);
    await system?.close();
  });

  it('an operator sets the OAuth client on the integration page, which shows the redirect URL and names a missing field', async () => {
    const redirectUri = `${consoleUrl}/auth/bitbucket/${integrationId}/callback`;
    const client = system.sim.addOAuthClient({ name: 'Stacklink', redirectUri });
    const operator = await newContext();
    const p = await operator.newPage();
    await p.goto(`${consoleUrl}/sign-in?next=/integrations/${integrationId}`);
    await p.fill('#f-token', system.adminToken);
    await p.click('#sign-in button[type=submit]');
    expect(((await p.textContent('#oauth-redirect-url')) ?? '').trim()).to.equal(redirectUri);
    await p.fill('#f-clientId', client.clientId);
    await p.click('#oauth-form button[type=submit]');
    expect(((await p.textContent('#f-clientSecret-error')) ?? '').trim()).to.match(/^clientSecret /);
    const before = await system.call<{ oauth?: unknown }>(
      system.integration,
      'GET',
      `/api/v1/integrations/${integrationId}`,
    );
    expect(before.oauth).to.equal(undefined);
    await p.fill('#f-clientSecret', client.clientSecret);
    await p.click('#oauth-form button[type=submit]');
    expect(((await p.textContent('#oauth-status')) ?? '').trim()).to.contain(client.clientId);
    expect(await p.content()).not.to.contain(client.clientSecret);
    const after = await system.call<{ oauth?: unknown }>(
      system.integration,
      'GET',
      `/api/v1/integrations/${integrationId}`,
    );
    expect(after.oauth).to.deep.equal({ clientId: client.clientId, configured: true });
    await operator.close();
  });

  it('a viewer who can read DEMO/infra follows a status link, signs in with Bitbucket, lands on the run page and sees its live log', async () => {
    const push = await system.sim.push({
      project: PROJECT,
      repo: READABLE,
      branch: 'main',
      files: ['stacks/app/main.tf'],
    });
    expect(push.deliveries.map((d) => d.status)).to.deep.equal([202]);
    readableRunUrl = await statusUrl(readableStack.id);
    expect(readableRunUrl.startsWith(`${consoleUrl}/stacks/${readableStack.id}/runs/`)).to.equal(true);

    viewer = await newContext();
    page = await viewer.newPage();
    await page.goto(readableRunUrl);
    expect(new URL(page.url()).pathname).to.equal('/sign-in');
    expect(
      (
        (await page.textContent(`#sign-in-with-bitbucket a[data-integration="${integrationId}"]`)) ?? ''
      ).trim(),
    ).to.equal(`Sign in with ${integrationName}`);
    await signInOnBitbucket(page);
    await page.waitForSelector('#run-state');
    expect(page.url()).to.equal(readableRunUrl);
    expect(((await page.textContent('#signed-in-as')) ?? '').replace(/\s+/g, ' ').trim()).to.equal(
      `Signed in as ${VIEWER} with ${integrationName}`,
    );
    const [cookie] = (await viewer.cookies(consoleUrl)).filter((c) => c.name === 'stacklink_session');
    expect(cookie).to.include({ httpOnly: true, sameSite: 'Lax' });
    expect(await page.evaluate('JSON.stringify({ ...localStorage, ...sessionStorage })')).to.equal('{}');

    await system.startRunner();
    await page.locator('#log', { hasText: 'viewer line 2' }).waitFor({ timeout: 30_000 });
    await page.locator('#run-state', { hasText: /^FINISHED$/ }).waitFor({ timeout: 30_000 });
    // No settings link, no actions: the stack is named, not linked.
    expect(await page.locator(`a[href="/stacks/${readableStack.id}"]`).count()).to.equal(0);
    // The run's decision is theirs to read too.
    await page.click('#delivery-link');
    await page.waitForSelector(`.decisions li[data-stack="${readableStack.id}"]`);
    expect(await page.locator('#redeliver').count()).to.equal(0);
  });

  it('the same viewer gets the same 404 page for a run of a repository they cannot read as for a run that does not exist, and 404 for operator pages', async () => {
    await system.sim.push({ project: PROJECT, repo: HIDDEN, branch: 'main', files: ['stacks/app/main.tf'] });
    hiddenRunUrl = await statusUrl(hiddenStack.id);
    const hidden = await page.goto(hiddenRunUrl);
    expect(hidden!.status()).to.equal(404);
    const hiddenText = ((await page.textContent('main')) ?? '').replace(
      hiddenRunUrl.slice(consoleUrl.length),
      '<path>',
    );
    const missingUrl = `${consoleUrl}/stacks/${readableStack.id}/runs/00000000-0000-4000-8000-000000000000`;
    const missing = await page.goto(missingUrl);
    expect(missing!.status()).to.equal(404);
    const missingText = ((await page.textContent('main')) ?? '').replace(
      missingUrl.slice(consoleUrl.length),
      '<path>',
    );
    expect(hiddenText).to.equal(missingText);
    const stream = await page.goto(`${hiddenRunUrl}/log/stream`);
    expect(stream!.status()).to.equal(404);
    for (const path of [
      '/integrations',
      `/integrations/${integrationId}`,
      `/stacks/${hiddenStack.id}`,
      `/stacks/${readableStack.id}`,
      '/stacks',
      '/deliveries',
      '/dead-letters',
    ])
      expect((await page.goto(`${consoleUrl}${path}`))!.status(), path).to.equal(404);
    // No actions either, even with the session's CSRF token.
    await page.goto(`${consoleUrl}/`);
    const forged = await page.evaluate<{ status: number }>(`(async () => {
      const csrf = document.querySelector('input[name=_csrf]').value;
      const res = await fetch('/stacks/${readableStack.id}/enabled', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ _csrf: csrf, enabled: 'false' }).toString(),
      });
      return { status: res.status };
    })()`);
    expect(forged.status).to.equal(404);
    expect(
      (await system.call<Stack>(system.api, 'GET', `/api/v1/stacks/${readableStack.id}`)).enabled,
    ).to.equal(true);
    // Their runs list has DEMO/infra's run and not DEMO/secret's.
    const links: (string | null)[] = [];
    for (const a of await page.locator('#runs a').all()) links.push(await a.getAttribute('href'));
    expect(links).to.include(readableRunUrl.slice(consoleUrl.length));
    expect(links).not.to.include(hiddenRunUrl.slice(consoleUrl.length));
  });

  it('when the access token expires, the console refreshes it and the viewer stays signed in', async () => {
    const refreshTokensBefore = [...system.sim.state.oauth.refreshTokens.keys()];
    system.sim.expireOAuthTokens(VIEWER);
    await waitFor(
      async () => {
        const res = await page.goto(readableRunUrl);
        return (
          res!.status() === 200 &&
          !refreshTokensBefore.every((t) => system.sim.state.oauth.refreshTokens.has(t))
        );
      },
      { timeoutMs: (CACHE_SECONDS + 10) * 1000, intervalMs: 300, message: 'the token was never refreshed' },
    );
    expect(new URL(page.url()).pathname).to.equal(new URL(readableRunUrl).pathname);
    expect(await page.isVisible('#run-state')).to.equal(true);
  });

  it('a viewer whose permission is revoked in Bitbucket loses access within the cache time, and their open live log ends', async () => {
    // A run left QUEUED (no runner) keeps its live log open for as long as the console lets it.
    await system.runner.stop();
    const push = await system.sim.push({
      project: PROJECT,
      repo: READABLE,
      branch: 'main',
      files: ['stacks/app/queued.tf'],
    });
    const queued = await waitFor(
      () =>
        system.sim.recorded.statuses.find(
          (s) => s.key === `stacklink/${readableStack.id}` && s.commit === push.commit,
        ),
      { timeoutMs: 30_000, message: 'no commit status for the queued run' },
    );
    expect((await page.goto(queued.url))!.status()).to.equal(200);
    const session = (await viewer.cookies(consoleUrl)).find((c) => c.name === 'stacklink_session')!;
    const stream = await fetch(`${queued.url}/log/stream`, {
      headers: { cookie: `stacklink_session=${session.value}`, accept: 'text/event-stream' },
    });
    expect(stream.status).to.equal(200);
    const streamEnded = (async () => {
      const reader = stream.body!.getReader();
      while (!(await reader.read()).done);
      return Date.now();
    })();
    const stillOpen = await Promise.race([
      streamEnded.then(() => 'ended'),
      new Promise((resolve) => setTimeout(() => resolve('open'), CACHE_SECONDS * 1500)),
    ]);
    expect(stillOpen, 'the stream stays open while the viewer may read the repository').to.equal('open');

    system.sim.setRepositoryPermission({
      project: PROJECT,
      repo: READABLE,
      user: VIEWER,
      permission: undefined,
    });
    const revokedAt = Date.now();
    await waitFor(async () => (await page.goto(queued.url))!.status() === 404, {
      timeoutMs: (CACHE_SECONDS + 3) * 1000,
      intervalMs: 200,
      message: `still readable ${CACHE_SECONDS + 3} s after the revocation`,
    });
    expect(Date.now() - revokedAt).to.be.lessThan((CACHE_SECONDS + 3) * 1000);
    // The stream re-checks every half cache time, and the answer it reads may be cached for a whole one.
    const endedAt = await Promise.race([
      streamEnded,
      new Promise<number>((resolve) => setTimeout(() => resolve(Number.NaN), (CACHE_SECONDS * 2 + 5) * 1000)),
    ]);
    expect(endedAt - revokedAt, 'the open live log ended after the revocation').to.be.lessThan(
      (CACHE_SECONDS * 1.5 + 3) * 1000,
    );
    const reopened = await fetch(`${queued.url}/log/stream`, {
      headers: { cookie: `stacklink_session=${session.value}` },
      redirect: 'manual',
    });
    expect(reopened.status, 'and cannot be opened again').to.equal(404);

    system.sim.setRepositoryPermission({
      project: PROJECT,
      repo: READABLE,
      user: VIEWER,
      permission: 'REPO_READ',
    });
    await system.startRunner();
  });

  it('refuses a callback with a tampered state, and the state is spent by it', async () => {
    const context = await newContext();
    const p = await context.newPage();
    const callback = await consentAndCaptureCallback(context, p);
    const tampered = new URL(callback);
    const state = tampered.searchParams.get('state')!;
    tampered.searchParams.set('state', `${state.slice(0, -1)}${state.endsWith('A') ? 'B' : 'A'}`);
    const refused = await p.goto(tampered.toString());
    expect(refused!.status()).to.equal(400);
    expect(((await p.textContent('#sign-in-refused')) ?? '').trim()).to.contain('state');
    // The genuine callback now finds its state spent.
    expect((await p.goto(callback.toString()))!.status()).to.equal(400);
    const run = await p.goto(readableRunUrl);
    expect(new URL(p.url()).pathname).to.equal('/sign-in');
    expect(run!.status()).to.equal(200);
    await context.close();
  });

  it('refuses a replayed code, even carried with a fresh state of the same browser', async () => {
    const context = await newContext();
    const p = await context.newPage();
    const callback = await consentAndCaptureCallback(context, p);
    // The genuine use signs in.
    await p.goto(callback.toString());
    await p.goto(readableRunUrl);
    expect(await p.isVisible('#run-state')).to.equal(true);
    // The same code again, with the state of a new sign-in: Bitbucket refuses it, no session comes of it.
    const replay = await newContext();
    const q = await replay.newPage();
    const authorize = await startAndStopAtConsent(q);
    const replayed = new URL(callback);
    replayed.searchParams.set('state', authorize.searchParams.get('state')!);
    const refused = await q.goto(replayed.toString());
    expect(refused!.status()).to.equal(401);
    expect(((await q.textContent('#sign-in-refused')) ?? '').trim()).to.contain('invalid_grant');
    await q.goto(readableRunUrl);
    expect(new URL(q.url()).pathname).to.equal('/sign-in');
    await replay.close();
    await context.close();
  });

  it('refuses a code sent back with another sign-in’s PKCE verifier (a code injected into a fresh flow)', async () => {
    const context = await newContext();
    const p = await context.newPage();
    // Sign-in A reaches Bitbucket and gets a code bound to A's challenge; it is held back.
    const codeOfA = await consentAndCaptureCallback(context, p);
    // Sign-in B starts in the same browser: B's state and verifier are now the pending ones.
    const authorizeB = await startAndStopAtConsent(p);
    const injected = new URL(codeOfA);
    injected.searchParams.set('state', authorizeB.searchParams.get('state')!);
    const refused = await p.goto(injected.toString());
    expect(refused!.status()).to.equal(401);
    expect(((await p.textContent('#sign-in-refused')) ?? '').trim()).to.contain('invalid_grant');
    await p.goto(readableRunUrl);
    expect(new URL(p.url()).pathname).to.equal('/sign-in');
    await context.close();
  });

  it('no user token shows in any log line, page, API answer or Redis value', async () => {
    const oauth = system.sim.state.oauth;
    const userTokens = [...oauth.accessTokens.keys(), ...oauth.refreshTokens.keys()];
    expect(userTokens.length).to.be.greaterThan(3);
    const logs = readdirSync(system.dir)
      .filter((f) => f.endsWith('.log'))
      .map((f) => readFileSync(path.join(system.dir, f), 'utf8'))
      .join('\n');
    expect(logs).to.contain('viewer signed in with Bitbucket');
    const apiAnswers = JSON.stringify([
      await system.call(system.integration, 'GET', '/api/v1/integrations'),
      await system.call(system.api, 'GET', '/api/v1/runs?limit=100'),
      await system.call(system.api, 'GET', '/api/v1/stacks'),
      await system.call(system.api, 'GET', '/api/v1/deliveries?limit=100'),
    ]);
    const redis = new Redis(REDIS_URL);
    let stored = '';
    try {
      const keys = await redis.keys(`${system.namespace}:console:*`);
      expect(keys.length).to.be.greaterThan(0);
      for (const key of keys) if ((await redis.type(key)) === 'string') stored += `${await redis.get(key)}\n`;
    } finally {
      redis.disconnect();
    }
    expect(stored).to.contain('sealedTokens');
    const pages = answers.join('\n');
    expect(pages).to.contain('viewer line 2');
    for (const token of userTokens) {
      const hint = `${token.slice(0, 6)}…`;
      expect(logs, `logs contain ${hint}`).not.to.contain(token);
      expect(pages, `pages contain ${hint}`).not.to.contain(token);
      expect(apiAnswers, `API answers contain ${hint}`).not.to.contain(token);
      expect(stored, `Redis holds ${hint}`).not.to.contain(token);
    }
  });
});
