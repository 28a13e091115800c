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
});
