import type { Express } from 'express';
import { register, type Registry } from 'prom-client';
import { createHttpApp, openApiDocument, type ReadinessCheck } from '@stacklink/http';
import { registerSecret, type Logger } from '@stacklink/logger';
import { createIntegrationMetrics } from './adapters/prometheus-metrics';
import { systemClock } from './adapters/system-clock';
import { createCreateIntegration } from './domain/create-integration';
import { createDeleteIntegration } from './domain/delete-integration';
import { createGetCredentials } from './domain/get-credentials';
import { createGetOAuthClient } from './domain/get-oauth-client';
import { createGetIntegration, createListIntegrations } from './domain/get-integration';
import { createGetWebhookHealth } from './domain/get-webhook-health';
import { createGetWebhookSecret } from './domain/get-webhook-secret';
import { createGetWebhookSecrets } from './domain/get-webhook-secrets';
import { createListRepositories } from './domain/list-repositories';
import type {
  BitbucketClientFactoryPort,
  ClockPort,
  IntegrationDeps,
  IntegrationEventsPort,
  IntegrationRepositoryPort,
  SecretCipherPort,
  StackUsagePort,
  WebhookHealthPort,
} from './domain/ports';
import { createRotateWebhookSecret } from './domain/rotate-webhook-secret';
import { createTestConnection } from './domain/test-connection';
import { createUpdateIntegration } from './domain/update-integration';
import { createInternalRouter } from './http/internal-router';
import { createPublicRouter } from './http/public-router';

export interface AppDeps {
  adminToken: string;
  internalToken: string;
  /** GATEWAY_TOKEN: the webhook-secrets read only (docs/architecture.md §12). */
  gatewayToken?: string;
  publicWebhookBaseUrl: string;
  webhookSecretGraceSeconds: number;
  logger: Logger;
  repository: IntegrationRepositoryPort;
  cipher: SecretCipherPort;
  events: IntegrationEventsPort;
  stackUsage: StackUsagePort;
  /** Managed webhooks' health (docs/architecture.md §14); the route answers 503 without it. */
  webhookHealth?: WebhookHealthPort;
  bitbucket: BitbucketClientFactoryPort;
  /** /readyz: the store and the broker. */
  readiness: ReadinessCheck[];
  clock?: ClockPort;
  /** The process registry by default; tests pass their own. */
  registry?: Registry;
}

const INFO = {
  title: 'Stacklink integration API',
  version: '1',
  description: 'Bitbucket Data Center connections (docs/architecture.md §4).',
};

/** Builds the integration service's express app without listening (tests start it on port 0). */
export function createApp(deps: AppDeps): Express {
  const registry = deps.registry ?? register;
  const integration: IntegrationDeps = {
    repository: deps.repository,
    cipher: deps.cipher,
    events: deps.events,
    stackUsage: deps.stackUsage,
    ...(deps.webhookHealth === undefined ? {} : { webhookHealth: deps.webhookHealth }),
    bitbucket: deps.bitbucket,
    clock: deps.clock ?? systemClock,
    metrics: createIntegrationMetrics(registry, deps.repository),
    logger: deps.logger,
    registerSecret,
    publicWebhookBaseUrl: deps.publicWebhookBaseUrl.replace(/\/+$/, ''),
    webhookSecretGraceSeconds: deps.webhookSecretGraceSeconds,
  };
  // The use cases are built once here; the routers only call them.
  const publicUseCases = {
    createIntegration: createCreateIntegration(integration),
    listIntegrations: createListIntegrations(integration),
    getIntegration: createGetIntegration(integration),
    updateIntegration: createUpdateIntegration(integration),
    deleteIntegration: createDeleteIntegration(integration),
    testConnection: createTestConnection(integration),
    rotateWebhookSecret: createRotateWebhookSecret(integration),
    getWebhookSecret: createGetWebhookSecret(integration),
    getWebhookHealth: createGetWebhookHealth(integration),
    listRepositories: createListRepositories(integration),
    openApi: () => openApiDocument(INFO, [{ prefix: '/api/v1', routers: [publicApi] }]),
  };
  const internalUseCases = {
    getWebhookSecrets: createGetWebhookSecrets(integration),
    getCredentials: createGetCredentials(integration),
    getOAuthClient: createGetOAuthClient(integration),
    openApi: () =>
      openApiDocument({ ...INFO, title: 'Stacklink integration internal API' }, [
        { prefix: '/internal/v1', routers: [internalApi] },
      ]),
  };
  const publicApi = createPublicRouter(publicUseCases, deps.adminToken);
  const internalApi = createInternalRouter(internalUseCases, {
    internalToken: deps.internalToken,
    ...(deps.gatewayToken === undefined ? {} : { gatewayToken: deps.gatewayToken }),
  });
  return createHttpApp(
    {
      service: 'integration',
      logger: deps.logger,
      registry,
      readiness: deps.readiness,
      quietPaths: /^\/(healthz|readyz|metrics)$/,
    },
    (app) => {
      app.use('/api/v1', publicApi.router);
      app.use('/internal/v1', internalApi.router);
    },
  );
}
