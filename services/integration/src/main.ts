import { createBus } from '@stacklink/bus';
import { integrationTopology } from '@stacklink/contracts';
import { runMain, startServer } from '@stacklink/http';
import { createLogger, registerSecret, type Logger } from '@stacklink/logger';
import { createAesGcmSecretCipher } from './adapters/aes-gcm-secret-cipher';
import { createBitbucketClientFactory } from './adapters/bitbucket-client-factory';
import { createBusIntegrationEvents } from './adapters/bus-integration-events';
import { createIntegrationRepository } from './adapters/create-integration-repository';
import { createHttpStackUsage } from './adapters/http-stack-usage';
import { createApp } from './app';
import { loadIntegrationConfig, type IntegrationConfig } from './config';

/** Wiring only: config → logger → store → bus → app → listen. Tests start it in-process on port 0. */
export async function startIntegrationService(config: IntegrationConfig, options: { logger?: Logger } = {}) {
  for (const secret of [
    config.adminToken,
    config.internalToken,
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
  try {
    await bus.start();
  } catch (err) {
    await repository.close();
    throw err;
  }
  const app = createApp({
    adminToken: config.adminToken,
    internalToken: config.internalToken,
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
    bitbucket: createBitbucketClientFactory({ timeoutMs: config.bitbucketTimeoutMs }),
    busReady: () => bus.isReady(),
  });
  const server = await startServer(app, { port: config.port, host: config.host, logger });
  logger.info('integration service listening', { url: server.url });
  const stop = async (): Promise<void> => {
    await server.close();
    await bus.close();
    await repository.close();
  };
  return { url: server.url, port: server.port, logger, stop };
}

if (require.main === module) {
  runMain(
    'integration service',
    () => loadIntegrationConfig(process.env),
    (config) => startIntegrationService(config),
  );
}
