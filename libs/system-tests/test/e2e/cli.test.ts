import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { WEBHOOK_EVENTS } from '@stacklink/bitbucket-simulator';
import { waitFor } from '@stacklink/testing';
import { runStacklink } from '../support/stacklink-command';
import { SIM_TOKEN, SIM_USER, System, type Run, type Stack } from '../support/system';

const PROJECT = 'CLI';
const REPO = 'infra';

/**
 * `stacklink` (libs/cli) as an operator runs it, against every role as its own OS process and the
 * Bitbucket simulator: each subcommand's answer, and for bad input a clear message, a non-zero exit
 * code that says what went wrong (libs/cli/README.md) and nothing changed.
 */
describe('end to end: the stacklink command', function () {
  this.timeout(60_000);
  let system: System;
  let env: Record<string, string>;

  /** Runs the command in a directory without .run/dev.env, so only `env` configures it. */
  function stacklink(
    args: string[],
    options: { stdin?: string; env?: Record<string, string>; cwd?: string; withoutTokens?: boolean } = {},
  ) {
    const { STACKLINK_TOKEN: _token, STACKLINK_INTERNAL_TOKEN: _internal, ...urls } = env;
    return runStacklink(args, {
      cwd: options.cwd ?? system.dir,
      env: { ...(options.withoutTokens === true ? urls : env), ...options.env },
      ...(options.stdin === undefined ? {} : { stdin: options.stdin }),
    });
  }

  /** The command's `--json` answer, failing with its stderr when it did not exit 0. */
  async function json<T>(args: string[], options: { stdin?: string } = {}): Promise<T> {
    const result = await stacklink([...args, '--json'], options);
    expect(result.code, `stacklink ${args.join(' ')}: ${result.stderr}`).to.equal(0);
    return JSON.parse(result.stdout) as T;
  }

  /** A refused command: its exit code and a message naming `mentions`, and nothing on stdout. */
  async function refused(
    args: string[],
    code: number,
    mentions: RegExp,
    options: { stdin?: string } = {},
    extraEnv: Record<string, string> = {},
  ) {
    const result = await stacklink(args, { ...options, env: extraEnv });
    expect(result.code, `stacklink ${args.join(' ')}: ${result.stdout}${result.stderr}`).to.equal(code);
    expect(result.stderr).to.match(mentions);
    expect(result.stdout).to.equal('');
    return result;
  }

  const createIntegration = (name: string) =>
    json<{ id: string; webhook: { endpoint: string; secret: string } }>(
      ['integrations', 'create', '--name', name, '--api-host', system.sim.url, '--username', SIM_USER].concat(
        ['--access-token-stdin'],
      ),
      { stdin: `${SIM_TOKEN}\n` },
    );

  before(async function () {
    this.timeout(90_000);
    system = await System.start({
      label: 'cli',
      // Two lines a second apart, so `runs logs --follow` meets a running run; proposed runs fail, so it
      // also meets a run that does not finish.
      runnerCommand: [
        'echo "run of $STACKLINK_STACK_NAME starts"',
        'sleep 1',
        'echo "step two"',
        'sleep 1',
        'test "$STACKLINK_RUN_TYPE" = tracked || { echo "proposed runs fail here" >&2; exit 3; }',
      ].join('; '),
      env: { runner: { RUNNER_LOG_FLUSH_MS: '100' } },
    });
    system.sim.addRepository({
      project: PROJECT,
      slug: REPO,
      files: ['README.md', 'stacks/network/main.tf'],
    });
    env = {
      STACKLINK_INTEGRATION_URL: system.integration.url,
      STACKLINK_API_URL: system.api.url,
      STACKLINK_TOKEN: system.adminToken,
      STACKLINK_INTERNAL_TOKEN: system.internalToken,
    };
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.error(system.tails());
  });

  after(async function () {
    this.timeout(60_000);
    await system?.close();
  });

  it('answers --help on every command with its usage and exit code 0, and an unknown one with 1', async () => {
    const commands = [
      ['integrations', 'list'],
      ['integrations', 'show'],
      ['integrations', 'create'],
      ['integrations', 'test'],
      ['integrations', 'rotate-secret'],
      ['integrations', 'webhooks'],
      ['integrations', 'oauth-client'],
      ['stacks', 'list'],
      ['stacks', 'show'],
      ['stacks', 'create'],
      ['stacks', 'update'],
      ['stacks', 'disable'],
      ['stacks', 'delete'],
      ['stacks', 'trigger'],
      ['runs', 'list'],
      ['runs', 'show'],
      ['runs', 'logs'],
      ['deliveries', 'list'],
      ['deliveries', 'show'],
      ['deliveries', 'redeliver'],
      ['dead-letters', 'list'],
      ['dead-letters', 'replay'],
      ['admin', 'reencrypt'],
      ['status'],
    ];
    const results = await Promise.all(commands.map((c) => stacklink([...c, '--help'])));
    results.forEach((result, i) => {
      expect(result.code, commands[i]!.join(' ')).to.equal(0);
      expect(result.stdout).to.match(new RegExp(`^usage: stacklink ${commands[i]!.join(' ')}`));
    });
    const top = await stacklink(['--help']);
    expect(top.code).to.equal(0);
    for (const group of ['integrations', 'stacks', 'runs', 'deliveries', 'dead-letters', 'admin', 'status'])
      expect(top.stdout).to.include(group);
    await refused(['stacks', 'explode'], 1, /unknown command 'stacks explode'/);
    await refused(['stacks', 'list', '--colour'], 1, /Unknown option '--colour'/);
  });

  describe('integrations', () => {
    let id: string;
    let secret: string;

    it('create reads the access token from stdin and shows the webhook endpoint and secret once', async () => {
      const created = await createIntegration(`cli-${system.namespace}`);
      id = created.id;
      secret = created.webhook.secret;
      expect(created.webhook.endpoint).to.match(new RegExp(`/webhooks/bitbucket-dc/${id}$`));
      expect(secret).to.match(/^[0-9a-f]{64}$/);
      expect(JSON.stringify(created)).not.to.include(SIM_TOKEN);
    });

    it('list and show print tables without the token; --json prints the API answer', async () => {
      const listed = await stacklink(['integrations', 'list']);
      expect(listed.code).to.equal(0);
      expect(listed.stdout).to.match(/^ID\s+NAME\s+API HOST\s+USERNAME\s+LABELS\n/);
      expect(listed.stdout).to.include(id).and.to.include(`cli-${system.namespace}`);
      const shown = await stacklink(['integrations', 'show', id]);
      expect(shown.code).to.equal(0);
      expect(shown.stdout).to.match(/webhook endpoint:\s+http/);
      expect(shown.stdout + listed.stdout).not.to.include(SIM_TOKEN);
      const all = await json<{ integrations: { id: string }[] }>(['integrations', 'list']);
      expect(all.integrations.map((i) => i.id)).to.include(id);
    });

    it('test runs the connection checks against Bitbucket and exits 0 when all pass', async () => {
      const report = await json<{ ok: boolean; checks: { name: string; ok: boolean }[] }>([
        'integrations',
        'test',
        id,
      ]);
      expect(report.ok).to.equal(true);
      expect(report.checks).to.have.length(5);
    });

    it('test exits 7 and says what failed when Bitbucket refuses the token', async () => {
      const wrong = await json<{ id: string }>(
        [
          'integrations',
          'create',
          '--name',
          `cli-wrong-${system.namespace}`,
          '--api-host',
          system.sim.url,
        ].concat(['--username', SIM_USER, '--access-token-stdin']),
        { stdin: 'not-the-token' },
      );
      const result = await stacklink(['integrations', 'test', wrong.id]);
      expect(result.code, result.stderr).to.equal(7);
      expect(result.stdout)
        .to.match(/^FAILED/)
        .and.to.match(/credentials\s+failed/);
    });

    it('oauth-client sets the sign-in client with its secret from stdin, never shows the secret, and removes it', async () => {
      const clientSecret = 'cli-oauth-client-secret-0123456789abcdef';
      const set = await json<{ oauth?: unknown }>(
        ['integrations', 'oauth-client', id, '--client-id', 'cli-client', '--client-secret-stdin'],
        { stdin: `${clientSecret}\n` },
      );
      expect(set.oauth).to.deep.equal({ clientId: 'cli-client', configured: true });
      expect(JSON.stringify(set)).not.to.include(clientSecret);
      const removed = await json<{ oauth?: unknown }>(['integrations', 'oauth-client', id, '--remove']);
      expect(removed).not.to.have.property('oauth');
      const usage = await stacklink(['integrations', 'oauth-client', id]);
      expect(usage.code).to.equal(1);
    });

    it('rotate-secret shows a new secret', async () => {
      const rotated = await json<Record<string, unknown>>(['integrations', 'rotate-secret', id]);
      const text = JSON.stringify(rotated);
      expect(text).to.match(/[0-9a-f]{64}/);
      expect(text).not.to.include(secret);
    });

    it('bad input is refused with the field named, exit 3, and nothing is created', async () => {
      const before = await json<{ integrations: unknown[] }>(['integrations', 'list']);
      const result = await refused(
        [
          'integrations',
          'create',
          '--name',
          'bad-host',
          '--api-host',
          'ftp://nowhere',
          '--username',
          'u',
        ].concat(['--access-token-stdin']),
        3,
        /apiHost/,
        { stdin: 'token-not-secret' },
      );
      expect(result.stderr).to.include('VALIDATION.FAILED');
      await refused(['integrations', 'create', '--name', 'x', '--api-host', system.sim.url], 1, /--username/);
      await refused(
        ['integrations', 'create', '--name', 'x', '--api-host', system.sim.url, '--username', 'u'],
        1,
        /--access-token-stdin/,
      );
      await refused(
        ['integrations', 'create', '--name', 'x', '--api-host', system.sim.url, '--username', 'u'].concat([
          '--access-token-stdin',
        ]),
        3,
        /access token is empty/,
      );
      const after = await json<{ integrations: unknown[] }>(['integrations', 'list']);
      expect(after.integrations).to.have.length(before.integrations.length);
    });

    it('an unknown integration exits 2, a wrong token 4, an unreachable API 5', async () => {
      await refused(['integrations', 'show', 'no-such-integration'], 2, /NOT_FOUND/);
      const wrong = await stacklink(['integrations', 'list'], { env: { STACKLINK_TOKEN: 'not-the-token' } });
      expect(wrong.code).to.equal(4);
      expect(wrong.stderr).to.include('AUTH.UNAUTHORIZED');
      const down = await stacklink(['stacks', 'list'], { env: { STACKLINK_API_URL: 'http://127.0.0.1:9' } });
      expect(down.code).to.equal(5);
      expect(down.stderr).to.include('cannot reach the stack-trigger API');
    });
  });

  describe('stacks, runs and deliveries', () => {
    let integrationId: string;
    let stack: Stack;
    let commit: string;
    let deliveryId: string;

    before(async () => {
      const created = await createIntegration(`cli-stacks-${system.namespace}`);
      integrationId = created.id;
      system.sim.addWebhook({
        project: PROJECT,
        repo: REPO,
        url: created.webhook.endpoint,
        secret: created.webhook.secret,
        events: [...WEBHOOK_EVENTS],
        name: 'stacklink',
      });
    });

    it('stacks create, list, show', async () => {
      stack = await json<Stack>(
        ['stacks', 'create', '--name', 'network', '--integration', integrationId]
          .concat(['--repository', `${PROJECT}/${REPO}`, '--branch', 'main'])
          .concat(['--project-root', 'stacks/network', '--label', 'team:net']),
      );
      expect(stack).to.deep.include({ name: 'network', branch: 'main', projectRoot: 'stacks/network' });
      expect(stack.repository).to.deep.equal({ projectKey: PROJECT, slug: REPO });
      const listed = await stacklink(['stacks', 'list']);
      expect(listed.stdout).to.match(new RegExp(`${stack.id}\\s+network\\s+${PROJECT}/${REPO}\\s+main`));
      const shown = await stacklink(['stacks', 'show', stack.id]);
      expect(shown.stdout).to.match(/project root:\s+stacks\/network/);
    });

    it('stacks update changes only what is given; disable and update --enable switch it', async () => {
      const updated = await json<Stack>(['stacks', 'update', stack.id, '--trigger-on-tags']);
      expect(updated).to.deep.include({ triggerOnTags: true, branch: 'main', name: 'network' });
      const off = await json<Stack>(['stacks', 'update', stack.id, '--no-trigger-on-tags']);
      expect(off.triggerOnTags).to.equal(false);
      expect((await json<Stack>(['stacks', 'disable', stack.id])).enabled).to.equal(false);
      expect((await json<Stack>(['stacks', 'update', stack.id, '--enable'])).enabled).to.equal(true);
    });

    it('bad stack input is refused naming the field, and changes nothing', async () => {
      await refused(
        [
          'stacks',
          'create',
          '--name',
          'n',
          '--integration',
          integrationId,
          '--repository',
          'no-slash',
        ].concat(['--branch', 'main']),
        3,
        /--repository must be PROJECT\/slug/,
      );
      await refused(
        [
          'stacks',
          'create',
          '--name',
          'n',
          '--integration',
          integrationId,
          '--repository',
          'CLI/infra',
        ].concat(['--branch', 'has space']),
        3,
        /branch/,
      );
      await refused(['stacks', 'create', '--name', 'n'], 1, /--integration is required/);
      await refused(['stacks', 'update', stack.id], 1, /nothing to change/);
      await refused(['stacks', 'update', stack.id, '--branch', 'two words'], 3, /branch/);
      await refused(['stacks', 'update', stack.id, '--allow-forks', '--no-allow-forks'], 1, /contradict/);
      await refused(['stacks', 'show', 'no-such-stack'], 2, /NOT_FOUND/);
      const stacks = await json<{ stacks: Stack[] }>(['stacks', 'list']);
      expect(stacks.stacks.filter((s) => s.integrationId === integrationId)).to.have.length(1);
      expect(stacks.stacks.find((s) => s.id === stack.id)).to.deep.include({
        branch: 'main',
        allowForks: false,
      });
    });

    it('a push shows up in deliveries list and show, with the run it created', async () => {
      const push = await system.sim.push({
        project: PROJECT,
        repo: REPO,
        branch: 'main',
        files: ['stacks/network/vpc.tf'],
      });
      commit = push.commit;
      deliveryId = push.deliveries[0]!.requestId;
      expect(push.deliveries.map((d) => d.status)).to.deep.equal([202]);
      await waitFor(
        async () => {
          const page = await json<{ deliveries: { deliveryId: string }[] }>([
            'deliveries',
            'list',
            '--integration',
            integrationId,
            '--repository',
            `${PROJECT}/${REPO}`,
          ]);
          return page.deliveries.some((d) => d.deliveryId === deliveryId);
        },
        { timeoutMs: 20_000, message: 'the delivery is never listed' },
      );
      const view = await waitFor(
        async () => {
          const shown = await json<{ decisions: { stacks: { stackId: string; outcome: string }[] }[] }>([
            'deliveries',
            'show',
            deliveryId,
          ]);
          return shown.decisions.length > 0 ? shown : undefined;
        },
        { timeoutMs: 20_000, message: 'the delivery never gets a decision' },
      );
      expect(view.decisions[0]!.stacks.map((s) => [s.stackId, s.outcome])).to.deep.equal([
        [stack.id, 'run-created'],
      ]);
      const table = await stacklink(['deliveries', 'show', deliveryId]);
      expect(table.stdout).to.match(/network\s+run-created/);
    });

    it('runs list --stack and runs show follow the run to FINISHED', async () => {
      const run = await waitFor(
        async () => {
          const listed = await json<{ runs: Run[] }>(['runs', 'list', '--stack', stack.id]);
          return listed.runs.find((r) => r.commit === commit && r.state === 'FINISHED');
        },
        { timeoutMs: 30_000, message: 'the run never finished' },
      );
      const shown = await stacklink(['runs', 'show', run.id]);
      expect(shown.code).to.equal(0);
      expect(shown.stdout)
        .to.match(/state:\s+FINISHED/)
        .and.to.include(commit);
      const finished = await json<{ runs: Run[] }>([
        'runs',
        'list',
        '--stack',
        stack.id,
        '--state',
        'finished',
      ]);
      expect(finished.runs.map((r) => r.id)).to.include(run.id);
      await refused(['runs', 'list', '--state', 'SLEEPING'], 3, /--state must be/);
      await refused(['runs', 'list', '--stack', stack.id, '--limit', '0'], 3, /--limit must be/);
      await refused(['runs', 'show', 'no-such-run'], 2, /NOT_FOUND/);
    });

    it('deliveries redeliver publishes the event again and creates nothing new', async () => {
      const before = await json<{ runs: Run[] }>(['runs', 'list', '--stack', stack.id]);
      const answer = await json<{ eventId: string; redeliveryOf: string }>([
        'deliveries',
        'redeliver',
        deliveryId,
      ]);
      expect(answer.redeliveryOf).to.be.a('string');
      await waitFor(
        async () =>
          (await json<{ decisions: unknown[] }>(['deliveries', 'show', deliveryId])).decisions.length === 2,
        { timeoutMs: 20_000, message: 'the redelivery is never decided' },
      );
      const after = await json<{ runs: Run[] }>(['runs', 'list', '--stack', stack.id]);
      expect(after.runs.map((r) => r.id)).to.deep.equal(before.runs.map((r) => r.id));
      await refused(['deliveries', 'show', 'no-such-delivery'], 2, /DELIVERY.NOT_FOUND/);
      await refused(['deliveries', 'redeliver', 'no-such-delivery'], 2, /DELIVERY.NOT_FOUND/);
      await refused(['deliveries', 'list', '--outcome', 'maybe'], 3, /outcome/);
    });

    it('stacks trigger starts a manual run of a commit; a bad commit is refused', async () => {
      const manual = await json<Run>(['stacks', 'trigger', stack.id, '--commit', commit, '--proposed']);
      expect(manual).to.deep.include({ stackId: stack.id, commit, type: 'proposed' });
      await refused(['stacks', 'trigger', stack.id], 1, /--commit is required/);
      await refused(['stacks', 'trigger', stack.id, '--commit', 'abc'], 3, /commit/);
    });

    it('runs logs prints a finished run’s log; --follow streams a running one to its end, exit 0 when FINISHED and 7 when not', async () => {
      const finished = (await json<{ runs: Run[] }>(['runs', 'list', '--stack', stack.id])).runs.find(
        (r) => r.commit === commit && r.state === 'FINISHED',
      );
      expect(finished, 'the pushed commit’s run').to.not.equal(undefined);
      const stored = await stacklink(['runs', 'logs', finished!.id]);
      expect(stored.code, stored.stderr).to.equal(0);
      expect(stored.stdout).to.match(/run of network starts\n(.*\n)*step two/);
      const lines = (await stacklink(['runs', 'logs', finished!.id, '--json'])).stdout.trim().split('\n');
      const seqs = lines.map((l) => (JSON.parse(l) as { seq: number }).seq);
      expect(seqs[0]).to.equal(0);
      expect(seqs).to.deep.equal([...seqs].sort((a, b) => a - b));
      const afterFirst = await stacklink(['runs', 'logs', finished!.id, '--after', String(seqs[0])]);
      expect(afterFirst.stdout).to.not.include('run of network starts');

      // A commit that touches no stack (so its push starts nothing), then a manual run of it, followed from
      // the moment it is queued.
      const untouched = (
        await system.sim.push({ project: PROJECT, repo: REPO, branch: 'main', files: ['README.md'] })
      ).commit;
      const tracked = await json<Run>(['stacks', 'trigger', stack.id, '--commit', untouched]);
      expect(['QUEUED', 'RUNNING']).to.include(tracked.state);
      const followed = await stacklink(['runs', 'logs', tracked.id, '--follow']);
      expect(followed.code, followed.stderr).to.equal(0);
      expect(followed.stdout).to.match(/run of network starts\n(.*\n)*step two/);
      expect(followed.stderr).to.match(/is FINISHED/);
      expect((await json<Run>(['runs', 'show', tracked.id])).state).to.equal('FINISHED');

      const proposed = await json<Run>(['stacks', 'trigger', stack.id, '--commit', untouched, '--proposed']);
      expect(['QUEUED', 'RUNNING']).to.include(proposed.state);
      const failed = await stacklink(['runs', 'logs', proposed.id, '--follow']);
      expect(failed.code, failed.stderr).to.equal(7);
      expect(failed.stdout).to.include('proposed runs fail here');
      expect(failed.stderr).to.match(/is FAILED/);

      await refused(['runs', 'logs', tracked.id, '--after', 'first'], 3, /--after must be/);
      await refused(['runs', 'logs', 'no-such-run'], 2, /NOT_FOUND/);
    });

    it('stacks delete removes the stack; deleting it again exits 2', async () => {
      const deleted = await stacklink(['stacks', 'delete', stack.id]);
      expect(deleted.code, deleted.stderr).to.equal(0);
      expect(deleted.stdout).to.include(`deleted stack ${stack.id}`);
      await refused(['stacks', 'show', stack.id], 2, /NOT_FOUND/);
      await refused(['stacks', 'delete', stack.id], 2, /NOT_FOUND/);
    });
  });

  describe('operations', () => {
    it('status shows each API ready and the work queues with their consumers', async () => {
      const status = await json<{
        roles: { role: string; status: string }[];
        queues: { queue: string; consumers: number; messages: number; deadLetters: number }[];
      }>(['status']);
      expect(status.roles.map((r) => [r.role, r.status])).to.deep.equal([
        ['integration', 'ready'],
        ['stack-trigger', 'ready'],
      ]);
      const queues = new Map(status.queues.map((q) => [q.queue, q]));
      for (const queue of ['stack-trigger.vcs-events', 'stack-trigger.status-updates', 'runs.ready'])
        expect(queues.get(queue)?.consumers, queue).to.be.greaterThan(0);
      const table = await stacklink(['status']);
      expect(table.stdout).to.match(/stack-trigger\.vcs-events\s+trigger\s+\d+/);
      const noInternal = await stacklink(['status'], { env: { STACKLINK_INTERNAL_TOKEN: 'wrong-internal' } });
      expect(noInternal.code).to.equal(7);
      expect(noInternal.stdout).to.match(/queues: .*AUTH.UNAUTHORIZED/);
    });

    it('inside a checkout after make up, the tokens come from ./.run/dev.env; without them it exits 4', async () => {
      const checkout = path.join(system.dir, 'checkout');
      mkdirSync(path.join(checkout, '.run'), { recursive: true });
      writeFileSync(
        path.join(checkout, '.run', 'dev.env'),
        `ADMIN_TOKEN=${system.adminToken}\nINTERNAL_TOKEN=${system.internalToken}\n`,
      );
      const listed = await stacklink(['stacks', 'list', '--json'], { cwd: checkout, withoutTokens: true });
      expect(listed.code, listed.stderr).to.equal(0);
      const queues = await stacklink(['dead-letters', 'list', 'runs.ready'], {
        cwd: checkout,
        withoutTokens: true,
      });
      expect(queues.code, queues.stderr).to.equal(0);
      const none = await stacklink(['stacks', 'list'], { withoutTokens: true });
      expect(none.code).to.equal(4);
      expect(none.stderr).to.include('no token: set STACKLINK_TOKEN');
    });

    it('dead-letters list and replay work on a known queue and refuse an unknown one', async () => {
      const listed = await json<{ queue: string; messages: unknown[] }>([
        'dead-letters',
        'list',
        'stack-trigger.status-updates',
      ]);
      expect(listed).to.deep.equal({ queue: 'stack-trigger.status-updates', messages: [] });
      const replayed = await json<{ replayed: number }>([
        'dead-letters',
        'replay',
        'stack-trigger.status-updates',
        '--all',
      ]);
      expect(replayed.replayed).to.equal(0);
      await refused(['dead-letters', 'list', 'some.queue'], 3, /queue/);
      await refused(['dead-letters', 'replay', 'stack-trigger.status-updates'], 1, /--all/);
      const wrong = await stacklink(['dead-letters', 'list', 'runs.ready'], {
        env: { STACKLINK_INTERNAL_TOKEN: system.adminToken },
      });
      expect(wrong.code).to.equal(4);
    });

    it('admin reencrypt re-seals the store under a new MASTER_KEY, then finds it current; names a missing variable', async () => {
      // The last test: the running services keep the old key, so nothing reads the store after this.
      const newKey = randomBytes(32).toString('base64');
      const storeEnv = { STORE_URL: `sqlite:${path.join(system.dir, 'stacklink.db')}`, MASTER_KEY: newKey };
      const rotated = await stacklink(['admin', 'reencrypt', '--json'], {
        env: { ...storeEnv, PREVIOUS_MASTER_KEYS: system.masterKey },
      });
      expect(rotated.code, rotated.stderr).to.equal(0);
      const counts = JSON.parse(rotated.stdout) as {
        integrations: number;
        reencrypted: number;
        values: number;
      };
      expect(counts.integrations).to.be.greaterThan(1);
      expect(counts.reencrypted).to.equal(counts.values).and.to.be.greaterThan(0);
      expect(rotated.stdout).not.to.include(SIM_TOKEN);
      const again = await stacklink(['admin', 'reencrypt'], { env: storeEnv });
      expect(again.code, again.stderr).to.equal(0);
      expect(again.stdout).to.match(/reencrypted:\s+0\n/);
      await refused(
        ['admin', 'reencrypt'],
        3,
        /reencrypt failed/,
        {},
        { ...storeEnv, MASTER_KEY: system.masterKey },
      );
      await refused(['admin', 'reencrypt'], 1, /MASTER_KEY/);
    });
  });
});
