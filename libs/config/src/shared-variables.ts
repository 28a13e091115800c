import Joi from 'joi';

/**
 * The variables of docs/architecture.md §2, shared by every process. A service builds its schema with
 * `Joi.object({...sharedVariables.pick, ...its own})` so the names and defaults live in one place.
 */
const base64Key32 = Joi.string()
  .base64()
  .custom((value: string, helpers) =>
    Buffer.from(value, 'base64').length === 32
      ? value
      : helpers.message({ custom: 'must decode to exactly 32 bytes' }),
  );

/** An http(s) URL without `user:password@`: errors and logs name such URLs, and fetch refuses them. */
const httpUrl = Joi.string()
  .uri({ scheme: ['http', 'https'] })
  .custom(
    (value: string, helpers) =>
      /^[a-z]+:\/\/[^/?#]*@/i.test(value)
        ? helpers.message({ custom: '{{#label}} must not carry credentials (user:password@)' })
        : value,
    'no user:password@',
  );

export const sharedVariables = {
  RABBITMQ_URL: Joi.string()
    .uri({ scheme: ['amqp', 'amqps'] })
    .default('amqp://guest:guest@127.0.0.1:5672'),
  REDIS_URL: Joi.string()
    .uri({ scheme: ['redis', 'rediss'] })
    .default('redis://127.0.0.1:6379'),
  STORE_URL: Joi.string()
    .pattern(/^(mongodb(\+srv)?:\/\/.+|sqlite:.+)$/, 'mongodb://… or sqlite:<path>')
    .default('sqlite:./data/stacklink.db'),
  ADMIN_TOKEN: Joi.string().min(16).required(),
  INTERNAL_TOKEN: Joi.string().min(16).required(),
  /**
   * Runner tokens (docs/architecture.md §12), a comma list: stack-trigger accepts them on the run state,
   * lease and log routes only. Each is at least 32 characters; the list arrives as an array.
   */
  RUNNER_TOKENS: Joi.string()
    .required()
    .custom((value: string, helpers) => {
      const tokens = value
        .split(',')
        .map((t) => t.trim())
        .filter((t) => t.length > 0);
      if (tokens.length === 0) return helpers.message({ custom: '{{#label}} must list at least one token' });
      if (tokens.some((t) => t.length < 32))
        return helpers.message({ custom: '{{#label}} must list tokens of at least 32 characters each' });
      return tokens;
    }, 'comma list of tokens'),
  /** The one runner token a runner holds (one of stack-trigger's RUNNER_TOKENS); never ADMIN_TOKEN. */
  RUNNER_TOKEN: Joi.string().min(32).required(),
  /** The gateway's token (docs/architecture.md §12): reads webhook secrets from integration, nothing else. */
  GATEWAY_TOKEN: Joi.string().min(32).required(),
  MASTER_KEY: base64Key32.required(),
  PUBLIC_WEBHOOK_BASE_URL: httpUrl.default('http://127.0.0.1:8080'),
  /** The console's base URL (docs/architecture.md §15): commit statuses link to its run pages. */
  PUBLIC_UI_URL: httpUrl.default('http://127.0.0.1:8083'),
  LOG_LEVEL: Joi.string().valid('error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly').default('info'),
  /** Prefix for exchanges, queues and Redis keys; empty in production, unique per test run. */
  NAMESPACE: Joi.string()
    .pattern(/^[a-z0-9][a-z0-9._-]*$/)
    .allow('')
    .default(''),
  PORT: Joi.number().port(),
} as const;

const DURATION = /^(\d+)(ms|s|m|h)?$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * A duration written `500ms`, `30s`, `10m` or `1h` (a bare number is milliseconds), converted to a whole
 * number of milliseconds. Converted here, at start, so no unit-suffixed string ever reaches Redis or a
 * timer (a `PX "30s"` is a Redis error at the first lease, long after the process said it was ready).
 */
function parseDurationMs(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? value : undefined;
  const match = typeof value === 'string' ? DURATION.exec(value.trim()) : null;
  return match === null ? undefined : Number(match[1]) * UNIT_MS[match[2] ?? 'ms']!;
}

/**
 * A duration written `500ms`, `30s`, `10m` or `1h` (a bare number is milliseconds), converted to a whole
 * number of milliseconds. Converted here, at start, so no unit-suffixed string ever reaches Redis or a
 * timer (a `PX "30s"` is a Redis error at the first lease, long after the process said it was ready).
 * The default is converted too: joi does not run rules on defaults, so `.default('30s')` would not be.
 */
function durationMs(defaultDuration?: string): Joi.AnySchema {
  const schema = Joi.any().custom((value: unknown, helpers) => {
    const ms = parseDurationMs(value);
    return ms === undefined
      ? helpers.message({ custom: '{{#label}} must be a duration such as 500ms, 30s, 10m or 1h' })
      : ms;
  }, 'duration in milliseconds');
  if (defaultDuration === undefined) return schema;
  const ms = parseDurationMs(defaultDuration);
  if (ms === undefined) throw new Error(`default duration "${defaultDuration}" is not a duration`);
  return schema.default(ms);
}

export const validators = { base64Key32, httpUrl, durationMs };
