import { expect } from 'chai';
import { integrationConfigSchema, loadIntegrationConfig, loadReencryptConfig } from '../../src/config';
import { newMasterKey } from '../support/keys';

const base = {
  ADMIN_TOKEN: 'admin-token-0123456789',
  INTERNAL_TOKEN: 'internal-token-0123456789',
  MASTER_KEY: newMasterKey(),
};

function variablesNamedBy(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    return (err as { details: { variables: string[] } }).details.variables;
  }
  return [];
}

describe('integration config', () => {
  it('applies the documented defaults', () => {
    const config = loadIntegrationConfig(base);
    expect(config).to.deep.include({
      port: 8081,
      storeUrl: 'sqlite:./data/stacklink.db',
      previousMasterKeys: [],
      rabbitmqUrl: 'amqp://guest:guest@127.0.0.1:5672',
      logLevel: 'info',
      namespace: '',
      webhookSecretGraceSeconds: 86_400,
      bitbucketTimeoutMs: 10_000,
      stackTriggerUrl: 'http://127.0.0.1:8082',
    });
  });

  it('reads every variable it documents', () => {
    const previous = [newMasterKey(), newMasterKey()];
    const config = loadIntegrationConfig({
      ...base,
      PORT: '9000',
      STORE_URL: 'mongodb://127.0.0.1:27017/stacklink',
      PREVIOUS_MASTER_KEYS: ` ${previous[0]}, ${previous[1]} `,
      PUBLIC_WEBHOOK_BASE_URL: 'https://hooks.example.com/',
      WEBHOOK_SECRET_GRACE_SECONDS: '3600',
      BITBUCKET_TIMEOUT_MS: '5000',
      NAMESPACE: 'ci-1',
      STACK_TRIGGER_URL: 'http://stack-trigger:8082/',
    });
    expect(config).to.deep.include({
      port: 9000,
      storeUrl: 'mongodb://127.0.0.1:27017/stacklink',
      previousMasterKeys: previous,
      publicWebhookBaseUrl: 'https://hooks.example.com',
      webhookSecretGraceSeconds: 3600,
      bitbucketTimeoutMs: 5000,
      namespace: 'ci-1',
      stackTriggerUrl: 'http://stack-trigger:8082',
    });
  });

  it('names every bad variable at once', () => {
    const names = variablesNamedBy(() =>
      loadIntegrationConfig({
        MASTER_KEY: Buffer.alloc(16).toString('base64'),
        PREVIOUS_MASTER_KEYS: `${newMasterKey()},not-a-key`,
        WEBHOOK_SECRET_GRACE_SECONDS: '-1',
        STORE_URL: 'postgres://x',
      }),
    );
    expect(names).to.include.members([
      'ADMIN_TOKEN',
      'INTERNAL_TOKEN',
      'MASTER_KEY',
      'PREVIOUS_MASTER_KEYS',
      'WEBHOOK_SECRET_GRACE_SECONDS',
      'STORE_URL',
    ]);
  });

  it('exports its joi schema with every variable the service reads', () => {
    const keys = Object.keys(integrationConfigSchema.describe().keys as Record<string, unknown>);
    expect(keys).to.include.members([
      'PORT',
      'STORE_URL',
      'ADMIN_TOKEN',
      'INTERNAL_TOKEN',
      'MASTER_KEY',
      'PREVIOUS_MASTER_KEYS',
      'PUBLIC_WEBHOOK_BASE_URL',
      'RABBITMQ_URL',
      'LOG_LEVEL',
      'NAMESPACE',
      'WEBHOOK_SECRET_GRACE_SECONDS',
      'BITBUCKET_TIMEOUT_MS',
      'STACK_TRIGGER_URL',
    ]);
  });

  it('lets reencrypt run with only the store and the keys', () => {
    const config = loadReencryptConfig({ MASTER_KEY: base.MASTER_KEY, STORE_URL: 'sqlite:/tmp/x.db' });
    expect(config).to.deep.equal({
      storeUrl: 'sqlite:/tmp/x.db',
      masterKey: base.MASTER_KEY,
      previousMasterKeys: [],
    });
  });
});
