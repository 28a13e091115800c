import { createBus } from '@stacklink/bus';
import { busConnection, runMain, startRole } from '@stacklink/http';
import { createLogger, registerSecret, type Logger } from '@stacklink/logger';
import { createAesGcmSecretCipher } from '../adapters/aes-gcm-secret-cipher';
import { createBitbucketClientFactory } from '../adapters/bitbucket-client-factory';
import { integrationTopology } from '@stacklink/contracts';
import { createBusIntegrationEvents } from '../adapters/bus-integration-events';
import { createIntegrationRepository } from '../adapters/create-integration-repository';
import { createHttpStackUsage, createHttpWebhookHealth } from '../adapters/http-stack-usage';
import { createApp } from '../app';
import { loadIntegrationConfig, type IntegrationConfig } from '../config';

/** The integration role: wiring only; startRole does the rest. Tests start it in-process on port 0. */
export async function startIntegrationService(config: IntegrationConfig, options: { logger?: Logger } = {}) {
  for (const secret of [
    config.adminToken,
    config.internalToken,
    ...(config.gatewayToken === undefined ? [] : [config.gatewayToken]),
    config.masterKey,
    ...config.previousMasterKeys,
  ]) {
    registerSecret(secret);
  }
  const logger = options.logger ?? createLogger({ service: 'integration', level: config.logLevel });
  const repository = await createIntegrationRepository(config.storeUrl);
  const bus = createBus({
    url: config.rabbitmqUrl,
    logger,
    topology: integrationTopology,
    namespace: config.namespace,
    connectionName: 'integration',
  });
  return startRole({
    service: 'integration',
    listen: { port: config.port, host: config.host },
    logger,
    connections: [
      { name: 'store', ready: () => repository.isReady(), close: () => repository.close() },
      busConnection(bus),
    ],
    http: (readiness) =>
      createApp({
        adminToken: config.adminToken,
        internalToken: config.internalToken,
        ...(config.gatewayToken === undefined ? {} : { gatewayToken: config.gatewayToken }),
        publicWebhookBaseUrl: config.publicWebhookBaseUrl,
        webhookSecretGraceSeconds: config.webhookSecretGraceSeconds,
        logger,
        repository,
        cipher: createAesGcmSecretCipher({
          masterKey: config.masterKey,
          previousMasterKeys: config.previousMasterKeys,
        }),
        events: createBusIntegrationEvents(bus),
        stackUsage: createHttpStackUsage({
          baseUrl: config.stackTriggerUrl,
          internalToken: config.internalToken,
        }),
        webhookHealth: createHttpWebhookHealth({
          baseUrl: config.stackTriggerUrl,
          internalToken: config.internalToken,
        }),
        bitbucket: createBitbucketClientFactory({ timeoutMs: config.bitbucketTimeoutMs }),
        readiness,
      }),
  });
}

if (require.main === module) {
  runMain(
    'integration service',
    () => loadIntegrationConfig(process.env),
    (config) => startIntegrationService(config),
  );
}
