import { Joi, loadConfig, sharedVariables, validators, type Env } from '@stacklink/config';

/**
 * The console role's variables (docs/architecture.md §15); nothing else reads process.env. It holds
 * ADMIN_TOKEN to call the public APIs server-side (the browser never sees it) and INTERNAL_TOKEN for
 * stack-trigger's dead-letter routes, which live on the internal API.
 */
export const consoleConfigSchema = Joi.object({
  PORT: sharedVariables.PORT.default(8083),
  /** Interface to listen on; loopback by default, `0.0.0.0` in a container. */
  HOST: Joi.string().default('127.0.0.1'),
  REDIS_URL: sharedVariables.REDIS_URL,
  ADMIN_TOKEN: sharedVariables.ADMIN_TOKEN,
  INTERNAL_TOKEN: sharedVariables.INTERNAL_TOKEN,
  INTEGRATION_URL: validators.httpUrl.default('http://127.0.0.1:8081'),
  STACK_TRIGGER_URL: validators.httpUrl.default('http://127.0.0.1:8082'),
  LOG_LEVEL: sharedVariables.LOG_LEVEL,
  NAMESPACE: sharedVariables.NAMESPACE,
  /** A session unused this long ends (idle expiry). */
  SESSION_IDLE_SECONDS: Joi.number().integer().min(60).max(86_400).default(1800),
  /** A session ends this long after sign-in, used or not (absolute expiry). */
  SESSION_MAX_SECONDS: Joi.number()
    .integer()
    .min(Joi.ref('SESSION_IDLE_SECONDS'))
    .max(30 * 86_400)
    .default(43_200),
  /** Failed sign-ins one client address may make per window before it is refused (429). */
  SIGN_IN_MAX_FAILURES: Joi.number().integer().min(1).max(1000).default(5),
  SIGN_IN_WINDOW_SECONDS: Joi.number().integer().min(1).max(86_400).default(900),
  /**
   * Reverse proxies in front of the console (an ingress: 1). Their X-Forwarded-For and
   * X-Forwarded-Proto are believed that many hops deep: the client address for the sign-in limit, https
   * for the cookie's Secure flag. 0 (default): no proxy, the headers are ignored.
   */
  TRUST_PROXY_HOPS: Joi.number().integer().min(0).max(10).default(0),
  /** Timeout of each call to the integration and stack-trigger APIs. */
  API_TIMEOUT_MS: Joi.number().integer().min(100).max(120_000).default(10_000),
  /**
   * The console's public URL: "sign in with Bitbucket" redirects back to
   * `${PUBLIC_UI_URL}/auth/bitbucket/{integrationId}/callback`, the redirect URL of the application link.
   */
  PUBLIC_UI_URL: sharedVariables.PUBLIC_UI_URL,
  /**
   * base64 of 32 bytes: seals viewers' Bitbucket tokens (AES-256-GCM) in their Redis sessions. Unset
   * (default): "sign in with Bitbucket" is off and only operators sign in.
   */
  SESSION_ENCRYPTION_KEY: validators.base64Key32.allow('').default(''),
  /**
   * How long a viewer's "may read P/r" answer from Bitbucket is kept before asking again; an open live
   * log re-checks every half of it.
   */
  VIEWER_PERMISSION_CACHE_SECONDS: Joi.number().integer().min(1).max(3600).default(60),
});

export interface ConsoleConfig {
  PORT: number;
  HOST: string;
  REDIS_URL: string;
  ADMIN_TOKEN: string;
  INTERNAL_TOKEN: string;
  INTEGRATION_URL: string;
  STACK_TRIGGER_URL: string;
  LOG_LEVEL: string;
  NAMESPACE: string;
  SESSION_IDLE_SECONDS: number;
  SESSION_MAX_SECONDS: number;
  SIGN_IN_MAX_FAILURES: number;
  SIGN_IN_WINDOW_SECONDS: number;
  TRUST_PROXY_HOPS: number;
  API_TIMEOUT_MS: number;
  PUBLIC_UI_URL: string;
  SESSION_ENCRYPTION_KEY: string;
  VIEWER_PERMISSION_CACHE_SECONDS: number;
}

export function loadConsoleConfig(env: Env = process.env): ConsoleConfig {
  return loadConfig<ConsoleConfig>(consoleConfigSchema, env);
}
