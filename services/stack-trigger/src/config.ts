import { Joi, loadConfig, sharedVariables, validators, type Env } from '@stacklink/config';

/** The variables of the stack-trigger processes (docs/architecture.md §2); nothing else reads process.env. */
export const configSchema = Joi.object({
  ROLE: Joi.string().valid('api', 'trigger', 'reporter').default('api'),
  PORT: sharedVariables.PORT.default(8082),
  /** Interface to listen on; loopback by default, `0.0.0.0` in a container. */
  HOST: Joi.string().default('127.0.0.1'),
  STORE_URL: sharedVariables.STORE_URL,
  REDIS_URL: sharedVariables.REDIS_URL,
  RABBITMQ_URL: sharedVariables.RABBITMQ_URL,
  ADMIN_TOKEN: sharedVariables.ADMIN_TOKEN,
  INTERNAL_TOKEN: sharedVariables.INTERNAL_TOKEN,
  INTEGRATION_URL: validators.httpUrl.default('http://127.0.0.1:8081'),
  PUBLIC_UI_URL: sharedVariables.PUBLIC_UI_URL,
  LOG_LEVEL: sharedVariables.LOG_LEVEL,
  NAMESPACE: sharedVariables.NAMESPACE,
  MAX_RUNS_PER_EVENT: Joi.number().integer().min(1).max(10_000).default(100),
  /** How long a handed-out run may go without a report before its lease expires (docs/decisions/004). */
  RUN_LEASE_SECONDS: Joi.number().integer().min(5).max(86_400).default(900),
  /** How often expired leases are looked for. */
  LEASE_SWEEP_INTERVAL_MS: Joi.number().integer().min(100).max(600_000).default(5000),
});

export interface Config {
  ROLE: 'api' | 'trigger' | 'reporter';
  PORT: number;
  HOST: string;
  STORE_URL: string;
  REDIS_URL: string;
  RABBITMQ_URL: string;
  ADMIN_TOKEN: string;
  INTERNAL_TOKEN: string;
  INTEGRATION_URL: string;
  PUBLIC_UI_URL: string;
  LOG_LEVEL: string;
  NAMESPACE: string;
  MAX_RUNS_PER_EVENT: number;
  RUN_LEASE_SECONDS: number;
  LEASE_SWEEP_INTERVAL_MS: number;
}

export function readConfig(env: Env = process.env): Config {
  return loadConfig<Config>(configSchema, env);
}
