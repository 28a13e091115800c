import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { interpolate, roleOfTarget } from '../support/deploy-checks';
import {
  arr,
  containersOf,
  loadDeployModel,
  nameOf,
  obj,
  REPO_ROOT,
  text,
  type DeployModel,
  type Obj,
} from '../support/deploy-model';

type Permissions = Record<string, { configure: string; write: string; read: string }>;

/** Each role's RabbitMQ user (deploy/rabbitmq/permissions.json). */
const AMQP_USER: Record<string, string> = {
  integration: 'integration',
  gateway: 'gateway',
  'stack-trigger': 'stack-trigger',
  trigger: 'stack-trigger',
  reporter: 'stack-trigger',
  reconciler: 'stack-trigger',
  runner: 'runner',
};

/** What each role sets, from docker-compose.yml and the production overlay, by role. */
function roleEnvironments(
  model: DeployModel,
): { where: string; role: string; env: Record<string, string> }[] {
  const found: { where: string; role: string; env: Record<string, string> }[] = [];
  for (const [name, raw] of Object.entries(obj(model.compose.services))) {
    const service = obj(raw);
    const target = text(obj(service.build).target ?? '');
    const role = target === '' ? undefined : roleOfTarget(model, target);
    if (!role || role.role === 'simulator') continue;
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(obj(service.environment))) env[k] = interpolate(text(v ?? ''));
    found.push({ where: `docker-compose.yml ${name}`, role: role.role, env });
  }
  const production = model.kubernetes.find((k) => k.name === 'overlays/production')!;
  const secrets = new Map(
    production.resources
      .filter((r) => r.kind === 'Secret')
      .map((r) => [nameOf(r), obj(r.stringData) as Record<string, string>]),
  );
  for (const deployment of production.resources.filter((r) => r.kind === 'Deployment')) {
    const container = containersOf(deployment)[0]!;
    const target = /stacklink[/-]([a-z0-9-]+)(:|$)/.exec(text(container.image))?.[1] ?? '';
    const role = roleOfTarget(model, target);
    if (!role) continue;
    const env: Record<string, string> = {};
    for (const e of arr(container.env).map(obj)) {
      const ref = obj(obj(e.valueFrom).secretKeyRef);
      env[text(e.name)] =
        e.value !== undefined ? text(e.value) : (secrets.get(text(ref.name))?.[text(ref.key)] ?? '');
    }
    found.push({ where: `deploy/k8s Deployment ${nameOf(deployment)}`, role: role.role, env });
  }
  return found;
}

function matches(regex: string, name: string): boolean {
  return new RegExp(regex).test(name);
}

/**
 * Least privilege in the deployment files (docs/architecture.md §12): each role holds only what it
 * reads, the runner and the gateway hold none of the powerful tokens, every role has its own RabbitMQ
 * user, and NetworkPolicies keep the broker, Redis and MongoDB to the roles that use them.
 */
describe('deployment files give each role only its own privileges', () => {
  const model = loadDeployModel();
  const environments = roleEnvironments(model);
  const production = model.kubernetes.find((k) => k.name === 'overlays/production')!;
  const permissions = JSON.parse(
    readFileSync(path.join(REPO_ROOT, 'deploy/rabbitmq/permissions.json'), 'utf8'),
  ) as Permissions;

  it('finds every role in compose and in Kubernetes', () => {
    const roles = (where: string) =>
      new Set(environments.filter((e) => e.where.startsWith(where)).map((e) => e.role));
    for (const where of ['docker-compose.yml', 'deploy/k8s'])
      expect([...roles(where)].sort(), where).to.deep.equal(
        [
          'console',
          'gateway',
          'integration',
          'reconciler',
          'reporter',
          'runner',
          'stack-trigger',
          'trigger',
        ].sort(),
      );
  });

  it('no role holds a variable its config schema does not read', () => {
    const problems = environments.flatMap(({ where, role, env }) => {
      const info = model.roles.find((r) => r.role === role)!;
      return Object.keys(env)
        .filter((name) => !info.variables.some((v) => v.name === name))
        .map((name) => `${where}: ${name}`);
    });
    expect(problems).to.deep.equal([]);
  });

  it('the runner holds neither ADMIN_TOKEN nor INTERNAL_TOKEN, and the gateway no INTERNAL_TOKEN', () => {
    const held = (role: string, name: string) =>
      environments.filter((e) => e.role === role && name in e.env).map((e) => e.where);
    for (const name of ['ADMIN_TOKEN', 'INTERNAL_TOKEN', 'MASTER_KEY', 'STORE_URL', 'REDIS_URL'])
      expect(held('runner', name), `runner ${name}`).to.deep.equal([]);
    for (const name of ['ADMIN_TOKEN', 'INTERNAL_TOKEN', 'MASTER_KEY'])
      expect(held('gateway', name), `gateway ${name}`).to.deep.equal([]);
    for (const e of environments.filter((x) => x.role === 'runner'))
      expect(e.env.RUNNER_TOKEN, e.where).to.be.a('string');
  });

  it('each Kubernetes Deployment reads only its own Secret, and that Secret holds only its variables', () => {
    for (const deployment of production.resources.filter((r) => r.kind === 'Deployment')) {
      const refs = new Set(
        arr(containersOf(deployment)[0]!.env)
          .map((e) => text(obj(obj(obj(e).valueFrom).secretKeyRef).name ?? ''))
          .filter((n) => n !== ''),
      );
      expect([...refs], nameOf(deployment)).to.deep.equal([`stacklink-${nameOf(deployment)}-secrets`]);
    }
    const runnerSecret = production.resources.find(
      (r) => r.kind === 'Secret' && nameOf(r) === 'stacklink-runner-secrets',
    )!;
    expect(Object.keys(obj(runnerSecret.stringData)).sort()).to.deep.equal(['RABBITMQ_URL', 'RUNNER_TOKEN']);
  });

  it('each role connects to RabbitMQ as its own user; the console, which uses no broker, not at all', () => {
    for (const { where, role, env } of environments) {
      if (role === 'console') {
        expect(env.RABBITMQ_URL, where).to.equal(undefined);
        continue;
      }
      const user = decodeURIComponent(new URL(env.RABBITMQ_URL ?? 'amqp://none@x').username);
      expect(user, where).to.equal(AMQP_USER[role]);
      expect(permissions, where).to.have.property(user);
    }
  });

  it('the runner’s RabbitMQ user reads runs.ready only and cannot publish events or run messages', () => {
    const runner = permissions.runner!;
    expect(matches(runner.read, 'runs.ready')).to.equal(true);
    for (const queue of ['stack-trigger.vcs-events', 'stack-trigger.status-updates', 'integration.events'])
      expect(matches(runner.read, queue), queue).to.equal(false);
    for (const exchange of ['vcs.events', 'runs', 'integration.events'])
      expect(matches(runner.write, exchange), exchange).to.equal(false);
    expect(matches(runner.configure, 'vcs.events')).to.equal(false);
    // The gateway publishes to vcs.events; the integration service to integration.events only.
    expect(matches(permissions.gateway!.write, 'vcs.events')).to.equal(true);
    expect(matches(permissions.integration!.write, 'vcs.events')).to.equal(false);
  });

  it('Kubernetes declares the same RabbitMQ users and permissions as compose', () => {
    const declared: Permissions = {};
    for (const p of production.resources.filter((r) => r.kind === 'Permission')) {
      const spec = obj(p.spec);
      const user = text(obj(spec.userReference).name);
      expect(
        production.resources.some((r) => r.kind === 'User' && nameOf(r) === user),
        `User ${user}`,
      ).to.equal(true);
      declared[user] = obj(spec.permissions) as Permissions[string];
    }
    expect(declared).to.deep.equal(permissions);
    const script = readFileSync(path.join(REPO_ROOT, 'deploy/rabbitmq/create-users.sh'), 'utf8');
    expect(script).to.contain('permissions.json');
    const users = obj(obj(model.compose.services)['rabbitmq-users']);
    expect(text(arr(users.volumes)[0])).to.contain('./deploy/rabbitmq');
  });

  it('NetworkPolicies admit to the broker, Redis and MongoDB only the roles that use them', () => {
    const policies = production.resources.filter((r) => r.kind === 'NetworkPolicy');
    const admitted = (selector: Obj): string[] | undefined => {
      const policy = policies.find((p) => {
        const labels = obj(obj(obj(p.spec).podSelector).matchLabels);
        return Object.entries(selector).every(([k, v]) => labels[k] === v);
      });
      if (!policy) return undefined;
      return arr(obj(policy.spec).ingress)
        .flatMap((rule) => arr(obj(rule).from))
        .flatMap((from) => arr(obj(obj(from).podSelector).matchExpressions))
        .flatMap((expr) => arr(obj(expr).values).map(text))
        .sort();
    };
    const redisService = production.resources.find(
      (r) => r.kind === 'Service' && nameOf(r) === 'redis-master',
    )!;
    const redisSelector = obj(obj(redisService.spec).selector);
    expect(admitted({ 'app.kubernetes.io/name': 'rabbitmq' })).to.deep.equal(
      ['gateway', 'integration', 'reconciler', 'reporter', 'runner', 'stack-trigger-api', 'trigger'].sort(),
    );
    expect(
      admitted({
        'redisfailovers.databases.spotahome.com/name': text(
          redisSelector['redisfailovers.databases.spotahome.com/name'],
        ),
      }),
    ).to.deep.equal(['console', 'gateway', 'reconciler', 'reporter', 'stack-trigger-api', 'trigger']);
    expect(admitted({ app: 'stacklink-mongodb-svc' })).to.deep.equal([
      'integration',
      'reconciler',
      'reporter',
      'stack-trigger-api',
      'trigger',
    ]);
    const egress = policies.find((p) => nameOf(p) === 'runner-egress');
    expect(arr(obj(egress?.spec).policyTypes)).to.deep.equal(['Egress']);
  });
});
