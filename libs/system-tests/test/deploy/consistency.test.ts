import { expect } from 'chai';
import { checkCompose, checkDockerfile, checkKubernetes } from '../support/deploy-checks';
import {
  arr,
  containersOf,
  loadDeployModel,
  nameOf,
  obj,
  type DeployModel,
  type Obj,
} from '../support/deploy-model';

/**
 * docker-compose.yml, deploy/Dockerfile and deploy/k8s checked against the code: the joi schemas (which
 * variables each role reads and requires, which port it listens on), the entry points, the queues the
 * workers consume. The mutation cases prove a rename on one side only is caught.
 */
describe('deployment files agree with the code', () => {
  // Loaded afresh for every case, so a mutation stays in that case.
  const fresh = (): DeployModel => loadDeployModel();
  const allProblems = (model: DeployModel) => [
    ...checkDockerfile(model),
    ...checkCompose(model),
    ...model.kubernetes.flatMap((k) => [...k.problems, ...checkKubernetes(model, k)]),
  ];
  const composeService = (model: DeployModel, name: string) => obj(obj(model.compose.services)[name]);
  const production = (model: DeployModel) => model.kubernetes.find((k) => k.name === 'overlays/production')!;
  const resource = (model: DeployModel, kind: string, name: string): Obj =>
    production(model).resources.find((r) => r.kind === kind && nameOf(r) === name)!;
  const container = (model: DeployModel, deployment: string) =>
    containersOf(resource(model, 'Deployment', deployment))[0]!;
  /** The container's env list itself, so a push mutates the model. */
  const env = (model: DeployModel, deployment: string) => container(model, deployment).env as Obj[];

  describe('as committed', () => {
    const model = fresh();

    it('the Dockerfile has a target for every role, probing /healthz on the port its schema defaults to', () => {
      expect(checkDockerfile(model)).to.deep.equal([]);
    });

    it('docker-compose.yml sets only variables the roles read, every required one, on the ports they listen on', () => {
      expect(checkCompose(model)).to.deep.equal([]);
    });

    for (const rendered of model.kubernetes)
      it(`deploy/k8s/${rendered.name} renders, and its workloads, probes, Services, autoscalers and policies match the code`, () => {
        expect([...rendered.problems, ...checkKubernetes(model, rendered)]).to.deep.equal([]);
      });

    it('covers what the issue asks for: two gateways, two trigger workers, two reporters, two reconcilers, a runner, the demo simulator', () => {
      const services = obj(model.compose.services);
      const targets = Object.values(services).map((s) => obj(obj(s).build).target);
      expect(targets.filter((t) => t === 'gateway')).to.have.length(2);
      expect(obj(composeService(model, 'trigger').deploy).replicas).to.equal(2);
      expect(obj(composeService(model, 'reporter').deploy).replicas).to.equal(2);
      // One active through the lease, one standing by (docs/architecture.md §14).
      expect(obj(composeService(model, 'reconciler').deploy).replicas).to.equal(2);
      const reconciler = production(model).resources.find(
        (r) => r.kind === 'Deployment' && obj(r.metadata).name === 'reconciler',
      );
      expect(obj(reconciler?.spec).replicas).to.equal(2);
      expect(targets).to.include.members(['integration', 'stack-trigger-api', 'runner']);
      expect(composeService(model, 'simulator').profiles).to.deep.equal(['demo']);
      const kinds = production(model).resources.map((r) => r.kind);
      expect(kinds).to.include.members([
        'HorizontalPodAutoscaler',
        'ScaledObject',
        'PodDisruptionBudget',
        'NetworkPolicy',
        'Ingress',
        'Secret',
        'RabbitmqCluster',
        'MongoDBCommunity',
        'RedisFailover',
      ]);
      expect(obj(resource(model, 'RabbitmqCluster', 'rabbitmq').spec).replicas).to.equal(3);
      expect(obj(resource(model, 'MongoDBCommunity', 'stacklink-mongodb').spec).members).to.equal(3);
    });
  });

  describe('when one side changes and the other does not', () => {
    it('a variable renamed in compose is reported as unread, and the required one as missing', () => {
      const model = fresh();
      const environment = obj(composeService(model, 'trigger').environment);
      environment.INTERNAL_TOKEN_V2 = environment.INTERNAL_TOKEN;
      delete environment.INTERNAL_TOKEN;
      const problems = checkCompose(model);
      expect(problems).to.include(
        'docker-compose.yml trigger: sets INTERNAL_TOKEN_V2, which trigger does not read',
      );
      expect(problems).to.include(
        'docker-compose.yml trigger: does not set INTERNAL_TOKEN, which trigger requires',
      );
    });

    it('a variable renamed in a schema is reported wherever the manifests still set the old name', () => {
      const model = fresh();
      const gateway = model.roles.find((r) => r.role === 'gateway')!;
      // As if the gateway's config.ts renamed INTEGRATION_URL to INTEGRATION_API_URL and made it required.
      const variable = gateway.variables.find((v) => v.name === 'INTEGRATION_URL')!;
      variable.name = 'INTEGRATION_API_URL';
      variable.required = true;
      expect(checkCompose(model)).to.include(
        'docker-compose.yml gateway-1: sets INTEGRATION_URL, which gateway does not read',
      );
      expect(checkKubernetes(model, production(model))).to.include(
        'deploy/k8s/overlays/production Deployment/gateway container gateway: does not set INTEGRATION_API_URL, which gateway requires',
      );
    });

    it('a port changed in a manifest is reported against the port the role listens on', () => {
      const model = fresh();
      const port = env(model, 'integration').find((e) => e.name === 'PORT')!;
      port.value = '9081';
      const problems = checkKubernetes(model, production(model));
      expect(problems).to.include(
        'deploy/k8s/overlays/production Deployment/integration container integration: containerPort http is 8081, integration listens on 9081',
      );
      // …and every caller that still dials 8081 through the Service now misses it.
      expect(
        problems.some((p) => p.includes('Service/integration: targetPort http is not integration')),
      ).to.equal(true);
    });

    it('a compose URL on the wrong port, or a proxy upstream on the wrong port, is reported', () => {
      const model = fresh();
      obj(composeService(model, 'runner').environment).STACK_TRIGGER_URL = 'http://stack-trigger-api:8080';
      model.proxyUpstreams[0]!.port = 8081;
      const problems = checkCompose(model);
      expect(problems).to.include(
        'docker-compose.yml runner: STACK_TRIGGER_URL uses port 8080, stack-trigger-api listens on 8082',
      );
      expect(problems).to.include(
        'deploy/compose/nginx.conf: upstream gateway-1:8081, the gateway listens on 8080',
      );
    });

    it('a probe on a path the processes do not serve is reported', () => {
      const model = fresh();
      obj(obj(container(model, 'reporter').readinessProbe).httpGet).path = '/ready';
      expect(checkKubernetes(model, production(model))).to.include(
        'deploy/k8s/overlays/production Deployment/reporter container reporter: readinessProbe path /ready, it must be /readyz',
      );
    });

    it('a KEDA queue that is not the queue the worker consumes is reported, namespace included', () => {
      const model = fresh();
      env(model, 'trigger').push({ name: 'NAMESPACE', value: 'blue' });
      const problems = checkKubernetes(model, production(model));
      expect(problems).to.include(
        'deploy/k8s/overlays/production ScaledObject/trigger: watches queue stack-trigger.vcs-events, trigger consumes blue.stack-trigger.vcs-events',
      );
    });

    it('a Dockerfile target renamed on one side is reported where it is used', () => {
      const model = fresh();
      model.dockerfile.stages.find((s) => s.name === 'reporter')!.name = 'status-reporter';
      expect(checkCompose(model)).to.include(
        'docker-compose.yml reporter: Dockerfile has no target reporter',
      );
      expect(checkKubernetes(model, production(model))).to.include(
        'deploy/k8s/overlays/production Deployment/reporter container reporter: image registry.example.com/stacklink/reporter:0.1.0 is no Dockerfile target',
      );
    });

    it('a role that listens on loopback in a container is reported', () => {
      const model = fresh();
      obj(composeService(model, 'runner').environment).HOST = '127.0.0.1';
      expect(checkCompose(model)).to.include(
        'docker-compose.yml runner: HOST is 127.0.0.1, containers need 0.0.0.0',
      );
    });

    it('a new caller without a NetworkPolicy, or a policy opening a worker to the outside, is reported', () => {
      const model = fresh();
      env(model, 'runner').push({ name: 'INTEGRATION_URL', value: 'http://integration:8081' });
      const policy = resource(model, 'NetworkPolicy', 'stack-trigger-api-from-callers');
      arr(obj(policy.spec).ingress).push({ from: [{ ipBlock: { cidr: '0.0.0.0/0' } }] });
      const problems = checkKubernetes(model, production(model));
      expect(problems).to.include(
        'deploy/k8s/overlays/production Deployment/runner container runner: sets INTEGRATION_URL, which runner does not read',
      );
      expect(problems).to.include(
        'deploy/k8s/overlays/production Deployment/runner: INTEGRATION_URL: no NetworkPolicy lets runner reach integration on port 8081',
      );
      expect(problems).to.include(
        'deploy/k8s/overlays/production NetworkPolicy/stack-trigger-api-from-callers: admits traffic from outside to stack-trigger-api',
      );
    });

    it('the whole suite reports nothing for the committed files', () => {
      expect(allProblems(fresh())).to.deep.equal([]);
    });
  });
});
