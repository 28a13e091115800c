import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  arr,
  containersOf,
  nameOf,
  obj,
  physicalQueueName,
  REPO_ROOT,
  resolveStage,
  type DeployModel,
  type Obj,
  text,
  type RoleInfo,
} from './deploy-model';

/**
 * The roles the outside may reach through the ingress: the gateway (Bitbucket's webhooks) and the web
 * console (people following the links in commit statuses; docs/architecture.md §15).
 */
const PUBLIC_ROLES = new Set(['gateway', 'console']);

/**
 * The deployment-consistency rules: each returns human-readable problems, empty when the deployment
 * files agree with the code. Everything is derived from the model (schemas, entry points, queues,
 * manifests), so renaming a variable, port, target or queue on one side only produces a problem.
 */

/**
 * Probe paths every HTTP process serves (docs/architecture.md §2): readiness must use /readyz, liveness
 * /healthz.
 */
const READINESS_PATH = '/readyz';
const LIVENESS_PATH = '/healthz';
/** Set by the platform or read by node itself, not by a role's schema. */
const PLATFORM_VARIABLES = new Set(['NODE_ENV']);
/** Namespaces whose pods may reach non-gateway roles: Prometheus scraping /metrics. */
const MONITORING_NAMESPACES = new Set(['monitoring']);

// ---- Dockerfile ---------------------------------------------------------------------------------------------

/** The role a Dockerfile target runs, by its CMD's entry file. */
export function roleOfTarget(model: DeployModel, target: string): RoleInfo | undefined {
  const stage = resolveStage(model.dockerfile, target);
  const entry = stage?.cmd?.find((arg) => arg.endsWith('.js'));
  return model.roles.find((r) => r.entry === entry);
}

export function checkDockerfile(model: DeployModel, root = REPO_ROOT): string[] {
  const problems: string[] = [];
  const ignored = readDockerignore(root);
  for (const role of model.roles) {
    const targets = model.dockerfile.stages.filter((s) => roleOfTarget(model, s.name) === role);
    if (targets.length === 0) problems.push(`Dockerfile: no target runs ${role.role} (${role.entry})`);
    if (!existsSync(path.join(root, role.entry.replace(/^(.*)\/dist\/(.*)\.js$/, '$1/$2.ts'))))
      problems.push(`Dockerfile: entry ${role.entry} has no source file`);
    for (const target of targets) {
      const stage = resolveStage(model.dockerfile, target.name)!;
      const where = `Dockerfile target ${target.name} (${role.role})`;
      const port = defaultOf(role, role.portVariable);
      const [, script, variable, fallback, probe = LIVENESS_PATH] = stage.healthcheck ?? [];
      if (!stage.healthcheck) problems.push(`${where}: no HEALTHCHECK`);
      else {
        if (!script || !existsSync(path.join(root, script)))
          problems.push(`${where}: HEALTHCHECK script ${text(script)} does not exist`);
        if (variable !== role.portVariable)
          problems.push(
            `${where}: HEALTHCHECK reads ${text(variable)}, the role's port is ${role.portVariable}`,
          );
        if (text(fallback) !== text(port))
          problems.push(
            `${where}: HEALTHCHECK default port ${text(fallback)}, ${role.portVariable} defaults to ${text(port)}`,
          );
        if (role.role !== 'simulator' && probe !== LIVENESS_PATH)
          problems.push(`${where}: HEALTHCHECK probes ${probe}, not ${LIVENESS_PATH}`);
      }
      if (!stage.expose.includes(Number(port)))
        problems.push(
          `${where}: EXPOSE ${stage.expose.join(' ')} does not include ${role.portVariable} default ${text(port)}`,
        );
      for (const name of Object.keys(stage.inheritedEnv))
        if (!PLATFORM_VARIABLES.has(name) && !hasVariable(role, name))
          problems.push(`${where}: ENV ${name} is not read by ${role.role}`);
      for (const source of stage.copies)
        if (
          source !== '.' &&
          (!existsSync(path.join(root, source)) || ignored.some((i) => isUnder(source, i)))
        )
          problems.push(`${where}: COPY ${source} is missing from the build context`);
    }
  }
  return problems;
}

function readDockerignore(root: string): string[] {
  const file = path.join(root, '.dockerignore');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

function isUnder(file: string, pattern: string): boolean {
  return file === pattern || file.startsWith(`${pattern.replace(/\/$/, '')}/`);
}

// ---- shared role rules ----------------------------------------------------------------------------------------

function hasVariable(role: RoleInfo, name: string): boolean {
  return role.variables.some((v) => v.name === name);
}

function defaultOf(role: RoleInfo, name: string): unknown {
  return role.variables.find((v) => v.name === name)?.default;
}

/**
 * What every container of a role must satisfy: it sets only variables the role reads, every required
 * one, values the role's schema accepts, and listens on every interface.
 */
function checkRoleEnvironment(
  where: string,
  role: RoleInfo,
  set: Set<string>,
  values: Record<string, string>,
  imageEnv: Record<string, string>,
): string[] {
  const problems: string[] = [];
  for (const name of set)
    if (!hasVariable(role, name)) problems.push(`${where}: sets ${name}, which ${role.role} does not read`);
  for (const v of role.variables)
    if (v.required && !set.has(v.name) && !(v.name in imageEnv))
      problems.push(`${where}: does not set ${v.name}, which ${role.role} requires`);
  // A default meant for one machine (a loopback URL, the embedded SQLite store) is wrong in a container:
  // the role would talk to itself, or to a file no other replica sees.
  for (const v of role.variables)
    if (
      v.name !== 'HOST' &&
      typeof v.default === 'string' &&
      /^sqlite:|\/\/(127\.0\.0\.1|localhost)[:/]/.test(v.default) &&
      !set.has(v.name) &&
      !(v.name in imageEnv)
    )
      problems.push(`${where}: does not set ${v.name}, whose default ${v.default} only works on one machine`);
  for (const p of role.validate({ ...imageEnv, ...values }))
    problems.push(`${where}: ${p.variable} is invalid for ${role.role}: ${p.message}`);
  // A process on 127.0.0.1 inside a container answers nobody, not even its probes' Service.
  const host = values.HOST ?? imageEnv.HOST ?? defaultOf(role, 'HOST');
  if (!hasVariable(role, 'HOST'))
    problems.push(`${where}: ${role.role} has no HOST variable, so it listens on loopback only`);
  else if (host !== '0.0.0.0') problems.push(`${where}: HOST is ${text(host)}, containers need 0.0.0.0`);
  return problems;
}

function effectivePort(role: RoleInfo, values: Record<string, string>): number {
  return Number(values[role.portVariable] ?? defaultOf(role, role.portVariable));
}

/** Hosts and ports of a URL, including MongoDB's `host1:port,host2:port` lists. */
export function hostsOf(url: string): { scheme: string; host: string; port: number | undefined }[] {
  const m = /^([a-z][a-z0-9+.-]*):\/\/(?:[^@/]*@)?([^/?#]+)/i.exec(url);
  if (!m) return [];
  return m[2]!.split(',').map((hp) => {
    const [host = '', port] = hp.split(':');
    return { scheme: m[1]!.toLowerCase(), host, port: port === undefined ? undefined : Number(port) };
  });
}

function defaultPortOf(scheme: string): number | undefined {
  return ({ http: 80, https: 443 } as Record<string, number>)[scheme];
}

// ---- docker-compose.yml --------------------------------------------------------------------------------------

/** `${NAME:-default}` and friends become their default: the file must work with an empty environment. */
export function interpolate(value: string): string {
  return value
    .replace(/\$\{[A-Za-z_][A-Za-z0-9_]*(?::?[-?]([^}]*))?\}/g, (_m, fallback?: string) => fallback ?? '')
    .replace(/\$\$/g, '$');
}

function composeEnvironment(service: Obj): Record<string, string> {
  const env: Record<string, string> = {};
  const raw = service.environment;
  if (Array.isArray(raw))
    for (const item of raw) {
      const [k = '', ...v] = text(item).split('=');
      env[k] = interpolate(v.join('='));
    }
  else for (const [k, v] of Object.entries(obj(raw))) env[k] = interpolate(text(v ?? ''));
  return env;
}

/** The Dockerfile target of a compose service: `build.target`, or the `stacklink-<target>` image name. */
function composeTarget(service: Obj): string | undefined {
  const build = obj(service.build);
  if (typeof build.target === 'string') return build.target;
  const image = typeof service.image === 'string' ? service.image : '';
  return /^stacklink-([a-z0-9-]+)(:|$)/.exec(image)?.[1];
}

export function checkCompose(model: DeployModel): string[] {
  const problems: string[] = [];
  const services = obj(model.compose.services);
  const targets = new Set(model.dockerfile.stages.map((s) => s.name));
  const roleOf = new Map<string, { role: RoleInfo; env: Record<string, string> }>();

  for (const [name, raw] of Object.entries(services)) {
    const service = obj(raw);
    const where = `docker-compose.yml ${name}`;
    const target = composeTarget(service);
    if (target === undefined) continue;
    if (!targets.has(target)) {
      problems.push(`${where}: Dockerfile has no target ${target}`);
      continue;
    }
    const role = roleOfTarget(model, target);
    if (!role) {
      problems.push(`${where}: target ${target} runs no known role`);
      continue;
    }
    const env = composeEnvironment(service);
    const imageEnv = resolveStage(model.dockerfile, target)!.inheritedEnv;
    problems.push(...checkRoleEnvironment(where, role, new Set(Object.keys(env)), env, imageEnv));
    const port = effectivePort(role, env);
    for (const mapping of arr(service.ports)) {
      const containerPort = Number(text(mapping).split(':').pop()?.split('/')[0]);
      if (containerPort !== port)
        problems.push(`${where}: publishes container port ${containerPort}, ${role.role} listens on ${port}`);
    }
    roleOf.set(name, { role, env });
    for (const dependency of Object.keys(obj(service.depends_on)).concat(
      Array.isArray(service.depends_on) ? service.depends_on.map(String) : [],
    ))
      if (!(dependency in services))
        problems.push(`${where}: depends_on ${dependency}, which is not a service`);
  }

  // Every URL a role is given must name a compose service, on the port that service's role listens on.
  for (const [name, { env }] of roleOf)
    for (const [variable, value] of Object.entries(env))
      for (const { scheme, host, port } of hostsOf(value)) {
        const where = `docker-compose.yml ${name}: ${variable}`;
        if (host === 'localhost' || host === '127.0.0.1' || host.includes('.')) continue;
        if (!(host in services)) {
          problems.push(`${where} names host ${host}, which is not a compose service`);
          continue;
        }
        const callee = roleOf.get(host);
        const wanted = port ?? defaultPortOf(scheme);
        if (callee && wanted !== effectivePort(callee.role, callee.env))
          problems.push(
            `${where} uses port ${text(wanted)}, ${host} listens on ${effectivePort(callee.role, callee.env)}`,
          );
        const replicaSet = /[?&]replicaSet=([^&]+)/.exec(value)?.[1];
        if (scheme.startsWith('mongodb') && replicaSet) {
          const command = arr(obj(services[host]).command).map(String);
          if (command[command.indexOf('--replSet') + 1] !== replicaSet)
            problems.push(
              `${where} names replica set ${replicaSet}, ${host} does not run --replSet ${replicaSet}`,
            );
        }
      }

  // The proxy in front of the gateways: every upstream is a gateway on its port, every gateway is upstream.
  const gateways = [...roleOf].filter(([, r]) => r.role.role === 'gateway');
  for (const upstream of model.proxyUpstreams) {
    const gateway = roleOf.get(upstream.host);
    if (!gateway || gateway.role.role !== 'gateway')
      problems.push(`deploy/compose/nginx.conf: upstream ${upstream.host} is not a gateway service`);
    else if (upstream.port !== effectivePort(gateway.role, gateway.env))
      problems.push(
        `deploy/compose/nginx.conf: upstream ${upstream.host}:${upstream.port}, the gateway listens on ${effectivePort(gateway.role, gateway.env)}`,
      );
  }
  for (const [name] of gateways)
    if (!model.proxyUpstreams.some((u) => u.host === name))
      problems.push(`deploy/compose/nginx.conf: gateway ${name} is not in the upstream`);
  return problems;
}

// ---- Kubernetes -------------------------------------------------------------------------------------------------

interface Workload {
  deployment: Obj;
  name: string;
  container: Obj;
  role: RoleInfo;
  podLabels: Record<string, string>;
  /** Variables set, with the value where it is known (literal, or from a declared Secret/ConfigMap). */
  values: Record<string, string>;
  set: Set<string>;
  port: number;
}

/** The Dockerfile target an image names: `stacklink-<target>[:tag]` or `<registry>/…/<target>[:tag]`. */
export function targetOfImage(image: string): string {
  const last = image.split('/').pop() ?? '';
  return (last.split(':')[0] ?? '').replace(/^stacklink-/, '');
}

function dataOf(resource: Obj): Record<string, string> {
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj(resource.data)))
    data[k] = resource.kind === 'Secret' ? Buffer.from(text(v), 'base64').toString('utf8') : text(v);
  for (const [k, v] of Object.entries(obj(resource.stringData))) data[k] = text(v);
  return data;
}

function labelsMatch(selector: unknown, labels: Record<string, string>): boolean {
  const wanted = obj(obj(selector).matchLabels);
  return Object.entries(wanted).every(([k, v]) => labels[k] === text(v));
}

function portNumber(container: Obj, port: unknown): number | undefined {
  if (typeof port === 'number') return port;
  const named = arr(container.ports)
    .map(obj)
    .find((p) => p.name === port);
  return named === undefined ? undefined : Number(named.containerPort);
}

export function checkKubernetes(model: DeployModel, rendered: { name: string; resources: Obj[] }): string[] {
  const problems: string[] = [];
  const resources = rendered.resources;
  const of = (kind: string) => resources.filter((r) => r.kind === kind);
  const targets = new Set(model.dockerfile.stages.map((s) => s.name));
  const where = (kind: string, name: string) => `deploy/k8s/${rendered.name} ${kind}/${name}`;
  const namespace = text(
    obj(resources.find((r) => obj(r.metadata).namespace !== undefined)?.metadata).namespace ?? '',
  );
  const configs = new Map<string, Record<string, string>>();
  for (const r of [...of('Secret'), ...of('ConfigMap')])
    configs.set(`${text(r.kind)}/${nameOf(r)}`, dataOf(r));

  // Workloads: every container of every Deployment is a role, configured as that role reads it.
  const workloads: Workload[] = [];
  for (const deployment of of('Deployment')) {
    const name = nameOf(deployment);
    const spec = obj(deployment.spec);
    const podLabels = obj(obj(obj(spec.template).metadata).labels) as Record<string, string>;
    if (!labelsMatch(spec.selector, podLabels))
      problems.push(`${where('Deployment', name)}: selector does not match its pod labels`);
    for (const container of containersOf(deployment)) {
      const at = `${where('Deployment', name)} container ${text(container.name)}`;
      const target = targetOfImage(text(container.image));
      if (!targets.has(target)) {
        problems.push(`${at}: image ${text(container.image)} is no Dockerfile target`);
        continue;
      }
      const role = roleOfTarget(model, target);
      if (!role) {
        problems.push(`${at}: target ${target} runs no known role`);
        continue;
      }
      const values: Record<string, string> = {};
      const set = new Set<string>();
      for (const e of arr(container.env).map(obj)) {
        const envName = text(e.name);
        set.add(envName);
        if (e.value !== undefined) values[envName] = text(e.value);
        const from = obj(e.valueFrom);
        for (const [refKind, kind] of [
          ['secretKeyRef', 'Secret'],
          ['configMapKeyRef', 'ConfigMap'],
        ] as const) {
          const ref = obj(from[refKind]);
          if (Object.keys(ref).length === 0) continue;
          const data = configs.get(`${kind}/${text(ref.name)}`);
          if (!data)
            problems.push(`${at}: ${envName} refers to ${kind} ${text(ref.name)}, which is not declared`);
          else if (!(text(ref.key) in data))
            problems.push(
              `${at}: ${envName} refers to key ${text(ref.key)}, which ${kind} ${text(ref.name)} lacks`,
            );
          else if (data[text(ref.key)] !== '') values[envName] = data[text(ref.key)]!;
        }
      }
      for (const source of arr(container.envFrom).map(obj)) {
        for (const [refKind, kind] of [
          ['secretRef', 'Secret'],
          ['configMapRef', 'ConfigMap'],
        ] as const) {
          const ref = obj(source[refKind]);
          if (Object.keys(ref).length === 0) continue;
          const data = configs.get(`${kind}/${text(ref.name)}`);
          if (!data) problems.push(`${at}: envFrom ${kind} ${text(ref.name)} is not declared`);
          for (const [k, v] of Object.entries(data ?? {})) {
            set.add(k);
            if (v !== '') values[k] = v;
          }
        }
      }
      const imageEnv = resolveStage(model.dockerfile, target)!.inheritedEnv;
      problems.push(...checkRoleEnvironment(at, role, set, values, imageEnv));
      const port = effectivePort(role, values);

      const http = arr(container.ports)
        .map(obj)
        .find((p) => p.name === 'http');
      if (!http || Number(http.containerPort) !== port)
        problems.push(
          `${at}: containerPort http is ${text(http?.containerPort)}, ${role.role} listens on ${port}`,
        );
      for (const [probe, wanted] of [
        ['readinessProbe', READINESS_PATH],
        ['livenessProbe', LIVENESS_PATH],
      ] as const) {
        const get = obj(obj(container[probe]).httpGet);
        if (Object.keys(get).length === 0) {
          problems.push(`${at}: no ${probe} httpGet`);
          continue;
        }
        if (get.path !== wanted)
          problems.push(`${at}: ${probe} path ${text(get.path)}, it must be ${wanted}`);
        if (portNumber(container, get.port) !== port)
          problems.push(`${at}: ${probe} port ${text(get.port)} is not ${role.role}'s port ${port}`);
      }
      const annotations = obj(obj(obj(spec.template).metadata).annotations);
      if (
        annotations['prometheus.io/port'] !== undefined &&
        Number(annotations['prometheus.io/port']) !== port
      )
        problems.push(
          `${at}: prometheus.io/port ${text(annotations['prometheus.io/port'])}, /metrics is on ${port}`,
        );
      const requests = obj(obj(container.resources).requests);
      const limits = obj(obj(container.resources).limits);
      if (!requests.cpu || !requests.memory || !limits.memory)
        problems.push(`${at}: needs cpu and memory requests and a memory limit`);
      workloads.push({ deployment, name, container, role, podLabels, values, set, port });
    }
  }
  const byName = (name: string) => workloads.find((w) => w.name === name);

  // Disruption budgets for every workload.
  for (const w of workloads)
    if (!of('PodDisruptionBudget').some((p) => labelsMatch(obj(p.spec).selector, w.podLabels)))
      problems.push(`${where('Deployment', w.name)}: no PodDisruptionBudget selects its pods`);

  // Autoscalers point at workloads, and a workload they own has no fixed replica count.
  const autoscaled = new Set<string>();
  for (const hpa of of('HorizontalPodAutoscaler')) {
    const target = text(obj(obj(hpa.spec).scaleTargetRef).name);
    const w = byName(target);
    if (!w) {
      problems.push(
        `${where('HorizontalPodAutoscaler', nameOf(hpa))}: scales ${target}, which is not a Deployment`,
      );
      continue;
    }
    autoscaled.add(target);
    const cpu = arr(obj(hpa.spec).metrics).some((m) => obj(obj(m).resource).name === 'cpu');
    if (cpu && !obj(obj(w.container.resources).requests).cpu)
      problems.push(
        `${where('HorizontalPodAutoscaler', nameOf(hpa))}: scales on CPU but ${target} requests no CPU`,
      );
  }
  for (const scaled of of('ScaledObject')) {
    const at = where('ScaledObject', nameOf(scaled));
    const target = text(obj(obj(scaled.spec).scaleTargetRef).name);
    const w = byName(target);
    if (!w) {
      problems.push(`${at}: scales ${target}, which is not a Deployment`);
      continue;
    }
    autoscaled.add(target);
    for (const trigger of arr(obj(scaled.spec).triggers).map(obj)) {
      if (trigger.type !== 'rabbitmq') continue;
      const metadata = obj(trigger.metadata);
      if (!w.role.queue) {
        problems.push(`${at}: ${w.role.role} consumes no queue to scale on`);
        continue;
      }
      const queue = physicalQueueName(
        w.values.NAMESPACE ?? text(defaultOf(w.role, 'NAMESPACE') ?? ''),
        w.role.queue,
      );
      if (metadata.queueName !== queue)
        problems.push(`${at}: watches queue ${text(metadata.queueName)}, ${w.role.role} consumes ${queue}`);
      const hostFromEnv = metadata.hostFromEnv;
      if (hostFromEnv !== undefined && !w.set.has(text(hostFromEnv)))
        problems.push(`${at}: hostFromEnv ${text(hostFromEnv)} is not set on ${target}`);
    }
  }
  for (const w of workloads) {
    if (w.role.queue && !of('ScaledObject').some((s) => obj(obj(s.spec).scaleTargetRef).name === w.name))
      problems.push(
        `${where('Deployment', w.name)}: ${w.role.role} scales on ${w.role.queue} but no ScaledObject watches it`,
      );
    if (autoscaled.has(w.name) && obj(w.deployment.spec).replicas !== undefined)
      problems.push(`${where('Deployment', w.name)}: sets replicas although an autoscaler owns them`);
  }

  // Services route to a workload's port.
  const serviceWorkloads = (service: Obj) =>
    workloads.filter(
      (w) =>
        Object.keys(obj(obj(service.spec).selector)).length > 0 &&
        Object.entries(obj(obj(service.spec).selector)).every(([k, v]) => w.podLabels[k] === text(v)),
    );
  for (const service of of('Service')) {
    const backends = serviceWorkloads(service);
    for (const p of arr(obj(service.spec).ports).map(obj))
      for (const w of backends)
        if (portNumber(w.container, p.targetPort ?? p.port) !== w.port)
          problems.push(
            `${where('Service', nameOf(service))}: targetPort ${text(p.targetPort)} is not ${w.role.role}'s port ${w.port}`,
          );
  }

  // URLs given to workloads name a Service (or a backing service the operators create) on the right port,
  // and a NetworkPolicy lets the caller through.
  const operatorHosts = new Set<string>();
  for (const r of of('RabbitmqCluster')) operatorHosts.add(nameOf(r));
  for (const r of of('MongoDBCommunity')) {
    operatorHosts.add(`${nameOf(r)}-svc`);
    for (let i = 0; i < Number(obj(r.spec).members ?? 0); i++)
      operatorHosts.add(`${nameOf(r)}-${i}.${nameOf(r)}-svc`);
  }
  const shortHost = (host: string) =>
    host
      .replace(new RegExp(`\\.${namespace}(\\.svc(\\.cluster\\.local)?)?$`), '')
      .replace(/\.svc(\.cluster\.local)?$/, '');
  for (const caller of workloads)
    for (const [variable, value] of Object.entries(caller.values)) {
      const replicaSet = /[?&]replicaSet=([^&]+)/.exec(value)?.[1];
      if (
        value.startsWith('mongodb') &&
        replicaSet &&
        !of('MongoDBCommunity').some((m) => nameOf(m) === replicaSet)
      )
        problems.push(
          `${where('Deployment', caller.name)}: ${variable} names replica set ${replicaSet}, which no MongoDBCommunity declares`,
        );
      for (const { scheme, host: fullHost, port } of hostsOf(value)) {
        const at = `${where('Deployment', caller.name)}: ${variable}`;
        const host = shortHost(fullHost);
        const service = of('Service').find((s) => nameOf(s) === host);
        if (!service) {
          if (!operatorHosts.has(host) && !host.includes('.') && host !== 'localhost')
            problems.push(`${at} names host ${host}, which is no Service here`);
          continue;
        }
        const wanted = port ?? defaultPortOf(scheme);
        const servicePort = arr(obj(service.spec).ports)
          .map(obj)
          .find((p) => Number(p.port) === wanted);
        if (!servicePort) {
          problems.push(`${at} uses port ${text(wanted)}, Service ${host} has no such port`);
          continue;
        }
        for (const callee of serviceWorkloads(service)) {
          const allowed = of('NetworkPolicy').some((policy) => {
            const spec = obj(policy.spec);
            if (!labelsMatch(spec.podSelector, callee.podLabels)) return false;
            return arr(spec.ingress)
              .map(obj)
              .some(
                (rule) =>
                  arr(rule.from).some((peer) => {
                    const p = obj(peer);
                    return (
                      p.namespaceSelector === undefined &&
                      p.podSelector !== undefined &&
                      labelsMatch(p.podSelector, caller.podLabels)
                    );
                  }) &&
                  (rule.ports === undefined ||
                    arr(rule.ports).some((rp) => portNumber(callee.container, obj(rp).port) === callee.port)),
              );
          });
          if (!allowed)
            problems.push(
              `${at}: no NetworkPolicy lets ${caller.name} reach ${callee.name} on port ${callee.port}`,
            );
        }
      }
    }

  // Only the gateway is reachable from outside: deny by default, external peers only for gateway pods,
  // and the Ingress routes only to gateway Services.
  if (
    !workloads.every((w) =>
      of('NetworkPolicy').some((p) => {
        const spec = obj(p.spec);
        return (
          labelsMatch(spec.podSelector, w.podLabels) &&
          arr(spec.policyTypes).includes('Ingress') &&
          arr(spec.ingress).length === 0
        );
      }),
    )
  )
    problems.push(
      `deploy/k8s/${rendered.name}: not every workload is under a default-deny ingress NetworkPolicy`,
    );
  for (const policy of of('NetworkPolicy')) {
    const spec = obj(policy.spec);
    for (const rule of arr(spec.ingress).map(obj)) {
      const peers = arr(rule.from).map(obj);
      const external =
        peers.length === 0 ||
        peers.some((p) => {
          if (p.ipBlock !== undefined) return true;
          if (p.namespaceSelector === undefined) return false;
          const ns = obj(obj(p.namespaceSelector).matchLabels)['kubernetes.io/metadata.name'];
          return !MONITORING_NAMESPACES.has(text(ns));
        });
      if (!external) continue;
      for (const w of workloads)
        if (labelsMatch(spec.podSelector, w.podLabels) && !PUBLIC_ROLES.has(w.role.role))
          problems.push(
            `${where('NetworkPolicy', nameOf(policy))}: admits traffic from outside to ${w.name}`,
          );
    }
  }
  for (const ingress of of('Ingress'))
    for (const rule of arr(obj(ingress.spec).rules).map(obj))
      for (const p of arr(obj(rule.http).paths).map(obj)) {
        const backend = obj(obj(p.backend).service);
        const service = of('Service').find((s) => nameOf(s) === backend.name);
        const backends = service ? serviceWorkloads(service) : [];
        if (backends.length === 0 || backends.some((w) => !PUBLIC_ROLES.has(w.role.role)))
          problems.push(
            `${where('Ingress', nameOf(ingress))}: routes to ${text(backend.name)}, which is neither the gateway nor the console`,
          );
        const port = obj(backend.port);
        if (
          service &&
          !arr(obj(service.spec).ports).some(
            (sp) => obj(sp).name === port.name || Number(obj(sp).port) === Number(port.number),
          )
        )
          problems.push(
            `${where('Ingress', nameOf(ingress))}: Service ${text(backend.name)} has no port ${text(port.name ?? port.number)}`,
          );
      }
  return problems;
}
