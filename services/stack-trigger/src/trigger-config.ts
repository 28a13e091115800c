import { Joi, loadConfig, sharedVariables, type Env } from '@stacklink/config';
import { configSchema } from './config';

/**
 * The `trigger` role's variables (docs/architecture.md §2, §7). Its own schema beside config.ts, like the
 * reporter's: it serves no public API (no ADMIN_TOKEN) and has the Bitbucket paging settings.
 */
export const triggerConfigSchema = Joi.object({
  /** Port of /healthz, /readyz and /metrics (the worker serves nothing else); `make up` sets 9101. */
  PORT: sharedVariables.PORT.default(9101),
  /** Interface to listen on; loopback by default, `0.0.0.0` in a container. */
  HOST: Joi.string().default('127.0.0.1'),
  STORE_URL: sharedVariables.STORE_URL,
  REDIS_URL: sharedVariables.REDIS_URL,
  RABBITMQ_URL: sharedVariables.RABBITMQ_URL,
  INTERNAL_TOKEN: sharedVariables.INTERNAL_TOKEN,
  INTEGRATION_URL: configSchema.extract('INTEGRATION_URL'),
  LOG_LEVEL: sharedVariables.LOG_LEVEL,
  NAMESPACE: sharedVariables.NAMESPACE,
  MAX_RUNS_PER_EVENT: configSchema.extract('MAX_RUNS_PER_EVENT'),
  RUN_LEASE_SECONDS: configSchema.extract('RUN_LEASE_SECONDS'),
  /** Events one worker handles at once (the consumer's prefetch). */
  TRIGGER_CONCURRENCY: Joi.number().integer().min(1).max(500).default(50),
  /** Timeout of each Bitbucket request; retries beyond a few seconds go back to the bus. */
  BITBUCKET_TIMEOUT_MS: Joi.number().integer().min(100).max(120_000).default(10_000),
  /** How far a changed-files list is paged before it counts as truncated (every candidate stack runs). */
  CHANGED_FILES_MAX_PAGES: Joi.number().integer().min(1).max(10_000).default(100),
  CHANGED_FILES_MAX_ITEMS: Joi.number().integer().min(1).max(1_000_000).default(10_000),
  /** How long credentials from the integration service are reused. */
  CREDENTIALS_CACHE_SECONDS: Joi.number().integer().min(0).max(3600).default(30),
  /** Upper bound for in-flight events to finish at shutdown. */
  SHUTDOWN_TIMEOUT_MS: Joi.number().integer().min(100).max(120_000).default(10_000),
});

export interface TriggerConfig {
  PORT: number;
  HOST: string;
  STORE_URL: string;
  REDIS_URL: string;
  RABBITMQ_URL: string;
  INTERNAL_TOKEN: string;
  INTEGRATION_URL: string;
  LOG_LEVEL: string;
  NAMESPACE: string;
  MAX_RUNS_PER_EVENT: number;
  RUN_LEASE_SECONDS: number;
  TRIGGER_CONCURRENCY: number;
  BITBUCKET_TIMEOUT_MS: number;
  CHANGED_FILES_MAX_PAGES: number;
  CHANGED_FILES_MAX_ITEMS: number;
  CREDENTIALS_CACHE_SECONDS: number;
  SHUTDOWN_TIMEOUT_MS: number;
}

export function readTriggerConfig(env: Env = process.env): TriggerConfig {
  return loadConfig<TriggerConfig>(triggerConfigSchema, env);
}
