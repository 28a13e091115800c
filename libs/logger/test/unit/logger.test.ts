import { expect } from 'chai';
import { createCapturingLogger, registerSecret, REDACTED } from '../../src';

describe('logger', () => {
  it('writes JSON lines carrying the service and the child correlation fields', () => {
    const { logger, lines } = createCapturingLogger('webhook-gateway');
    logger.child({ deliveryId: 'd-1' }).child({ eventId: 'e-1' }).info('accepted', { eventKey: 'pr:opened' });
    const line = lines[0]!;
    expect(line).to.include({
      service: 'webhook-gateway',
      deliveryId: 'd-1',
      eventId: 'e-1',
      message: 'accepted',
      eventKey: 'pr:opened',
      level: 'info',
    });
    expect(line.timestamp).to.be.a('string');
  });

  it('redacts values under sensitive field names, however deep', () => {
    const { logger, text } = createCapturingLogger();
    logger.info('calling bitbucket', {
      accessToken: 'tok-123456789',
      request: { headers: { Authorization: 'Bearer abcdefghij' } },
      integration: { webhookSecret: 'shh-very-secret', name: 'main' },
      password: 'hunter2hunter2',
    });
    const out = text();
    expect(out).not.to.contain('tok-123456789');
    expect(out).not.to.contain('abcdefghij');
    expect(out).not.to.contain('shh-very-secret');
    expect(out).not.to.contain('hunter2hunter2');
    expect(out).to.contain(REDACTED);
    expect(out).to.contain('"name":"main"');
  });

  it('never prints a registered secret value, even inside messages, errors and unrelated fields', () => {
    const secret = 'f3a9c1d2e4b5a6978812';
    registerSecret(secret);
    const { logger, text } = createCapturingLogger();
    logger.error(`request to https://x:${secret}@bb.example.com failed`, {
      err: new Error(`bad header ${secret}`),
      note: [`contains ${secret} twice ${secret}`],
    });
    const out = text();
    expect(out).not.to.contain(secret);
    expect(out.split(REDACTED).length - 1).to.be.greaterThanOrEqual(4);
  });

  it('does not hang on cyclic metadata', () => {
    const { logger, lines } = createCapturingLogger();
    const a: Record<string, unknown> = { name: 'a' };
    a.self = a;
    logger.info('cycle', { a });
    expect(lines).to.have.length(1);
  });
});
