import { Redis } from 'ioredis';
import { createIntegrationApiClient } from '@stacklink/contracts';
import { redisConnection, runMain, startRole, type RunningRole } from '@stacklink/http';
import { createLogger, registerSecret, type Logger } from '@stacklink/logger';
import { consoleKeyPrefix, createRedisSessions } from '../adapters/redis-sessions';
import { createRedisSignInLimiter } from '../adapters/redis-sign-in-limiter';
import { createStacklinkApi } from '../adapters/stacklink-api';
import { createTokenSealer } from '../adapters/token-sealer';
import { createViewerAccess } from '../adapters/viewer-access';
import { createConsoleApp } from '../app';
import { loadConsoleConfig, type ConsoleConfig } from '../config';

/** The console role (docs/architecture.md §15): wiring only. Exported so tests start it in-process. */
export async function startConsole(
  config: ConsoleConfig,
  options: { logger?: Logger } = {},
): Promise<RunningRole> {
  const logger = options.logger ?? createLogger({ service: 'console', level: config.LOG_LEVEL });
  registerSecret(config.ADMIN_TOKEN);
  registerSecret(config.INTERNAL_TOKEN);
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2, lazyConnect: false });
  redis.on('error', (err: unknown) => logger.warn('redis error', { err }));
  const keyPrefix = consoleKeyPrefix(config.NAMESPACE);
  const sessions = createRedisSessions({
    redis,
    keyPrefix,
    idleSeconds: config.SESSION_IDLE_SECONDS,
    maxSeconds: config.SESSION_MAX_SECONDS,
  });
  const api = createStacklinkApi({
    integrationUrl: config.INTEGRATION_URL,
    stackTriggerUrl: config.STACK_TRIGGER_URL,
    adminToken: config.ADMIN_TOKEN,
    internalToken: config.INTERNAL_TOKEN,
    timeoutMs: config.API_TIMEOUT_MS,
  });
  const publicUiUrl = config.PUBLIC_UI_URL.replace(/\/+$/, '');
  // Sign in with Bitbucket (issue 22) needs a key to seal viewers' tokens; without one it is off.
  const viewerAccess =
    config.SESSION_ENCRYPTION_KEY === ''
      ? undefined
      : createViewerAccess({
          integrationApi: createIntegrationApiClient({
            baseUrl: config.INTEGRATION_URL,
            internalToken: config.INTERNAL_TOKEN,
            timeoutMs: config.API_TIMEOUT_MS,
          }),
          sessions,
          sealer: createTokenSealer(config.SESSION_ENCRYPTION_KEY),
          redis,
          keyPrefix,
          cacheSeconds: config.VIEWER_PERMISSION_CACHE_SECONDS,
          redirectUri: (id) => `${publicUiUrl}/auth/bitbucket/${encodeURIComponent(id)}/callback`,
          timeoutMs: config.API_TIMEOUT_MS,
          registerSecret,
        });
  return startRole({
    service: 'console',
    listen: { port: config.PORT, host: config.HOST },
    logger,
    connections: [redisConnection(redis)],
    http: (readiness) =>
      createConsoleApp({
        logger,
        adminToken: config.ADMIN_TOKEN,
        trustProxyHops: config.TRUST_PROXY_HOPS,
        readiness,
        publicUiUrl,
        sessions,
        // Within half the permission cache time of a revocation or sign-out, an open live log ends too.
        accessRecheckMs: Math.max(1000, config.VIEWER_PERMISSION_CACHE_SECONDS * 500),
        ...(viewerAccess ? { viewerAccess } : {}),
        limiter: createRedisSignInLimiter({
          redis,
          keyPrefix,
          maxFailures: config.SIGN_IN_MAX_FAILURES,
          windowSeconds: config.SIGN_IN_WINDOW_SECONDS,
        }),
        api,
      }),
  });
}

if (require.main === module) {
  runMain('console', loadConsoleConfig, (config) => startConsole(config));
}
