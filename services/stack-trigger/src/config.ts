import { Joi, loadConfig, sharedVariables, validators, type Env } from '@stacklink/config';
import type { RateLimit } from './adapters/redis-rate-limiter';

/**
 * The variables of the stack-trigger processes (docs/architecture.md §2), one schema per role; nothing else
 * reads process.env. The API role's:
 */
export const apiConfigSchema = Joi.object({
  ROLE: Joi.string().valid('api', 'trigger', 'reporter').default('api'),
  PORT: sharedVariables.PORT.default(8082),
  /** Interface to listen on; loopback by default, `0.0.0.0` in a container. */
  HOST: Joi.string().default('127.0.0.1'),
  STORE_URL: sharedVariables.STORE_URL,
  REDIS_URL: sharedVariables.REDIS_URL,
  RABBITMQ_URL: sharedVariables.RABBITMQ_URL,
  ADMIN_TOKEN: sharedVariables.ADMIN_TOKEN,
  /**
   * Runner tokens, a comma list (each ≥ 32 characters): accepted on the run state and lease routes only
   * (docs/architecture.md §12). Unset, only ADMIN_TOKEN reaches those routes.
   */
  RUNNER_TOKENS: sharedVariables.RUNNER_TOKENS.optional(),
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
  /** Days the delivery history keeps a delivery (docs/architecture.md §13). */
  DELIVERY_HISTORY_DAYS: Joi.number().integer().min(1).max(3650).default(14),
  /** Deliveries the history keeps per integration at most; the oldest go first. */
  DELIVERY_HISTORY_MAX_PER_INTEGRATION: Joi.number().integer().min(1).max(10_000_000).default(100_000),
  /** How often the API role prunes the delivery history (in batches, never blocking the workers). */
  DELIVERY_HISTORY_PRUNE_INTERVAL_MS: Joi.number().integer().min(100).max(86_400_000).default(600_000),
  /** Cap of one run's log (UTF-8 bytes); past it a "truncated" chunk is stored and the rest ignored. */
  RUN_LOG_MAX_BYTES: Joi.number()
    .integer()
    .min(1024)
    .max(1024 * 1024 * 1024)
    .default(5 * 1024 * 1024),
  /** How long after its final state a run still takes log chunks (a runner's late retries). */
  RUN_LOG_GRACE_SECONDS: Joi.number().integer().min(0).max(86_400).default(60),
  /** How often a log stream reads the store when no announcement came (Redis lost, another replica). */
  RUN_LOG_STREAM_POLL_MS: Joi.number().integer().min(50).max(60_000).default(2000),
  /** How often an idle log stream sends a comment, so proxies keep the connection open. */
  RUN_LOG_STREAM_HEARTBEAT_MS: Joi.number().integer().min(100).max(300_000).default(15_000),
});

export interface ApiConfig {
  ROLE: 'api' | 'trigger' | 'reporter';
  PORT: number;
  HOST: string;
  STORE_URL: string;
  REDIS_URL: string;
  RABBITMQ_URL: string;
  ADMIN_TOKEN: string;
  RUNNER_TOKENS?: string[];
  INTERNAL_TOKEN: string;
  INTEGRATION_URL: string;
  PUBLIC_UI_URL: string;
  LOG_LEVEL: string;
  NAMESPACE: string;
  MAX_RUNS_PER_EVENT: number;
  RUN_LEASE_SECONDS: number;
  LEASE_SWEEP_INTERVAL_MS: number;
  DELIVERY_HISTORY_DAYS: number;
  DELIVERY_HISTORY_MAX_PER_INTEGRATION: number;
  DELIVERY_HISTORY_PRUNE_INTERVAL_MS: number;
  RUN_LOG_MAX_BYTES: number;
  RUN_LOG_GRACE_SECONDS: number;
  RUN_LOG_STREAM_POLL_MS: number;
  RUN_LOG_STREAM_HEARTBEAT_MS: number;
}

export function loadApiConfig(env: Env = process.env): ApiConfig {
  return loadConfig<ApiConfig>(apiConfigSchema, env);
}

/**
 * How the trigger and reporter ride out a Bitbucket outage (docs/architecture.md §9,
 * docs/decisions/008-bitbucket-host-breaker.md): a breaker per host, shared through Redis, and the
 * Bitbucket-facing queues' retry and wait schedule.
 */
const bitbucketHostVariables = {
  /** Connection failures, timeouts or 5xx in a row that mark a Bitbucket host down for every worker. */
  BITBUCKET_FAILURE_THRESHOLD: Joi.number().integer().min(1).max(1000).default(5),
  /** First pause before one caller probes a down host; doubles after each failed probe. */
  BITBUCKET_PROBE_MIN_MS: Joi.number().integer().min(10).max(3_600_000).default(5000),
  /** Longest pause between two probes of a down host. */
  BITBUCKET_PROBE_MAX_MS: Joi.number().integer().min(10).max(3_600_000).default(60_000),
  /** How long messages may wait for a down host before they are dead-lettered. */
  BITBUCKET_OUTAGE_HORIZON_SECONDS: Joi.number()
    .integer()
    .min(1)
    .max(30 * 86_400)
    .default(86_400),
  /**
   * Unit of the Bitbucket-facing queues' retry schedule (1, 5, 30, 120 units) and of their wait delay
   * (5 units). 1000 in production; tests shrink it to run an outage in seconds.
   */
  RETRY_TIME_UNIT_MS: Joi.number().integer().min(1).max(60_000).default(1000),
};

export interface BitbucketHostConfig {
  BITBUCKET_FAILURE_THRESHOLD: number;
  BITBUCKET_PROBE_MIN_MS: number;
  BITBUCKET_PROBE_MAX_MS: number;
  BITBUCKET_OUTAGE_HORIZON_SECONDS: number;
  RETRY_TIME_UNIT_MS: number;
}

/**
 * The `trigger` role's variables (docs/architecture.md §2, §7). It serves no public API (no ADMIN_TOKEN) and has the Bitbucket paging settings.
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
  INTEGRATION_URL: apiConfigSchema.extract('INTEGRATION_URL'),
  LOG_LEVEL: sharedVariables.LOG_LEVEL,
  NAMESPACE: sharedVariables.NAMESPACE,
  MAX_RUNS_PER_EVENT: apiConfigSchema.extract('MAX_RUNS_PER_EVENT'),
  RUN_LEASE_SECONDS: apiConfigSchema.extract('RUN_LEASE_SECONDS'),
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
  ...bitbucketHostVariables,
});

export interface TriggerConfig extends BitbucketHostConfig {
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

export function loadTriggerConfig(env: Env = process.env): TriggerConfig {
  return loadConfig<TriggerConfig>(triggerConfigSchema, env);
}

const rateLimitSchema = Joi.object({
  perSecond: Joi.number().positive().max(10_000).required(),
  burst: Joi.number().integer().min(1).max(10_000).required(),
});

/** `{"<integration id or Bitbucket origin>": {"perSecond": 5, "burst": 5}, …}` as JSON. */
const rateLimitsVariable = Joi.string()
  .custom((value: string, helpers) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      return helpers.message({ custom: 'must be a JSON object' });
    }
    const result = Joi.object().pattern(Joi.string().min(1), rateLimitSchema).validate(parsed);
    const error = result.error;
    if (error)
      return helpers.message({
        custom: `must map integration ids or hosts to {perSecond, burst}: ${error.message}`,
      });
    return result.value as Record<string, RateLimit>;
  })
  .default({});

/**
 * The reporter role's variables (docs/architecture.md §2, §8). It needs no ADMIN_TOKEN, and has the rate-limit settings no other role reads.
 */
export const reporterConfigSchema = Joi.object({
  /** /healthz, /readyz and /metrics; `make up` sets 9102. */
  PORT: sharedVariables.PORT.default(9102),
  /** Interface to listen on; loopback by default, `0.0.0.0` in a container. */
  HOST: Joi.string().default('127.0.0.1'),
  RABBITMQ_URL: sharedVariables.RABBITMQ_URL,
  REDIS_URL: sharedVariables.REDIS_URL,
  /** Stacks' prComments setting and each run's pull-request comment id (not Redis: not rebuildable). */
  STORE_URL: sharedVariables.STORE_URL,
  INTERNAL_TOKEN: sharedVariables.INTERNAL_TOKEN,
  INTEGRATION_URL: apiConfigSchema.extract('INTEGRATION_URL'),
  PUBLIC_UI_URL: sharedVariables.PUBLIC_UI_URL,
  LOG_LEVEL: sharedVariables.LOG_LEVEL,
  NAMESPACE: sharedVariables.NAMESPACE,
  /** Status updates one replica works on at once (the consumer's prefetch). */
  REPORTER_CONCURRENCY: Joi.number().integer().min(1).max(500).default(20),
  /** Requests per second to one Bitbucket host, shared by every reporter replica. */
  REPORTER_RATE_PER_SECOND: Joi.number().positive().max(10_000).default(10),
  REPORTER_RATE_BURST: Joi.number().integer().min(1).max(10_000).default(10),
  REPORTER_RATE_LIMITS: rateLimitsVariable,
  /** Longest an update waits in-process for its rate-limit slot before going back to the bus. */
  REPORTER_MAX_WAIT_MS: Joi.number().integer().min(0).max(600_000).default(30_000),
  /** Timeout of each Bitbucket request; a timeout is retried through the bus. */
  BITBUCKET_TIMEOUT_MS: Joi.number().integer().min(100).max(120_000).default(10_000),
  /**
   * How long a replica's claim on a run outlives it: a replica killed while posting blocks that run's
   * next statuses this long. A live replica renews its claim every third of this while it posts. Keep it
   * well under the status queue's retry budget, so the run's next update outlasts it.
   */
  REPORTER_CLAIM_TTL_MS: Joi.number().integer().min(1000).max(600_000).default(15_000),
  /** Post a Code Insights report (and annotations) per run on servers that have the API. */
  CODE_INSIGHTS_ENABLED: Joi.boolean().truthy('1').falsy('0').default(true),
  /** How long a host found without Code Insights is skipped (in Redis) before it is tried again. */
  CODE_INSIGHTS_RECHECK_SECONDS: Joi.number()
    .integer()
    .min(1)
    .max(30 * 86_400)
    .default(3600),
  ...bitbucketHostVariables,
});

/** Each Bitbucket host's rate limit, shared in Redis by the roles that call Bitbucket on their own. */
export interface BitbucketRateConfig {
  NAMESPACE: string;
  REPORTER_RATE_PER_SECOND: number;
  REPORTER_RATE_BURST: number;
  REPORTER_RATE_LIMITS: Record<string, RateLimit>;
  REPORTER_MAX_WAIT_MS: number;
}

export interface ReporterConfig extends BitbucketHostConfig, BitbucketRateConfig {
  PORT: number;
  HOST: string;
  RABBITMQ_URL: string;
  REDIS_URL: string;
  STORE_URL: string;
  INTERNAL_TOKEN: string;
  INTEGRATION_URL: string;
  PUBLIC_UI_URL: string;
  LOG_LEVEL: string;
  REPORTER_CONCURRENCY: number;
  BITBUCKET_TIMEOUT_MS: number;
  REPORTER_CLAIM_TTL_MS: number;
  CODE_INSIGHTS_ENABLED: boolean;
  CODE_INSIGHTS_RECHECK_SECONDS: number;
}

export function loadReporterConfig(env: Env = process.env): ReporterConfig {
  return loadConfig<ReporterConfig>(reporterConfigSchema, env);
}

/**
 * The `reconciler` role's variables (docs/architecture.md §14): managed webhooks and missed-event
 * recovery. It feeds recovered events through the trigger path (the trigger's variables) and shares the
 * reporter's Bitbucket rate limit (the reporter's rate variables).
 */
export const reconcilerConfigSchema = triggerConfigSchema
  .keys({
    /** /healthz, /readyz and /metrics; `make up` sets 9104 (RECONCILER_METRICS_PORT). */
    PORT: sharedVariables.PORT.default(9104),
    PUBLIC_WEBHOOK_BASE_URL: sharedVariables.PUBLIC_WEBHOOK_BASE_URL,
    /** How long the active reconciler's Redis lease lasts without renewal; renewed every third of it. */
    RECONCILER_LEASE: validators.durationMs('30s'),
    /** Every how often each repository's managed webhook is checked and repaired. */
    WEBHOOK_RECONCILE_INTERVAL: validators.durationMs('10m'),
    /** Every how often branch heads and open pull requests are compared with what events brought. */
    RECOVERY_INTERVAL: validators.durationMs('5m'),
    REPORTER_RATE_PER_SECOND: reporterConfigSchema.extract('REPORTER_RATE_PER_SECOND'),
    REPORTER_RATE_BURST: reporterConfigSchema.extract('REPORTER_RATE_BURST'),
    REPORTER_RATE_LIMITS: reporterConfigSchema.extract('REPORTER_RATE_LIMITS'),
    REPORTER_MAX_WAIT_MS: reporterConfigSchema.extract('REPORTER_MAX_WAIT_MS'),
  })
  .custom((value: { RECONCILER_LEASE: number }, helpers) =>
    value.RECONCILER_LEASE < 1000
      ? helpers.message({ custom: 'RECONCILER_LEASE must be at least 1s' })
      : value,
  );

export interface ReconcilerConfig extends TriggerConfig, BitbucketRateConfig {
  PUBLIC_WEBHOOK_BASE_URL: string;
  RECONCILER_LEASE: number;
  WEBHOOK_RECONCILE_INTERVAL: number;
  RECOVERY_INTERVAL: number;
}

export function loadReconcilerConfig(env: Env = process.env): ReconcilerConfig {
  return loadConfig<ReconcilerConfig>(reconcilerConfigSchema, env);
}
