import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { RABBITMQ_URL, waitFor } from '@stacklink/testing';
import { System, type Stack } from '../support/system';
import { push, setUpRepositories } from '../support/workload';

/** What a run command may inherit besides its STACKLINK_* variables (services/runner/README.md). */
const ALLOWED = ['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'TERM'];
/** Set by /bin/sh itself. */
const SHELL_OWN = ['PWD', 'SHLVL', '_', 'OLDPWD'];

/**
 * Least privilege between the real processes (docs/architecture.md §12): every role started as its own
 * process with only its own tokens. A runner token reports run state and renews leases and does nothing
 * else; the run command sees none of the runner's secrets; the gateway's token reads webhook secrets
 * but not credentials.
 */
describe('end to end: least privilege between processes', function () {
  this.timeout(120_000);
  const envDir = mkdtempSync(path.join(tmpdir(), 'stacklink-trust-env-'));
  let system: System;
  let stack: Stack;

  before(async () => {
    system = await System.start({
      label: 'trust',
      gateways: 1,
      triggers: 1,
      reporters: 1,
      // Prints its environment, then outlives one lease renewal (LEASE_RENEW_SECONDS is 2 here).
      runnerCommand: `env > "${envDir}/env-$STACKLINK_RUN_ID.txt"; sleep 3`,
    });
    stack = (await setUpRepositories(system, 1))[0]!;
  });

  after(async () => {
    await system?.close();
    rmSync(envDir, { recursive: true, force: true });
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.error(system.tails());
  });

  async function asRunner(method: string, urlPath: string, body?: unknown) {
    const res = await fetch(`${system.api.url}${urlPath}`, {
      method,
      headers: {
        authorization: `Bearer ${system.runnerToken}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as { error?: { code: string } } };
  }

  it('a runner token cannot create or trigger runs, nor create, edit or delete stacks', async () => {
    const runsBefore = await system.runsOf(stack.id);
    const attempts = [
      await asRunner('POST', `/api/v1/stacks/${stack.id}/runs`, { commit: 'a'.repeat(40) }),
      await asRunner('PATCH', `/api/v1/stacks/${stack.id}`, { branch: 'attacker' }),
      await asRunner('DELETE', `/api/v1/stacks/${stack.id}`),
      await asRunner('POST', '/api/v1/stacks', {
        name: 'attacker',
        integrationId: stack.integrationId,
        repository: stack.repository,
        branch: 'main',
        projectRoot: '',
      }),
      await asRunner('GET', '/api/v1/stacks'),
    ];

    expect(attempts.map((a) => [a.status, a.body.error?.code])).to.deep.equal(
      attempts.map(() => [403, 'AUTH.FORBIDDEN']),
    );
    expect(await system.call(system.api, 'GET', `/api/v1/stacks/${stack.id}`)).to.deep.equal(stack);
    expect(await system.runsOf(stack.id)).to.deep.equal(runsBefore);
  });

  it('a pushed run is claimed, leased and finished by a runner holding only its runner token', async () => {
    const sent = await push(system, [stack], 0);
    const running = await waitFor(
      async () =>
        (await system.runsOf(stack.id)).find((r) => r.commit === sent.commit && r.state === 'RUNNING'),
      { timeoutMs: 30_000, message: 'the runner claims the pushed run' },
    );

    // A runner token renews the lease of a running run (the runner itself does so every 2 s).
    const lease = await asRunner('POST', `/api/v1/runs/${running.id}/lease`);
    expect(lease.status).to.equal(200);

    await waitFor(
      async () => (await system.runsOf(stack.id)).find((r) => r.id === running.id && r.state === 'FINISHED'),
      { timeoutMs: 30_000, message: 'the runner reports the run FINISHED' },
    );
  });

  it('the run command sees none of the runner’s secrets or configuration', async () => {
    const [run] = await system.runsOf(stack.id);
    const printed = readFileSync(path.join(envDir, `env-${run!.id}.txt`), 'utf8');
    const names = printed
      .split('\n')
      .filter((line) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(line))
      .map((line) => line.slice(0, line.indexOf('=')));

    expect(names).to.include('STACKLINK_RUN_ID');
    expect(
      names.filter((n) => !n.startsWith('STACKLINK_') && !ALLOWED.includes(n) && !SHELL_OWN.includes(n)),
    ).to.deep.equal([]);
    for (const secret of [system.runnerToken, system.adminToken, system.internalToken, RABBITMQ_URL])
      expect(printed).to.not.contain(secret);
    for (const name of ['RUNNER_TOKEN', 'ADMIN_TOKEN', 'INTERNAL_TOKEN', 'RABBITMQ_URL', 'RUNNER_COMMAND'])
      expect(names).to.not.include(name);
  });

  it('the gateway’s token reads webhook secrets but not an integration’s credentials', async () => {
    const read = (what: string) =>
      fetch(`${system.integration.url}/internal/v1/integrations/${stack.integrationId}/${what}`, {
        headers: { authorization: `Bearer ${system.gatewayToken}` },
      });

    expect((await read('webhook-secrets')).status).to.equal(200);
    const credentials = await read('credentials');
    const text = await credentials.text();
    expect(credentials.status).to.equal(403);
    expect((JSON.parse(text) as { error: { code: string } }).error.code).to.equal('AUTH.FORBIDDEN');
    expect(text).to.not.match(/accessToken/);
  });
});
