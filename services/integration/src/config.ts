import { Joi, loadConfig, sharedVariables, validators, type Env } from '@stacklink/config';

/**
 * The variables of the integration service (docs/architecture.md §2 plus its own); nothing else reads
 * process.env.
 */
export const integrationConfigSchema = Joi.object({
  PORT: sharedVariables.PORT.default(8081),
  /** Interface to listen on; loopback by default, `0.0.0.0` in a container. */
  HOST: Joi.string().default('127.0.0.1'),
  STORE_URL: sharedVariables.STORE_URL,
  ADMIN_TOKEN: sharedVariables.ADMIN_TOKEN,
  INTERNAL_TOKEN: sharedVariables.INTERNAL_TOKEN,
  /**
   * The gateway's token (≥ 32 characters): it reads `GET /internal/v1/integrations/{id}/webhook-secrets`
   * and nothing else (docs/architecture.md §12). Unset, no gateway token is accepted.
   */
  GATEWAY_TOKEN: sharedVariables.GATEWAY_TOKEN.optional(),
  MASTER_KEY: sharedVariables.MASTER_KEY,
  /** Keys that sealed older values, still accepted for decryption until `reencrypt` ran. */
  PREVIOUS_MASTER_KEYS: Joi.string()
    .allow('')
    .default('')
    .custom((value: string, helpers) => {
      for (const [i, key] of splitList(value).entries()) {
        if (validators.base64Key32.validate(key).error) {
          return helpers.message({
            custom: `entry ${i + 1} must be base64 that decodes to exactly 32 bytes`,
          });
        }
      }
      return value;
    }),
  PUBLIC_WEBHOOK_BASE_URL: sharedVariables.PUBLIC_WEBHOOK_BASE_URL,
  RABBITMQ_URL: sharedVariables.RABBITMQ_URL,
  LOG_LEVEL: sharedVariables.LOG_LEVEL,
  NAMESPACE: sharedVariables.NAMESPACE,
  WEBHOOK_SECRET_GRACE_SECONDS: Joi.number().integer().min(0).default(86_400),
  BITBUCKET_TIMEOUT_MS: Joi.number().integer().min(100).max(120_000).default(10_000),
  /** Where stack-trigger's internal API answers which stacks use an integration. */
  STACK_TRIGGER_URL: validators.httpUrl.default('http://127.0.0.1:8082'),
});

export interface IntegrationConfig {
  port: number;
  host: string;
  storeUrl: string;
  adminToken: string;
  internalToken: string;
  gatewayToken?: string;
  masterKey: string;
  previousMasterKeys: string[];
  publicWebhookBaseUrl: string;
  rabbitmqUrl: string;
  logLevel: string;
  namespace: string;
  webhookSecretGraceSeconds: number;
  bitbucketTimeoutMs: number;
  stackTriggerUrl: string;
}

interface RawConfig {
  PORT: number;
  HOST: string;
  STORE_URL: string;
  ADMIN_TOKEN: string;
  INTERNAL_TOKEN: string;
  GATEWAY_TOKEN?: string;
  MASTER_KEY: string;
  PREVIOUS_MASTER_KEYS: string;
  PUBLIC_WEBHOOK_BASE_URL: string;
  RABBITMQ_URL: string;
  LOG_LEVEL: string;
  NAMESPACE: string;
  WEBHOOK_SECRET_GRACE_SECONDS: number;
  BITBUCKET_TIMEOUT_MS: number;
  STACK_TRIGGER_URL: string;
}

/** Throws AppError CONFIG.INVALID naming every bad variable. */
export function loadIntegrationConfig(env: Env = process.env): IntegrationConfig {
  const raw = loadConfig<RawConfig>(integrationConfigSchema, env);
  return {
    port: raw.PORT,
    host: raw.HOST,
    storeUrl: raw.STORE_URL,
    adminToken: raw.ADMIN_TOKEN,
    internalToken: raw.INTERNAL_TOKEN,
    ...(raw.GATEWAY_TOKEN === undefined ? {} : { gatewayToken: raw.GATEWAY_TOKEN }),
    masterKey: raw.MASTER_KEY,
    previousMasterKeys: splitList(raw.PREVIOUS_MASTER_KEYS),
    publicWebhookBaseUrl: raw.PUBLIC_WEBHOOK_BASE_URL.replace(/\/+$/, ''),
    rabbitmqUrl: raw.RABBITMQ_URL,
    logLevel: raw.LOG_LEVEL,
    namespace: raw.NAMESPACE,
    webhookSecretGraceSeconds: raw.WEBHOOK_SECRET_GRACE_SECONDS,
    bitbucketTimeoutMs: raw.BITBUCKET_TIMEOUT_MS,
    stackTriggerUrl: raw.STACK_TRIGGER_URL.replace(/\/+$/, ''),
  };
}

/** The subset `reencrypt` needs: the store and the keys, not the API tokens. */
export const reencryptConfigSchema = Joi.object({
  STORE_URL: sharedVariables.STORE_URL,
  MASTER_KEY: sharedVariables.MASTER_KEY,
  PREVIOUS_MASTER_KEYS: integrationConfigSchema.extract('PREVIOUS_MASTER_KEYS'),
});

export function loadReencryptConfig(env: Env = process.env): {
  storeUrl: string;
  masterKey: string;
  previousMasterKeys: string[];
} {
  const raw = loadConfig<Pick<RawConfig, 'STORE_URL' | 'MASTER_KEY' | 'PREVIOUS_MASTER_KEYS'>>(
    reencryptConfigSchema,
    env,
  );
  return {
    storeUrl: raw.STORE_URL,
    masterKey: raw.MASTER_KEY,
    previousMasterKeys: splitList(raw.PREVIOUS_MASTER_KEYS),
  };
}

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
