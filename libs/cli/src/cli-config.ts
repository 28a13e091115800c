import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describeConfigError, Joi, loadConfig, type Env } from '@stacklink/config';
import { CliError, EXIT } from './exit-codes';

/** Where the APIs answer and the tokens to use; nothing else in libs/cli reads the environment. */
export interface CliConfig {
  integrationUrl: string;
  apiUrl: string;
  /** ADMIN_TOKEN of the public APIs. */
  token: string | undefined;
  /** INTERNAL_TOKEN: `dead-letters` and `status` read stack-trigger's internal API. */
  internalToken: string | undefined;
  /** Optional: the gateway, for `status`. */
  gatewayUrl: string | undefined;
}

const url = Joi.string().uri({ scheme: ['http', 'https'] });

const schema = Joi.object({
  STACKLINK_INTEGRATION_URL: url.default('http://127.0.0.1:8081'),
  STACKLINK_API_URL: url.default('http://127.0.0.1:8082'),
  STACKLINK_GATEWAY_URL: url,
  STACKLINK_TOKEN: Joi.string().min(1),
  STACKLINK_INTERNAL_TOKEN: Joi.string().min(1),
});

/**
 * `KEY=value` lines of `make up`'s development credentials (`./.run/dev.env`), when the command runs
 * inside the repository: STACKLINK_TOKEN and STACKLINK_INTERNAL_TOKEN default to its ADMIN_TOKEN and
 * INTERNAL_TOKEN. The environment always wins.
 */
export function readDevEnv(file: string): Env {
  if (!existsSync(file)) return {};
  const values: Env = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (match) values[match[1]!] = match[2]!;
  }
  return values;
}

/** The environment's STACKLINK_* (a shell's own ADMIN_TOKEN is a service's, not the command's). */
export function loadCliConfig(env: Env, cwd: string): CliConfig {
  let c: Record<string, string | undefined>;
  try {
    c = loadConfig<Record<string, string | undefined>>(schema, env);
  } catch (err) {
    throw new CliError(EXIT.USAGE, describeConfigError(err));
  }
  const devEnv = readDevEnv(path.join(cwd, '.run', 'dev.env'));
  return {
    integrationUrl: c.STACKLINK_INTEGRATION_URL!.replace(/\/+$/, ''),
    apiUrl: c.STACKLINK_API_URL!.replace(/\/+$/, ''),
    gatewayUrl: c.STACKLINK_GATEWAY_URL?.replace(/\/+$/, ''),
    token: c.STACKLINK_TOKEN ?? nonEmpty(devEnv.ADMIN_TOKEN),
    internalToken: c.STACKLINK_INTERNAL_TOKEN ?? nonEmpty(devEnv.INTERNAL_TOKEN),
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
