import type { Express } from 'express';
import { register, type Registry } from 'prom-client';
import { createHttpApp } from '@stacklink/http';
import { registerSecret, type Logger } from '@stacklink/logger';
import { createIntegrationMetrics } from './adapters/prometheus-metrics';
import { systemClock } from './adapters/system-clock';
import type {
  BitbucketClientFactoryPort,
  ClockPort,
  IntegrationDeps,
  IntegrationEventsPort,
  IntegrationRepositoryPort,
  SecretCipherPort,
  StackUsagePort,
} from './domain/ports';
import { createInternalRouter } from './http/internal-router';
import { createPublicRouter } from './http/public-router';

export interface AppOptions {
  adminToken: string;
  internalToken: string;
  publicWebhookBaseUrl: string;
  webhookSecretGraceSeconds: number;
  logger: Logger;
  repository: IntegrationRepositoryPort;
  cipher: SecretCipherPort;
  events: IntegrationEventsPort;
  stackUsage: StackUsagePort;
  bitbucket: BitbucketClientFactoryPort;
  /** Whether the broker connection is up; part of /readyz. */
  busReady: () => boolean;
  clock?: ClockPort;
  /** The process registry by default; tests pass their own. */
  registry?: Registry;
}

/** Builds the integration service's express app without listening (tests start it on port 0). */
export function createApp(options: AppOptions): Express {
  const registry = options.registry ?? register;
  const deps: IntegrationDeps = {
    repository: options.repository,
    cipher: options.cipher,
    events: options.events,
    stackUsage: options.stackUsage,
    bitbucket: options.bitbucket,
    clock: options.clock ?? systemClock,
    metrics: createIntegrationMetrics(registry, options.repository),
    logger: options.logger,
    registerSecret,
    publicWebhookBaseUrl: options.publicWebhookBaseUrl.replace(/\/+$/, ''),
    webhookSecretGraceSeconds: options.webhookSecretGraceSeconds,
  };
  return createHttpApp(
    {
      service: 'integration',
      logger: options.logger,
      registry,
      readiness: [
        { name: 'store', check: () => options.repository.isReady() },
        { name: 'rabbitmq', check: options.busReady },
      ],
      quietPaths: /^\/(healthz|readyz|metrics)$/,
    },
    (app) => {
      app.use('/api/v1', createPublicRouter(deps, options.adminToken));
      app.use('/internal/v1', createInternalRouter(deps, options.internalToken));
    },
  );
}
