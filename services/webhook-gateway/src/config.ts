import { Joi, loadConfig, sharedVariables, validators, type Env } from '@stacklink/config';

/**
 * Every variable the gateway reads (docs/architecture.md §2 plus its own); nothing else reads process.env.
 */
export const gatewayConfigSchema = Joi.object({
  PORT: sharedVariables.PORT.default(8080),
  HOST: Joi.string().default('0.0.0.0'),
  RABBITMQ_URL: sharedVariables.RABBITMQ_URL,
  REDIS_URL: sharedVariables.REDIS_URL,
  /**
   * Reads webhook secrets from the integration service and nothing else (docs/architecture.md §12); the
   * internet-facing gateway never holds INTERNAL_TOKEN, which also reads Bitbucket credentials.
   */
  GATEWAY_TOKEN: sharedVariables.GATEWAY_TOKEN,
  LOG_LEVEL: sharedVariables.LOG_LEVEL,
  NAMESPACE: sharedVariables.NAMESPACE,
  /** Where the integration service's internal API answers. */
  INTEGRATION_URL: validators.httpUrl.default('http://127.0.0.1:8081'),
  WEBHOOK_BODY_LIMIT_BYTES: Joi.number()
    .integer()
    .min(1024)
    .max(64 * 1024 * 1024)
    .default(5 * 1024 * 1024),
  /** How long fetched webhook secrets are trusted before they are fetched again. */
  SECRET_CACHE_TTL_SECONDS: Joi.number().integer().min(1).max(3600).default(30),
  /** How long an unknown integration id is remembered, so random ids cannot flood the integration service. */
  UNKNOWN_INTEGRATION_TTL_SECONDS: Joi.number().integer().min(1).max(3600).default(10),
  /** Body bytes the deliveries being read may hold together; over it a delivery is answered 503 unread. */
  // At least one body at its limit, or such a body could never be read.
  GATEWAY_MAX_BYTES_IN_FLIGHT: Joi.number()
    .integer()
    .min(Joi.ref('WEBHOOK_BODY_LIMIT_BYTES'))
    .default(64 * 1024 * 1024),
  /** Lookups of integration ids the gateway does not know that one remote address may cause per minute. */
  UNKNOWN_INTEGRATION_LOOKUPS_PER_MINUTE: Joi.number().integer().min(1).max(100000).default(30),
  /** How long a cached secret keeps working while the integration service cannot be reached. */
  SECRET_STALE_SECONDS: Joi.number().integer().min(0).max(86400).default(900),
  /** How long a delivery id is remembered for deduplication. */
  DEDUP_TTL_SECONDS: Joi.number()
    .integer()
    .min(60)
    .default(7 * 24 * 3600),
  PUBLISH_TIMEOUT_MS: Joi.number().integer().min(100).max(9000).default(5000),
  SHUTDOWN_TIMEOUT_MS: Joi.number().integer().min(100).default(10000),
  /** How often the delivery records buffered for the delivery history leave as one message. */
  DELIVERY_RECORDS_FLUSH_MS: Joi.number().integer().min(10).max(60_000).default(250),
});

export interface GatewayConfig {
  PORT: number;
  HOST: string;
  RABBITMQ_URL: string;
  REDIS_URL: string;
  GATEWAY_TOKEN: string;
  LOG_LEVEL: string;
  NAMESPACE: string;
  INTEGRATION_URL: string;
  WEBHOOK_BODY_LIMIT_BYTES: number;
  SECRET_CACHE_TTL_SECONDS: number;
  UNKNOWN_INTEGRATION_TTL_SECONDS: number;
  GATEWAY_MAX_BYTES_IN_FLIGHT: number;
  UNKNOWN_INTEGRATION_LOOKUPS_PER_MINUTE: number;
  SECRET_STALE_SECONDS: number;
  DEDUP_TTL_SECONDS: number;
  PUBLISH_TIMEOUT_MS: number;
  SHUTDOWN_TIMEOUT_MS: number;
  DELIVERY_RECORDS_FLUSH_MS: number;
}

export function loadGatewayConfig(env: Env = process.env): GatewayConfig {
  return loadConfig<GatewayConfig>(gatewayConfigSchema, env);
}
