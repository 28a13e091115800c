import { expect } from 'chai';
import { startSimulator, type BitbucketSimulator } from '@stacklink/bitbucket-simulator';
import type { ConnectionTestReport } from '../../src/domain/test-connection';
import {
  closedPort,
  createSelfSignedCertificate,
  startHtmlServer,
  startSelfSignedHtmlServer,
  type SelfSignedCertificate,
  type TestServer,
} from '../support/network';
import { integrationInput, startService, type RunningService } from '../support/start-service';

const TOKEN = 'BBDC-simulated-token-0123456789abcdef';

function seedHealthy(sim: BitbucketSimulator): void {
  sim.addUser({ name: 'stacklink-bot', token: TOKEN });
  sim.addProject({ key: 'OPS', name: 'Operations' });
  sim.addRepository({ project: 'OPS', slug: 'network' });
}

function check(report: ConnectionTestReport, name: string) {
  const found = report.checks.find((c) => c.name === name);
  expect(found, `check ${name}`).to.not.equal(undefined);
  return found!;
}

describe('POST /integrations/{id}/test', () => {
  let service: RunningService;
  const cleanups: (() => Promise<void>)[] = [];
  let certificate: SelfSignedCertificate;

  before(async () => {
    service = await startService({ bitbucketTimeoutMs: 3000 });
    certificate = createSelfSignedCertificate();
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });
  after(async () => service.close());

  async function simulator(options: Parameters<typeof startSimulator>[0] = {}): Promise<BitbucketSimulator> {
    const sim = await startSimulator({ port: 0, ...options });
    cleanups.push(() => sim.close());
    return sim;
  }

  async function server(start: () => Promise<TestServer>): Promise<TestServer> {
    const s = await start();
    cleanups.push(() => s.close());
    return s;
  }

  async function testAgainst(
    apiHost: string,
    overrides: Record<string, unknown> = {},
  ): Promise<ConnectionTestReport> {
    const created = await service.admin(
      'POST',
      '/integrations',
      integrationInput({ apiHost, accessToken: TOKEN, username: 'stacklink-bot', ...overrides }),
    );
    expect(created.status, created.text).to.equal(201);
    const res = await service.admin('POST', `/integrations/${created.body.id}/test`);
    expect(res.status).to.equal(200);
    expect((res.body.checks as { name: string }[]).map((c) => c.name)).to.deep.equal([
      'reachability',
      'bitbucket',
      'credentials',
      'permissions',
      'build_status_api',
    ]);
    return res.body as ConnectionTestReport;
  }

  it('when everything works, reports every check passing and the server version', async () => {
    const sim = await simulator();
    seedHealthy(sim);
    const report = await testAgainst(sim.url);
    expect(report.ok).to.equal(true);
    expect(report.serverVersion).to.equal('8.19.1');
    expect(report.checks.every((c) => c.ok)).to.equal(true);
    expect(check(report, 'build_status_api').message).to.match(/repository-scoped/);
  });

  it('when Bitbucket runs under a context path that the URL includes, it works', async () => {
    const sim = await simulator({ contextPath: '/bitbucket' });
    seedHealthy(sim);
    const report = await testAgainst(`${sim.url}/`);
    expect(report.ok).to.equal(true);
  });

  it('when nothing listens on the port, fails reachability saying the connection was refused', async () => {
    const port = await closedPort();
    const report = await testAgainst(`http://127.0.0.1:${port}`);
    expect(report.ok).to.equal(false);
    expect(report).to.not.have.property('serverVersion');
    expect(check(report, 'reachability')).to.deep.include({ ok: false });
    expect(check(report, 'reachability').message).to.match(
      new RegExp(`127\\.0\\.0\\.1:${port} \\(connection refused\\)\\. Check the port`),
    );
    expect(check(report, 'credentials')).to.deep.include({ ok: false, skipped: true });
  });

  it('when the certificate is self-signed, fails on TLS and points at the CA certificate setting', async () => {
    const tls = await server(() => startSelfSignedHtmlServer(certificate));
    const report = await testAgainst(tls.url);
    expect(report.ok).to.equal(false);
    expect(check(report, 'reachability').ok).to.equal(false);
    expect(check(report, 'reachability').message).to.match(
      /TLS failure.*set the CA certificate \(tls\.caCertificate\) to your Bitbucket's CA/,
    );
  });

  it('when the CA certificate is set, trusts a self-signed Bitbucket and passes', async () => {
    const sim = await simulator({ tls: certificate });
    seedHealthy(sim);
    expect(sim.url).to.match(/^https:/);
    const untrusted = await testAgainst(sim.url);
    expect(check(untrusted, 'reachability').ok).to.equal(false);
    const trusted = await testAgainst(sim.url, { tls: { caCertificate: certificate.cert } });
    expect(trusted.ok, JSON.stringify(trusted)).to.equal(true);
  });

  it('when something that is not Bitbucket answers, says so and hints at the context path', async () => {
    const html = await server(startHtmlServer);
    const report = await testAgainst(html.url);
    expect(report.ok).to.equal(false);
    expect(check(report, 'reachability').ok).to.equal(true);
    expect(check(report, 'bitbucket')).to.deep.include({ ok: false });
    expect(check(report, 'bitbucket').message).to.match(
      /not the Bitbucket Data Center REST API.*context path/,
    );
  });

  it('when the URL misses Bitbucket’s context path, says Bitbucket is not there', async () => {
    const sim = await simulator({ contextPath: '/bitbucket' });
    seedHealthy(sim);
    const report = await testAgainst(sim.url.replace(/\/bitbucket$/, ''));
    expect(check(report, 'bitbucket').ok).to.equal(false);
    expect(check(report, 'bitbucket').message).to.match(/context path/);
  });

  it('when the token is wrong or expired, fails credentials with the 401 and how to make a new token', async () => {
    const sim = await simulator();
    seedHealthy(sim);
    const report = await testAgainst(sim.url, { accessToken: 'BBDC-expired-token-000000000000' });
    expect(report.ok).to.equal(false);
    expect(report.serverVersion).to.equal('8.19.1');
    expect(check(report, 'reachability').ok).to.equal(true);
    expect(check(report, 'bitbucket').ok).to.equal(true);
    expect(check(report, 'credentials')).to.deep.include({ ok: false });
    expect(check(report, 'credentials').message).to.match(
      /\(401\).*wrong, expired or revoked.*HTTP access token/,
    );
    expect(check(report, 'permissions')).to.deep.include({ ok: false, skipped: true });
  });

  it('when the token belongs to another user, says whose it is', async () => {
    const sim = await simulator();
    seedHealthy(sim);
    const report = await testAgainst(sim.url, { username: 'someone-else' });
    expect(check(report, 'credentials').ok).to.equal(false);
    expect(check(report, 'credentials').message).to.match(/belongs to the Bitbucket user stacklink-bot/);
  });

  it('when the token sees no project, fails permissions saying what to grant', async () => {
    const sim = await simulator();
    sim.addUser({ name: 'stacklink-bot', token: TOKEN });
    const report = await testAgainst(sim.url);
    expect(report.ok).to.equal(false);
    expect(check(report, 'credentials').ok).to.equal(true);
    expect(check(report, 'permissions')).to.deep.include({ ok: false });
    expect(check(report, 'permissions').message).to.match(/sees no project.*read permission/);
  });

  it('when the server is too old for the repository-scoped build status API, passes through the legacy one', async () => {
    const sim = await simulator({ legacyBuildStatusOnly: true });
    seedHealthy(sim);
    const report = await testAgainst(sim.url);
    expect(report.ok).to.equal(true);
    expect(report.serverVersion).to.equal('7.3.2');
    expect(check(report, 'build_status_api')).to.deep.include({ ok: true });
    expect(check(report, 'build_status_api').message).to.match(/too old.*legacy build status API/);
  });

  it('when Bitbucket answers with server errors, says so and suggests trying later', async () => {
    const sim = await simulator();
    seedHealthy(sim);
    sim.injectFaults({ status: 500, count: 10, path: '/rest/api/1.0/application-properties' });
    const report = await testAgainst(sim.url);
    expect(check(report, 'bitbucket')).to.deep.include({ ok: false });
    expect(check(report, 'bitbucket').message).to.match(/server error.*try again later/);
  });

  it('counts connection tests by outcome', async () => {
    const metrics = await service.registry.metrics();
    for (const outcome of [
      'ok',
      'connection_refused',
      'tls',
      'not_bitbucket',
      'unauthorized',
      'no_projects',
    ]) {
      expect(metrics).to.match(
        new RegExp(`stacklink_integration_connection_tests_total\\{outcome="${outcome}"\\} [1-9]`),
      );
    }
    expect(metrics).to.match(
      /stacklink_integration_connection_tests_total\{outcome="ok_legacy_build_status"\} 1/,
    );
  });

  it('answers 404 for an unknown integration', async () => {
    const res = await service.admin('POST', '/integrations/nope/test');
    expect(res.status).to.equal(404);
  });
});
