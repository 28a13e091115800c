import { expect } from 'chai';
import { Joi, loadConfig, validators } from '../../src';

interface Config {
  LEASE: number;
}
const schema = Joi.object({ LEASE: validators.durationMs('30s') });

describe('validators.durationMs', () => {
  it('converts "30s" to 30000 milliseconds, so no unit suffix reaches Redis', () => {
    expect(loadConfig<Config>(schema, { LEASE: '30s' }).LEASE).to.equal(30_000);
  });

  it('converts minutes, hours, milliseconds and a bare number of milliseconds', () => {
    expect(loadConfig<Config>(schema, { LEASE: '10m' }).LEASE).to.equal(600_000);
    expect(loadConfig<Config>(schema, { LEASE: '1h' }).LEASE).to.equal(3_600_000);
    expect(loadConfig<Config>(schema, { LEASE: '250ms' }).LEASE).to.equal(250);
    expect(loadConfig<Config>(schema, { LEASE: '1500' }).LEASE).to.equal(1500);
  });

  it('converts its default too', () => {
    expect(loadConfig<Config>(schema, {}).LEASE).to.equal(30_000);
  });

  it('refuses a default that is not a duration when the schema is built', () => {
    expect(() => validators.durationMs('thirty seconds')).to.throw(/thirty seconds/);
  });

  it('names the variable when the value is not a duration', () => {
    for (const bad of ['30 seconds', '-5s', '1.5m', 'soon', '']) {
      expect(() => loadConfig<Config>(schema, { LEASE: bad }), bad).to.throw(/LEASE/);
    }
  });
});
