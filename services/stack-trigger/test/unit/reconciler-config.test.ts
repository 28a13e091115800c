import { expect } from 'chai';
import { loadReconcilerConfig } from '../../src/config';

const required = { INTERNAL_TOKEN: 'b'.repeat(16) };

describe('loadReconcilerConfig', () => {
  it('defaults: 30 s lease, 10 min webhook reconcile, 5 min recovery, in milliseconds, on port 9104', () => {
    expect(loadReconcilerConfig(required)).to.include({
      PORT: 9104,
      RECONCILER_LEASE: 30_000,
      WEBHOOK_RECONCILE_INTERVAL: 600_000,
      RECOVERY_INTERVAL: 300_000,
    });
  });

  it('converts "30s" style values to milliseconds, so no unit reaches Redis', () => {
    const config = loadReconcilerConfig({
      ...required,
      RECONCILER_LEASE: '45s',
      WEBHOOK_RECONCILE_INTERVAL: '2m',
      RECOVERY_INTERVAL: '1500ms',
    });
    expect(config.RECONCILER_LEASE).to.equal(45_000);
    expect(config.WEBHOOK_RECONCILE_INTERVAL).to.equal(120_000);
    expect(config.RECOVERY_INTERVAL).to.equal(1500);
  });

  it('names a variable that is not a duration, and a lease under a second', () => {
    expect(() => loadReconcilerConfig({ ...required, RECOVERY_INTERVAL: 'often' })).to.throw(
      /RECOVERY_INTERVAL/,
    );
    expect(() => loadReconcilerConfig({ ...required, RECONCILER_LEASE: '10ms' })).to.throw(
      /RECONCILER_LEASE/,
    );
  });
});
