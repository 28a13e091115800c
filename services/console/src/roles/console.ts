import { Redis } from 'ioredis';
import { redisConnection, runMain, startRole, type RunningRole } from '@stacklink/http';
import { createLogger, registerSecret, type Logger } from '@stacklink/logger';
import { consoleKeyPrefix, createRedisSessions } from '../adapters/redis-sessions';
import { createRedisSignInLimiter } from '../adapters/redis-sign-in-limiter';
import { createStacklinkApi } from '../adapters/stacklink-api';
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
        sessions: createRedisSessions({
          redis,
          keyPrefix,
          idleSeconds: config.SESSION_IDLE_SECONDS,
          maxSeconds: config.SESSION_MAX_SECONDS,
        }),
        limiter: createRedisSignInLimiter({
          redis,
          keyPrefix,
          maxFailures: config.SIGN_IN_MAX_FAILURES,
          windowSeconds: config.SIGN_IN_WINDOW_SECONDS,
        }),
        api: createStacklinkApi({
          integrationUrl: config.INTEGRATION_URL,
          stackTriggerUrl: config.STACK_TRIGGER_URL,
          adminToken: config.ADMIN_TOKEN,
          internalToken: config.INTERNAL_TOKEN,
          timeoutMs: config.API_TIMEOUT_MS,
        }),
      }),
  });
}

if (require.main === module) {
  runMain('console', loadConsoleConfig, (config) => startConsole(config));
}
