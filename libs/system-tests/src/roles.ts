import type Joi from 'joi';
import { consoleConfigSchema } from '@stacklink/console';
import { integrationConfigSchema } from '@stacklink/integration';
import { runnerConfigSchema } from '@stacklink/runner';
import {
  apiConfigSchema,
  reconcilerConfigSchema,
  reporterConfigSchema,
  triggerConfigSchema,
} from '@stacklink/stack-trigger';
import { gatewayConfigSchema } from '@stacklink/webhook-gateway';

/**
 * Every process role of docs/architecture.md §2 with the joi schema that is the truth about its environment.
 */
export interface RoleSpec {
  /** The name `make up ROLES=` uses. */
  role: string;
  /** What it is, for people. */
  title: string;
  /** Compiled entry point, relative to the repository root. */
  entry: string;
  schema: Joi.ObjectSchema;
}

export const ROLES: readonly RoleSpec[] = [
  {
    role: 'gateway',
    title: 'webhook-gateway',
    entry: 'services/webhook-gateway/dist/src/roles/gateway.js',
    schema: gatewayConfigSchema,
  },
  {
    role: 'integration',
    title: 'integration service (API)',
    entry: 'services/integration/dist/src/roles/integration.js',
    schema: integrationConfigSchema,
  },
  {
    role: 'stack-trigger',
    title: 'stack-trigger API',
    entry: 'services/stack-trigger/dist/src/roles/api.js',
    schema: apiConfigSchema,
  },
  {
    role: 'trigger',
    title: 'stack-trigger `trigger` worker',
    entry: 'services/stack-trigger/dist/src/roles/trigger.js',
    schema: triggerConfigSchema,
  },
  {
    role: 'reporter',
    title: 'stack-trigger `reporter` worker',
    entry: 'services/stack-trigger/dist/src/roles/reporter.js',
    schema: reporterConfigSchema,
  },
  {
    role: 'reconciler',
    title: 'stack-trigger `reconciler` (managed webhooks, missed-event recovery)',
    entry: 'services/stack-trigger/dist/src/roles/reconciler.js',
    schema: reconcilerConfigSchema,
  },
  {
    role: 'runner',
    title: 'reference runner',
    entry: 'services/runner/dist/src/roles/runner.js',
    schema: runnerConfigSchema,
  },
  {
    role: 'console',
    title: 'web console',
    entry: 'services/console/dist/src/roles/console.js',
    schema: consoleConfigSchema,
  },
];

export interface VariableSpec {
  name: string;
  required: boolean;
  default: unknown;
  type: string;
  allowed: unknown[];
  rules: string[];
}

interface Described {
  type?: string;
  flags?: { default?: unknown; presence?: string };
  allow?: unknown[];
  rules?: { name: string; args?: Record<string, unknown> }[];
  keys?: Record<string, Described>;
}

/** The variables a role reads, from its joi schema (`describe()`), in schema order. */
export function variablesOf(schema: Joi.ObjectSchema): VariableSpec[] {
  const described = schema.describe() as Described;
  return Object.entries(described.keys ?? {}).map(([name, d]) => ({
    name,
    required: d.flags?.presence === 'required',
    default: d.flags?.default,
    type: d.type ?? 'any',
    allowed: d.allow ?? [],
    rules: (d.rules ?? []).map((r) => describeRule(r)),
  }));
}

/** A limit is a number or, for a reference to another variable (`Joi.ref`), that variable's name. */
function limitText(limit: unknown): string {
  if (typeof limit === 'object' && limit !== null && 'ref' in limit) {
    const path = (limit as { ref: { path?: unknown[] } }).ref.path;
    return Array.isArray(path) ? `\`${path.map((p) => String(p)).join('.')}\`` : 'another variable';
  }
  return String(limit);
}

function describeRule(rule: { name: string; args?: Record<string, unknown> }): string {
  const args = rule.args ?? {};
  switch (rule.name) {
    case 'min':
    case 'max':
      return `${rule.name} ${limitText(args.limit)}`;
    case 'uri': {
      const scheme = (args.options as { scheme?: unknown } | undefined)?.scheme;
      const schemes = Array.isArray(scheme) ? scheme.map((s) => String(s)).join('/') : 'any';
      return `URL (${schemes})`;
    }
    case 'pattern': {
      const name = (args.options as { name?: string } | undefined)?.name;
      return name ? `format ${name}` : 'pattern';
    }
    case 'port':
      return 'port';
    case 'integer':
      return 'integer';
    case 'base64':
      return 'base64';
    case 'custom':
      return typeof args.description === 'string' ? args.description : 'custom';
    default:
      return rule.name;
  }
}
