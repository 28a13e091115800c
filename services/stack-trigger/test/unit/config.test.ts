import { expect } from 'chai';
import { loadApiConfig } from '../../src/config';

const required = { ADMIN_TOKEN: 'a'.repeat(16), INTERNAL_TOKEN: 'b'.repeat(16) };

describe('loadApiConfig', () => {
  it('applies the defaults of docs/architecture.md §2 and of this service', () => {
    const config = loadApiConfig(required);
    expect(config).to.include({
      ROLE: 'api',
      PORT: 8082,
      INTEGRATION_URL: 'http://127.0.0.1:8081',
      MAX_RUNS_PER_EVENT: 100,
      STORE_URL: 'sqlite:./data/stacklink.db',
      NAMESPACE: '',
    });
  });

  it('fails naming every bad variable at once', () => {
    let caught: unknown;
    try {
      loadApiConfig({ MAX_RUNS_PER_EVENT: '0', STORE_URL: 'postgres://x', RUN_LEASE_SECONDS: 'soon' });
    } catch (err) {
      caught = err;
    }
    const variables = (caught as { details: { variables: string[] } }).details.variables;
    expect(variables).to.include.members([
      'ADMIN_TOKEN',
      'INTERNAL_TOKEN',
      'MAX_RUNS_PER_EVENT',
      'STORE_URL',
      'RUN_LEASE_SECONDS',
    ]);
  });

  it('keeps the delivery history 14 days and refuses a retention it cannot honour, naming the variable', () => {
    expect(loadApiConfig(required)).to.include({
      DELIVERY_HISTORY_DAYS: 14,
      DELIVERY_HISTORY_MAX_PER_INTEGRATION: 100_000,
      DELIVERY_HISTORY_PRUNE_INTERVAL_MS: 600_000,
    });
    let caught: unknown;
    try {
      loadApiConfig({
        ...required,
        DELIVERY_HISTORY_DAYS: '0',
        DELIVERY_HISTORY_MAX_PER_INTEGRATION: 'lots',
      });
    } catch (err) {
      caught = err;
    }
    expect((caught as { details: { variables: string[] } }).details.variables).to.have.members([
      'DELIVERY_HISTORY_DAYS',
      'DELIVERY_HISTORY_MAX_PER_INTEGRATION',
    ]);
  });

  it('caps run logs at 5 MiB, closes them 60 s after a run ends, and names a bad run log variable', () => {
    expect(loadApiConfig(required)).to.include({
      RUN_LOG_MAX_BYTES: 5 * 1024 * 1024,
      RUN_LOG_GRACE_SECONDS: 60,
      RUN_LOG_STREAM_POLL_MS: 2000,
      RUN_LOG_STREAM_HEARTBEAT_MS: 15_000,
    });
    let caught: unknown;
    try {
      loadApiConfig({
        ...required,
        RUN_LOG_MAX_BYTES: '5MiB',
        RUN_LOG_GRACE_SECONDS: '-1',
        RUN_LOG_STREAM_POLL_MS: '0',
        RUN_LOG_STREAM_HEARTBEAT_MS: '1.5',
      });
    } catch (err) {
      caught = err;
    }
    expect((caught as { details: { variables: string[] } }).details.variables).to.have.members([
      'RUN_LOG_MAX_BYTES',
      'RUN_LOG_GRACE_SECONDS',
      'RUN_LOG_STREAM_POLL_MS',
      'RUN_LOG_STREAM_HEARTBEAT_MS',
    ]);
  });
});
