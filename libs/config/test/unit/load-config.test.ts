import { expect } from 'chai';
import { AppError } from '@stacklink/errors';
import { Joi, describeConfigError, loadConfig, sharedVariables } from '../../src';

const schema = Joi.object({
  RABBITMQ_URL: sharedVariables.RABBITMQ_URL,
  MASTER_KEY: sharedVariables.MASTER_KEY,
  ADMIN_TOKEN: sharedVariables.ADMIN_TOKEN,
  PORT: sharedVariables.PORT.default(8080),
});

interface Config {
  RABBITMQ_URL: string;
  MASTER_KEY: string;
  ADMIN_TOKEN: string;
  PORT: number;
}

const key = Buffer.alloc(32, 7).toString('base64');

describe('loadConfig', () => {
  it('returns typed values with defaults applied and numbers converted', () => {
    const config = loadConfig<Config>(schema, { MASTER_KEY: key, ADMIN_TOKEN: 'a'.repeat(20), PORT: '9000' });
    expect(config).to.deep.equal({
      RABBITMQ_URL: 'amqp://guest:guest@127.0.0.1:5672',
      MASTER_KEY: key,
      ADMIN_TOKEN: 'a'.repeat(20),
      PORT: 9000,
    });
  });

  it('ignores variables it does not know', () => {
    const config = loadConfig<Config>(schema, {
      MASTER_KEY: key,
      ADMIN_TOKEN: 'a'.repeat(20),
      HOME: '/root',
    });
    expect(config).not.to.have.property('HOME');
  });

  it('when two variables are bad, it names both in one error', () => {
    let caught: unknown;
    try {
      loadConfig<Config>(schema, {
        MASTER_KEY: Buffer.alloc(16).toString('base64'),
        ADMIN_TOKEN: 'x'.repeat(20),
        PORT: 'eighty',
      });
    } catch (err) {
      caught = err;
    }
    expect(caught).to.be.instanceOf(AppError);
    const err = caught as AppError;
    expect(err.code).to.equal('CONFIG.INVALID');
    expect((err.details as { variables: string[] }).variables).to.have.members(['MASTER_KEY', 'PORT']);
    const text = describeConfigError(err);
    expect(text).to.contain('MASTER_KEY').and.to.contain('PORT').and.to.contain('32 bytes');
  });

  it('names a variable that does not have its form without repeating its value, which may hold a password', () => {
    const storeSchema = Joi.object({
      STORE_URL: sharedVariables.STORE_URL,
      NAMESPACE: sharedVariables.NAMESPACE,
      PUBLIC_UI_URL: sharedVariables.PUBLIC_UI_URL,
    });
    let caught: unknown;
    try {
      loadConfig(storeSchema, {
        STORE_URL: 'postgres://admin:S3cretPassw0rd@db:5432/x',
        NAMESPACE: 'Not Allowed S3cret',
        PUBLIC_UI_URL: 'https://ui:S3cretPassw0rd@stacklink.example',
      });
    } catch (err) {
      caught = err;
    }
    expect(caught).to.be.instanceOf(AppError);
    const text = describeConfigError(caught);
    expect((caught as AppError).details).to.deep.include({
      variables: ['STORE_URL', 'NAMESPACE', 'PUBLIC_UI_URL'],
    });
    expect(text).to.contain('STORE_URL: STORE_URL must be mongodb://… or sqlite:<path>');
    expect(text).to.contain('NAMESPACE: NAMESPACE does not have the required form');
    expect(text).to.contain('PUBLIC_UI_URL: PUBLIC_UI_URL must not carry credentials');
    expect(text).to.not.contain('S3cret');
    expect(JSON.stringify((caught as AppError).details)).to.not.contain('S3cret');
  });

  it('when a required variable is missing, it names it', () => {
    expect(() => loadConfig<Config>(schema, { MASTER_KEY: key }))
      .to.throw(AppError)
      .with.property('message')
      .that.contains('ADMIN_TOKEN');
  });
});
