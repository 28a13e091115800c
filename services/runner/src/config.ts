import { Joi, loadConfig, sharedVariables, validators, type Env } from '@stacklink/config';

/** The reference runner's variables (README "Configuration"); nothing else reads process.env. */
export const runnerConfigSchema = Joi.object({
  /** /healthz, /readyz and /metrics; `make up` sets 9103. */
  PORT: sharedVariables.PORT.default(9103),
  /** Interface to listen on; loopback by default, `0.0.0.0` in a container. */
  HOST: Joi.string().default('127.0.0.1'),
  RABBITMQ_URL: sharedVariables.RABBITMQ_URL,
  NAMESPACE: sharedVariables.NAMESPACE,
  LOG_LEVEL: sharedVariables.LOG_LEVEL,
  /** The stack-trigger API the runner reports to (POST /api/v1/runs/{id}/state and /lease). */
  STACK_TRIGGER_URL: validators.httpUrl.default('http://127.0.0.1:8082'),
  /**
   * The runner's token, one of stack-trigger's RUNNER_TOKENS (≥ 32 characters): it reaches the run state
   * and lease routes only (docs/architecture.md §12). A runner never holds ADMIN_TOKEN.
   */
  RUNNER_TOKEN: sharedVariables.RUNNER_TOKEN,
  /** Run by `/bin/sh -c` with the run's details in STACKLINK_* variables. */
  RUNNER_COMMAND: Joi.string()
    .min(1)
    .default('echo "run $STACKLINK_RUN_ID of $STACKLINK_STACK_NAME at $STACKLINK_COMMIT"'),
  /** Runs executed at once by this process. */
  RUNNER_CONCURRENCY: Joi.number().integer().min(1).max(100).default(2),
  /** How often the lease of a running run is renewed; well under stack-trigger's RUN_LEASE_SECONDS. */
  LEASE_RENEW_SECONDS: Joi.number().min(0.1).max(3600).default(60),
  /**
   * A stopping runner lets running commands finish this long, then sends them SIGTERM (IaC tools stop
   * cleanly and release their state locks on it) and reports their runs FAILED — rather than leaving
   * them RUNNING until their lease expires.
   */
  RUNNER_SHUTDOWN_GRACE_SECONDS: Joi.number().min(0).max(3600).default(30),
  /** The command's output is sent to its run log at least this often (README "Run logs"). */
  RUNNER_LOG_FLUSH_MS: Joi.number().integer().min(10).max(60_000).default(500),
  /** …and at once when this much output is waiting. */
  RUNNER_LOG_BUFFER_BYTES: Joi.number()
    .integer()
    .min(1024)
    .max(1024 * 1024)
    .default(64 * 1024),
});

export interface RunnerConfig {
  PORT: number;
  HOST: string;
  RABBITMQ_URL: string;
  NAMESPACE: string;
  LOG_LEVEL: string;
  STACK_TRIGGER_URL: string;
  RUNNER_TOKEN: string;
  RUNNER_COMMAND: string;
  RUNNER_CONCURRENCY: number;
  LEASE_RENEW_SECONDS: number;
  RUNNER_SHUTDOWN_GRACE_SECONDS: number;
  RUNNER_LOG_FLUSH_MS: number;
  RUNNER_LOG_BUFFER_BYTES: number;
}

export function loadRunnerConfig(env: Env = process.env): RunnerConfig {
  return loadConfig<RunnerConfig>(runnerConfigSchema, env);
}
