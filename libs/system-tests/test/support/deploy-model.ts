import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { createNamer } from '@stacklink/bus';
import { RUNS_READY_QUEUE, STATUS_UPDATES_QUEUE, VCS_EVENTS_QUEUE } from '@stacklink/contracts';
import { ROLES, variablesOf, type VariableSpec } from '../../src';

/**
 * Everything the deployment-consistency checks compare, loaded from the repository: the roles as the
 * code defines them (joi schemas, entry points, queues) and the deployment files as written (Dockerfile,
 * docker-compose.yml, the proxy's upstreams, the kustomize base and overlays rendered). Plain data, so a
 * test can mutate a copy and expect the checks to notice.
 */
export interface DeployModel {
  roles: RoleInfo[];
  dockerfile: DockerfileModel;
  compose: Obj;
  /** `server host:port` lines of deploy/compose/nginx.conf's upstream. */
  proxyUpstreams: { host: string; port: number }[];
  /**
   * Every deployable kustomization (deploy/k8s/overlays/*) rendered, by directory relative to deploy/k8s.
   * The base is checked through them: on its own it lacks the backing services its URLs name.
   */
  kubernetes: { name: string; resources: Obj[]; problems: string[] }[];
}

export interface RoleInfo {
  role: string;
  entry: string;
  variables: VariableSpec[];
  /** The variable holding the port of /healthz, /readyz and /metrics. */
  portVariable: string;
  /** The queue whose depth this role scales on (docs/architecture.md §2), logical name. */
  queue?: string;
  /** Problems joi finds in these values (only the variables given are judged). */
  validate(env: Record<string, string>): { variable: string; message: string }[];
}

export interface DockerStage {
  name: string;
  from: string;
  env: Record<string, string>;
  cmd?: string[];
  healthcheck?: string[];
  expose: number[];
  copies: string[];
}

export interface DockerfileModel {
  stages: DockerStage[];
}

export type Obj = Record<string, unknown>;

export const REPO_ROOT = path.resolve(__dirname, '../../../../..');

/** The queue each worker role consumes, by role (docs/architecture.md §2, "scales on"). */
const ROLE_QUEUES: Record<string, string> = {
  trigger: VCS_EVENTS_QUEUE,
  reporter: STATUS_UPDATES_QUEUE,
  runner: RUNS_READY_QUEUE,
};

/** The physical queue name under a NAMESPACE, by the bus's own rule. */
export function physicalQueueName(namespace: string, queue: string): string {
  return createNamer(namespace).physical(queue);
}

export function loadDeployModel(root = REPO_ROOT): DeployModel {
  const k8sRoot = path.join(root, 'deploy/k8s');
  return {
    roles: loadRoles(root),
    dockerfile: parseDockerfile(readFileSync(path.join(root, 'deploy/Dockerfile'), 'utf8')),
    compose: obj(parse(readFileSync(path.join(root, 'docker-compose.yml'), 'utf8'), { merge: true })),
    proxyUpstreams: parseNginxUpstreams(readFileSync(path.join(root, 'deploy/compose/nginx.conf'), 'utf8')),
    kubernetes: readdirSync(path.join(k8sRoot, 'overlays'))
      .map((overlay) => `overlays/${overlay}`)
      .map((name) => ({
        name,
        ...renderKustomization(path.join(k8sRoot, name)),
      })),
  };
}

function loadRoles(root: string): RoleInfo[] {
  const roles: RoleInfo[] = ROLES.map((r) => {
    const variables = variablesOf(r.schema);
    const portVariable = variables.find((v) => v.rules.includes('port'))?.name ?? 'PORT';
    return {
      role: r.role,
      entry: r.entry,
      variables,
      portVariable,
      ...(ROLE_QUEUES[r.role] ? { queue: ROLE_QUEUES[r.role] } : {}),
      validate(env) {
        const given = new Set(Object.keys(env));
        const result = r.schema.validate(env, { abortEarly: false, allowUnknown: true });
        return (result.error?.details ?? [])
          .map((d) => ({ variable: text(d.path[0] ?? ''), message: d.message }))
          .filter((p) => given.has(p.variable));
      },
    };
  });
  roles.push(simulatorRole(root));
  return roles;
}

/**
 * The simulator (demo only) reads process.env directly rather than through joi; its variables and
 * defaults are read from its entry's source (`env.NAME ?? default`).
 */
function simulatorRole(root: string): RoleInfo {
  const source = readFileSync(path.join(root, 'libs/bitbucket-simulator/src/main.ts'), 'utf8');
  const variables = new Map<string, VariableSpec>();
  for (const m of source.matchAll(/env\.([A-Z][A-Z0-9_]*)(?:\s*\?\?\s*(?:'([^']*)'|(\d+)))?/g)) {
    const name = m[1]!;
    const fallback = m[2] ?? (m[3] === undefined ? undefined : Number(m[3]));
    if (!variables.has(name) || fallback !== undefined)
      variables.set(name, {
        name,
        required: false,
        default: fallback,
        type: 'string',
        allowed: [],
        rules: name === 'PORT' ? ['port'] : [],
      });
  }
  return {
    role: 'simulator',
    entry: 'libs/bitbucket-simulator/dist/src/main.js',
    variables: [...variables.values()],
    portVariable: 'PORT',
    validate: () => [],
  };
}

// ---- Dockerfile -----------------------------------------------------------------------------------------

export function parseDockerfile(text: string): DockerfileModel {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && current === '')) continue;
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    logical.push(current + line);
    current = '';
  }
  const stages: DockerStage[] = [];
  for (const instruction of logical) {
    const [keyword = '', ...rest] = instruction.split(/\s+/);
    const args = rest.join(' ');
    const stage = stages[stages.length - 1];
    switch (keyword.toUpperCase()) {
      case 'FROM': {
        const m = /^(\S+)(?:\s+AS\s+(\S+))?/i.exec(args);
        stages.push({
          name: m?.[2] ?? `stage-${stages.length}`,
          from: m?.[1] ?? '',
          env: {},
          expose: [],
          copies: [],
        });
        break;
      }
      case 'ENV':
        if (stage) Object.assign(stage.env, parseEnvInstruction(args));
        break;
      case 'CMD':
        if (stage) stage.cmd = JSON.parse(args) as string[];
        break;
      case 'HEALTHCHECK': {
        const m = /\bCMD\s+(\[.*\])\s*$/.exec(args);
        if (stage && m) stage.healthcheck = JSON.parse(m[1]!) as string[];
        break;
      }
      case 'EXPOSE':
        if (stage) stage.expose.push(...args.split(/\s+/).map((p) => Number(p.split('/')[0])));
        break;
      case 'COPY':
        if (stage && !args.includes('--from=')) stage.copies.push(args.split(/\s+/)[0] ?? '');
        break;
      default:
        break;
    }
  }
  return { stages };
}

function parseEnvInstruction(args: string): Record<string, string> {
  if (!args.includes('=')) {
    const [name = '', ...value] = args.split(/\s+/);
    return { [name]: value.join(' ') };
  }
  const env: Record<string, string> = {};
  for (const m of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("([^"]*)"|\S*)/g)) env[m[1]!] = m[3] ?? m[2] ?? '';
  return env;
}

/** A stage with what it inherits from the stages it is built FROM. */
export function resolveStage(
  dockerfile: DockerfileModel,
  name: string,
): (DockerStage & { inheritedEnv: Record<string, string> }) | undefined {
  const chain: DockerStage[] = [];
  let stage = dockerfile.stages.find((s) => s.name === name);
  while (stage && !chain.includes(stage)) {
    chain.unshift(stage);
    const parent = stage.from;
    stage = dockerfile.stages.find((s) => s.name === parent);
  }
  const own = chain[chain.length - 1];
  if (!own) return undefined;
  const inheritedEnv = Object.assign({}, ...chain.map((s) => s.env)) as Record<string, string>;
  const pick = <K extends 'cmd' | 'healthcheck'>(key: K) =>
    [...chain].reverse().find((s) => s[key] !== undefined)?.[key];
  const cmd = pick('cmd');
  const healthcheck = pick('healthcheck');
  return {
    ...own,
    inheritedEnv,
    expose: chain.flatMap((s) => s.expose),
    copies: chain.flatMap((s) => s.copies),
    ...(cmd ? { cmd } : {}),
    ...(healthcheck ? { healthcheck } : {}),
  };
}

// ---- nginx ------------------------------------------------------------------------------------------------

export function parseNginxUpstreams(text: string): { host: string; port: number }[] {
  const upstream = /upstream\s+\S+\s*\{([^}]*)\}/.exec(text)?.[1] ?? '';
  return [...upstream.matchAll(/^\s*server\s+([^:\s;]+):(\d+)/gm)].map((m) => ({
    host: m[1]!,
    port: Number(m[2]),
  }));
}

// ---- kustomize (the subset these manifests use) -------------------------------------------------------------

/**
 * Renders a kustomization the way `kubectl kustomize` would for the features used here: resources
 * (files and directories), secretGenerator (env files; a missing one is read from `<file>.example`),
 * patches (strategic merge: maps merge, lists of named items merge by name, other lists are replaced),
 * images and namespace.
 */
export function renderKustomization(dir: string): { resources: Obj[]; problems: string[] } {
  const problems: string[] = [];
  const kustomization = obj(parse(readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8')));
  const resources: Obj[] = [];
  for (const entry of arr(kustomization.resources)) {
    const target = path.join(dir, text(entry));
    if (existsSync(target) && statSync(target).isDirectory()) {
      const rendered = renderKustomization(target);
      resources.push(...rendered.resources);
      problems.push(...rendered.problems);
    } else if (existsSync(target)) resources.push(...parseYamlDocuments(readFileSync(target, 'utf8')));
    else problems.push(`${path.basename(dir)}/kustomization.yaml: resource ${text(entry)} does not exist`);
  }
  for (const generator of arr(kustomization.secretGenerator).map(obj)) {
    const data: Record<string, string> = {};
    for (const file of arr(generator.envs)) {
      const real = path.join(dir, text(file));
      const source = existsSync(real) ? real : `${real}.example`;
      if (!existsSync(source)) {
        problems.push(
          `secretGenerator ${text(generator.name)}: neither ${text(file)} nor its .example exists`,
        );
        continue;
      }
      Object.assign(data, parseEnvFile(readFileSync(source, 'utf8')));
    }
    for (const literal of arr(generator.literals)) {
      const [k = '', ...v] = text(literal).split('=');
      data[k] = v.join('=');
    }
    resources.push({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: generator.name },
      stringData: data,
    });
  }
  for (const patch of arr(kustomization.patches).map(obj)) {
    const file = path.join(dir, text(patch.path));
    for (const doc of parseYamlDocuments(readFileSync(file, 'utf8'))) {
      const target = resources.find((r) => r.kind === doc.kind && nameOf(r) === nameOf(doc));
      if (!target)
        problems.push(
          `patch ${text(patch.path)} targets ${text(doc.kind)}/${nameOf(doc)}, which is not declared`,
        );
      else Object.assign(target, strategicMerge(target, doc));
    }
  }
  for (const image of arr(kustomization.images).map(obj)) {
    for (const container of resources.flatMap(containersOf)) {
      const [name] = text(container.image).split(':');
      if (name === image.name)
        container.image = `${text(image.newName ?? name)}${image.newTag ? `:${text(image.newTag)}` : ''}`;
    }
  }
  if (typeof kustomization.namespace === 'string')
    for (const r of resources)
      if (r.kind !== 'Namespace') obj(r.metadata).namespace = kustomization.namespace;
  return { resources, problems };
}

export function parseYamlDocuments(text: string): Obj[] {
  const docs = parseAllDocuments(text, { merge: true });
  if (!Array.isArray(docs)) return [];
  return docs
    .map((d) => {
      if (d.errors.length > 0) throw new Error(d.errors.map((e) => e.message).join('; '));
      return obj(d.toJS());
    })
    .filter((d) => Object.keys(d).length > 0);
}

export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m) env[m[1]!] = m[2]!.trim();
  }
  return env;
}

function strategicMerge(base: unknown, patch: unknown): unknown {
  if (isObj(base) && isObj(patch)) {
    const merged: Obj = { ...base };
    for (const [k, v] of Object.entries(patch)) merged[k] = k in base ? strategicMerge(base[k], v) : v;
    return merged;
  }
  const baseItems = arr(base);
  const patchItems = arr(patch);
  const named = (items: unknown[]) => items.every((i) => isObj(i) && 'name' in i);
  if (Array.isArray(base) && Array.isArray(patch) && named(baseItems) && named(patchItems)) {
    const merged = baseItems.map((item): unknown => {
      const over = patchItems.find((p) => obj(p).name === obj(item).name);
      return over === undefined ? item : strategicMerge(item, over);
    });
    for (const p of patchItems) if (!baseItems.some((b) => obj(b).name === obj(p).name)) merged.push(p);
    return merged;
  }
  return patch;
}

// ---- small accessors over parsed YAML -------------------------------------------------------------------------

export function isObj(x: unknown): x is Obj {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
export function obj(x: unknown): Obj {
  return isObj(x) ? x : {};
}
export function arr(x: unknown): unknown[] {
  return Array.isArray(x) ? x : [];
}
/** A parsed YAML scalar as text; objects as JSON, so a wrong shape shows in a message. */
export function text(x: unknown): string {
  if (typeof x === 'string') return x;
  if (typeof x === 'number' || typeof x === 'boolean' || typeof x === 'bigint') return `${x}`;
  return x === undefined || x === null ? '' : JSON.stringify(x);
}
export function nameOf(resource: Obj): string {
  return text(obj(resource.metadata).name ?? '');
}
/** Containers of a Deployment (its pod template), or none. */
export function containersOf(resource: Obj): Obj[] {
  if (resource.kind !== 'Deployment') return [];
  return arr(obj(obj(obj(resource.spec).template).spec).containers).map(obj);
}
