import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import amqp from 'amqplib';
import { createBus } from '@stacklink/bus';
import {
  gatewayTopology,
  RUNS_READY_QUEUE,
  runnerTopology,
  stackTriggerTopology,
} from '@stacklink/contracts';
import { createSilentLogger } from '@stacklink/logger';
import { REPO_ROOT } from '../support/deploy-model';

type Permissions = Record<string, { configure: string; write: string; read: string }>;

function rabbitmqctl(...args: string[]): string {
  return execFileSync('rabbitmqctl', args, {
    encoding: 'utf8',
    timeout: 30_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function rabbitmqctlWorks(): boolean {
  try {
    rabbitmqctl('list_vhosts');
    return true;
  } catch {
    return false;
  }
}

/**
 * deploy/rabbitmq/permissions.json against the real broker, in a virtual host of its own: each role's
 * user can declare its topology and do its work, and the runner's user can do nothing else
 * (docs/architecture.md §12). Needs `rabbitmqctl` on the test machine's broker; skipped without it.
 */
describe('the per-role RabbitMQ permissions on a real broker', function () {
  this.timeout(60_000);
  const permissions = JSON.parse(
    readFileSync(path.join(REPO_ROOT, 'deploy/rabbitmq/permissions.json'), 'utf8'),
  ) as Permissions;
  const suffix = randomBytes(4).toString('hex');
  const vhost = `stacklink-permissions-${suffix}`;
  const users: Record<string, { name: string; url: string }> = {};

  before(function () {
    if (!rabbitmqctlWorks()) this.skip();
    rabbitmqctl('add_vhost', vhost);
    rabbitmqctl('set_permissions', '-p', vhost, 'guest', '.*', '.*', '.*');
    for (const [role, p] of Object.entries(permissions)) {
      const name = `stacklink-${role}-${suffix}`;
      const password = randomBytes(12).toString('hex');
      rabbitmqctl('add_user', name, password);
      rabbitmqctl('set_permissions', '-p', vhost, name, p.configure, p.write, p.read);
      users[role] = { name, url: `amqp://${name}:${password}@127.0.0.1:5672/${encodeURIComponent(vhost)}` };
    }
  });

  after(function () {
    if (Object.keys(users).length === 0) return;
    for (const { name } of Object.values(users)) rabbitmqctl('delete_user', name);
    rabbitmqctl('delete_vhost', vhost);
  });

  /** Runs one broker operation as `role`; resolves 'allowed' or 'refused'. */
  async function attempt(role: string, op: (ch: amqp.ConfirmChannel) => Promise<unknown>) {
    const connection = await amqp.connect(users[role]!.url);
    const channel = await connection.createConfirmChannel();
    channel.on('error', () => undefined);
    try {
      await op(channel);
      return 'allowed';
    } catch {
      return 'refused';
    } finally {
      await connection.close().catch(() => undefined);
    }
  }

  it('lets each role declare its own topology and the runner consume runs.ready', async () => {
    for (const [role, topology] of [
      ['stack-trigger', stackTriggerTopology],
      ['gateway', gatewayTopology('replica-1')],
      ['runner', runnerTopology],
    ] as const) {
      const bus = createBus({ url: users[role]!.url, logger: createSilentLogger(), namespace: '', topology });
      try {
        await bus.start();
        if (role === 'runner') await (await bus.consume(RUNS_READY_QUEUE, async () => undefined)).cancel();
      } finally {
        await bus.close();
      }
    }
  });

  it('refuses the runner’s user every publish but its own queues’, and every other queue', async () => {
    const publish = (exchange: string) => (ch: amqp.ConfirmChannel) => {
      ch.publish(exchange, 'bitbucket-dc.push', Buffer.from('{}'));
      return ch.waitForConfirms();
    };
    expect(await attempt('runner', publish('vcs.events'))).to.equal('refused');
    expect(await attempt('runner', publish('runs'))).to.equal('refused');
    expect(await attempt('runner', (ch) => ch.consume('stack-trigger.vcs-events', () => undefined))).to.equal(
      'refused',
    );
    expect(await attempt('runner', (ch) => ch.deleteExchange('vcs.events'))).to.equal('refused');
    expect(await attempt('gateway', publish('vcs.events'))).to.equal('allowed');
  });
});
