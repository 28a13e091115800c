import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import amqp from 'amqplib';
import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { WEBHOOK_EVENTS } from '@stacklink/bitbucket-simulator';
import { RABBITMQ_URL, waitFor } from '@stacklink/testing';
import { launchChromium, slowlyPrintingCommand } from '../support/browser';
import { System, type Stack } from '../support/system';

const PROJECT = 'PRJ';
const REPO = 'infra';
const RUNNER_COMMAND = slowlyPrintingCommand('console');

/**
 * The web console in a real browser (docs/architecture.md §15), every role as its own process and the
 * Bitbucket simulator as Bitbucket: what an operator does after the README walkthrough, from sign-in
 * to sign-out, including bad input in every form and a forged form post. Screenshots of each page
 * go to a folder printed at the start.
 */
describe('end to end: the web console in Chromium', function () {
  this.timeout(120_000);
  let system: System;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let shots: string;
  let shot = 0;
  let consoleUrl: string;
  let integrationId: string;
  let stack: Stack;
  let runUrl: string;
  let runId: string;

  before(async function () {
    this.timeout(120_000);
    system = await System.start({
      label: 'console',
      console: true,
      startRunner: false,
      runnerCommand: RUNNER_COMMAND,
      gateways: 1,
      triggers: 1,
      reporters: 1,
    });
    consoleUrl = system.console!.url;
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    page = await context.newPage();
    shots = mkdtempSync(path.join(tmpdir(), 'stacklink-console-screenshots-'));
    console.log(`      console screenshots: ${shots}`);
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') {
      await snap(`failed-${this.currentTest.title.slice(0, 40)}`).catch(() => undefined);
      console.error(system.tails());
    }
  });

  after(async function () {
    this.timeout(60_000);
    await browser?.close().catch(() => undefined);
    await system?.close();
  });

  async function snap(name: string): Promise<void> {
    shot += 1;
    const file = `${String(shot).padStart(2, '0')}-${name.replace(/[^a-z0-9-]+/gi, '-')}.png`;
    await page.screenshot({ path: path.join(shots, file), fullPage: true });
  }

  const text = async (selector: string) => ((await page.textContent(selector)) ?? '').trim();
  const integrations = async () =>
    (await system.call<{ integrations: unknown[] }>(system.integration, 'GET', '/api/v1/integrations'))
      .integrations;
  const stacks = async () =>
    (await system.call<{ stacks: Stack[] }>(system.api, 'GET', '/api/v1/stacks')).stacks;

  it('asks to sign in, names the field of a wrong token, and signs in with ADMIN_TOKEN', async () => {
    const first = await page.goto(`${consoleUrl}/`);
    expect(page.url()).to.match(/\/sign-in\?next=%2F$/);
    expect(first!.status()).to.equal(200);
    await snap('sign-in');

    await page.fill('#f-token', 'not-the-admin-token');
    await page.click('#sign-in button[type=submit]');
    expect(await text('#f-token-error')).to.contain('token is not');
    await snap('sign-in-wrong-token');

    await page.fill('#f-token', system.adminToken);
    await page.click('#sign-in button[type=submit]');
    expect(new URL(page.url()).pathname).to.equal('/');
    expect(await text('h1')).to.equal('Overview');
    // The session cookie is HttpOnly and SameSite=Lax; no token is kept in the page or its storage.
    const [cookie] = await context.cookies();
    expect(cookie).to.include({ name: 'stacklink_session', httpOnly: true, sameSite: 'Lax' });
    expect(await page.content()).not.to.contain(system.adminToken);
    expect(await page.evaluate('JSON.stringify({ ...localStorage, ...sessionStorage })')).to.equal('{}');
    await snap('overview');
  });

  it('refuses a bad integration form field by field and stores nothing, then creates one and tests its connection', async () => {
    await page.goto(`${consoleUrl}/integrations/new`);
    await page.fill('#f-name', 'simulated bitbucket');
    await page.fill('#f-apiHost', 'ftp://nowhere');
    await page.fill('#f-username', '');
    await page.click('#integration-form button[type=submit]');
    expect(await text('#f-apiHost-error')).to.match(/^apiHost /);
    expect(await text('#f-userFacingHost-error')).to.match(/^userFacingHost /);
    expect(await text('#f-username-error')).to.match(/^username /);
    expect(await text('#f-accessToken-error')).to.match(/^accessToken /);
    expect(await page.inputValue('#f-name')).to.equal('simulated bitbucket');
    expect(await integrations()).to.deep.equal([]);
    await snap('integration-bad-input');

    await page.fill('#f-apiHost', system.sim.url);
    await page.fill('#f-userFacingHost', system.sim.url);
    await page.fill('#f-username', 'stacklink');
    await page.fill('#f-accessToken', 'e2e-token-not-secret');
    await page.fill('#f-labels', 'e2e, console');
    await page.click('#integration-form button[type=submit]');
    const endpoint = await text('#webhook-endpoint');
    const secret = await text('#webhook-secret');
    expect(secret).to.match(/^[0-9a-f]{64}$/);
    await snap('integration-created');
    integrationId = endpoint.slice(endpoint.lastIndexOf('/') + 1);
    // The webhook Bitbucket will call, set up with what the page showed once.
    system.sim.addRepository({ project: PROJECT, slug: REPO, files: ['README.md', 'stacks/app/main.tf'] });
    system.sim.addWebhook({
      project: PROJECT,
      repo: REPO,
      url: endpoint,
      secret,
      events: [...WEBHOOK_EVENTS],
      name: 'stacklink',
    });

    await page.goto(`${consoleUrl}/integrations`);
    await snap('integrations');
    await page.click('text=simulated bitbucket');
    await page.click('#test-connection button');
    await page.waitForSelector('#connection-test');
    expect(await text('#connection-test h2')).to.contain('everything works');
    expect(await page.content()).not.to.contain(secret);
    await snap('integration-test-connection');
  });

  it('refuses a bad stack form naming the fields, then creates a stack picking the repository from the list', async () => {
    await page.goto(`${consoleUrl}/stacks/new`);
    await page.selectOption('#f-integrationId', integrationId);
    await page.click('#pick-integration button[type=submit]');
    const options = (await page.locator('#f-repository option').allTextContents()).map((t) =>
      t.replace(/\s+/g, ' ').trim(),
    );
    expect(options).to.include(`${PROJECT}/${REPO} — ${REPO}`);

    await page.fill('#f-name', '');
    await page.fill('#f-branch', '');
    await page.click('#stack-form button[type=submit]');
    expect(await text('#f-name-error')).to.match(/^name /);
    expect(await text('#f-branch-error')).to.match(/^branch /);
    expect(await text('#f-repository-error')).to.match(/^repository /);
    // The API has the last word: a project root outside the repository is its 400, shown by the field.
    await page.fill('#f-name', 'app');
    await page.selectOption('#f-repository', `${PROJECT}/${REPO}`);
    await page.fill('#f-branch', 'main');
    await page.fill('#f-projectRoot', '../outside');
    await page.click('#stack-form button[type=submit]');
    expect(await text('#f-projectRoot-error')).to.match(/^projectRoot /);
    expect(await stacks()).to.deep.equal([]);
    await snap('stack-bad-input');

    await page.fill('#f-projectRoot', 'stacks/app');
    await page.click('#stack-form button[type=submit]');
    await page.waitForSelector('#edit-stack');
    stack = (await stacks())[0]!;
    expect(stack).to.deep.include({ name: 'app', branch: 'main', projectRoot: 'stacks/app' });
    expect(stack!.repository).to.deep.equal({ projectKey: PROJECT, slug: REPO });
    await snap('stack');
    await page.goto(`${consoleUrl}/stacks`);
    await snap('stacks');
    await page.goto(`${consoleUrl}/stacks/${stack.id}`);
  });

  it('answers bad input in the stack settings, run trigger and delivery filter with the field named, changing nothing', async () => {
    await page.fill('#f-branch', '');
    await page.click('#edit-stack button[type=submit]');
    expect(await text('#f-branch-error')).to.match(/^branch /);
    await page.fill('#f-commit', 'not-a-commit');
    await page.click('#trigger-run button[type=submit]');
    expect(await text('#f-commit-error')).to.match(/^commit /);
    expect((await stacks())[0]!.branch).to.equal('main');
    expect(await system.runsOf(stack.id)).to.deep.equal([]);

    await page.goto(`${consoleUrl}/deliveries?projectKey=${encodeURIComponent('not a key!')}`);
    expect(await text('#f-projectKey-error')).to.match(/^projectKey /);
    await snap('deliveries-bad-filter');
  });

  it('refuses a forged form post without the CSRF token, even with the session cookie', async () => {
    await page.goto(`${consoleUrl}/stacks/${stack.id}`);
    const forged = await page.evaluate(async (id) => {
      const res = await fetch(`/stacks/${id}/enabled`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'enabled=false',
      });
      return { status: res.status, body: await res.text() };
    }, stack.id);
    expect(forged.status).to.equal(403);
    expect(forged.body).to.contain('CSRF');
    expect((await stacks())[0]!.enabled).to.equal(true);
  });

  it('opens the commit status URL the simulator recorded and follows the run QUEUED → RUNNING → FINISHED with its log', async () => {
    const push = await system.sim.push({
      project: PROJECT,
      repo: REPO,
      branch: 'main',
      files: ['stacks/app/main.tf'],
    });
    expect(push.deliveries.map((d) => d.status)).to.deep.equal([202]);
    const status = await waitFor(
      () => system.sim.recorded.statuses.find((s) => s.key === `stacklink/${stack.id}`),
      { timeoutMs: 30_000, message: 'no commit status was posted for the stack' },
    );
    runUrl = status.url;
    expect(runUrl.startsWith(`${consoleUrl}/stacks/${stack.id}/runs/`)).to.equal(true);
    runId = runUrl.slice(runUrl.lastIndexOf('/') + 1);

    await page.goto(runUrl);
    expect(await text('#run-state')).to.equal('QUEUED');
    expect(await page.getAttribute('#commit-link', 'href')).to.equal(
      `${system.sim.url}/projects/${PROJECT}/repos/${REPO}/commits/${push.commit}`,
    );
    await snap('run-queued');

    await system.startRunner();
    await page.locator('#run-state', { hasText: /^RUNNING$/ }).waitFor({ timeout: 30_000 });
    // Lines arrive while the run is still RUNNING, pushed to the open page (no reload).
    await page.locator('#log', { hasText: 'console line 2' }).waitFor({ timeout: 30_000 });
    expect(await text('#run-state')).to.equal('RUNNING');
    await snap('run-running');

    await page.locator('#run-state', { hasText: /^FINISHED$/ }).waitFor({ timeout: 30_000 });
    await page.locator('#log', { hasText: 'console line 8' }).waitFor({ timeout: 10_000 });
    const timeline = await page.locator('#timeline .state').allTextContents();
    expect(timeline).to.include.members(['QUEUED', 'RUNNING', 'FINISHED']);
    await snap('run-finished');
  });

  it('opens the delivery of the run and shows the decision', async () => {
    await page.goto(runUrl);
    await page.click('#delivery-link');
    const deliveryId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
    await page.waitForSelector(`.decisions li[data-stack="${stack.id}"]`);
    expect(await text(`.decisions li[data-stack="${stack.id}"] .outcome`)).to.equal('run-created');
    expect(await page.getAttribute(`.decisions li[data-stack="${stack.id}"] a`, 'href')).to.equal(
      `/stacks/${stack.id}/runs/${runId}`,
    );
    await snap('delivery');
    await page.goto(`${consoleUrl}/deliveries?since=2026-13-45`);
    expect(await text('#f-since-error')).to.match(/^since /);
    const today = new Date().toISOString().slice(0, 10);
    await page.goto(`${consoleUrl}/deliveries?outcome=accepted&since=${today}`);
    expect(await page.isVisible(`a[href="/deliveries/${encodeURIComponent(deliveryId)}"]`)).to.equal(true);
    await snap('deliveries');
  });

  it('lists a dead letter with its error and replays it', async () => {
    // An event that fails its schema is parked at once by the trigger (docs/architecture.md §9).
    const messageId = `console-e2e-${randomUUID()}`;
    const connection = await amqp.connect(RABBITMQ_URL);
    try {
      const channel = await connection.createConfirmChannel();
      channel.publish(
        `${system.namespace}.vcs.events`,
        'bitbucket-dc.push',
        Buffer.from(JSON.stringify({ specVersion: 1, broken: true })),
        { messageId, contentType: 'application/json', persistent: true },
      );
      await channel.waitForConfirms();
    } finally {
      await connection.close();
    }
    await waitFor(
      async () => {
        await page.goto(`${consoleUrl}/dead-letters`);
        return (await page.content()).includes(messageId);
      },
      { timeoutMs: 20_000, intervalMs: 500, message: 'the dead letter never showed on the page' },
    );
    await snap('dead-letters');
    // A replay form with a queue the console does not offer (and a valid CSRF token): the field is
    // named and nothing is replayed.
    const bad = await page.evaluate<{ status: number; body: string }>(`(async () => {
      const csrf = document.querySelector('input[name=_csrf]').value;
      const res = await fetch('/dead-letters/replay', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ _csrf: csrf, queue: 'somebody.else' }).toString(),
      });
      return { status: res.status, body: await res.text() };
    })()`);
    expect(bad.status).to.equal(400);
    expect(bad.body).to.contain('queue must be one of');
    expect(bad.body).to.contain(messageId);
    await page.click(`tr:has-text("${messageId}") button`);
    // The replayed event fails again at once and is parked anew; a replay pass may meet it again.
    expect(await text('#replay-result')).to.match(
      /^Replayed [1-9]\d* messages? of stack-trigger\.vcs-events\.$/,
    );
    await snap('dead-letters-replayed');
  });

  it('signs out, and the run page then asks to sign in', async () => {
    await page.goto(`${consoleUrl}/`);
    await page.click('.sign-out button');
    expect(new URL(page.url()).pathname).to.equal('/sign-in');
    await page.goto(runUrl);
    expect(new URL(page.url()).pathname).to.equal('/sign-in');
    expect(await page.isVisible('#f-token')).to.equal(true);
    await snap('signed-out-run-page');
  });
});
