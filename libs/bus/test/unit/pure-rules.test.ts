import { expect } from 'chai';
import { Registry } from 'prom-client';
import { AppError } from '@stacklink/errors';
import { createSilentLogger } from '@stacklink/logger';
import { reconnectDelayMs } from '../../src/backoff';
import {
  attemptOf,
  deadLetterHeaders,
  decideFailure,
  decideWait,
  describeFailure,
  HEADERS,
  replayHeaders,
  retryHeaders,
  waitHeaders,
} from '../../src/headers';
import { busMetrics } from '../../src/metrics';
import { createNamer } from '../../src/names';
import { queueDeclarations } from '../../src/queue-arguments';
import { createBus, describeBrokerUrl, topologyNames } from '../../src';

describe('bus names', () => {
  it('prefixes every exchange and queue with the namespace and strips it back, leaving the default exchange alone', () => {
    const namer = createNamer('t-abc');
    expect(namer.physical('vcs.events')).to.equal('t-abc.vcs.events');
    expect(namer.logical('t-abc.vcs.events')).to.equal('vcs.events');
    expect(namer.physical('')).to.equal('');
    expect(createNamer('').physical('vcs.events')).to.equal('vcs.events');
    expect(createNamer(undefined).logical('vcs.events')).to.equal('vcs.events');
  });

  it('lists the work, dead-letter and one delay queue per distinct delay of a topology', () => {
    const names = topologyNames({
      exchanges: [{ name: 'vcs.events' }],
      queues: [
        { name: 'a', bindings: [], retry: { delaysMs: [100, 100, 300] } },
        { name: 'b', bindings: [] },
      ],
    });
    expect(names.exchanges).to.deep.equal(['vcs.events']);
    expect(names.queues).to.deep.equal([
      'a',
      'a.dlq',
      'a.retry.100ms',
      'a.retry.300ms',
      'b',
      'b.dlq',
      'b.retry.1000ms',
      'b.retry.5000ms',
      'b.retry.30000ms',
    ]);
  });

  it('declares delay queues whose TTL dead-letters back to the namespaced work queue', () => {
    const [work, dlq, retry] = queueDeclarations(
      { name: 'q', bindings: [], retry: { delaysMs: [250] }, deliveryLimit: 5 },
      createNamer('ns'),
    );
    expect(work).to.deep.equal({
      name: 'ns.q',
      arguments: {
        'x-queue-type': 'quorum',
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': 'ns.q.dlq',
        'x-delivery-limit': 5,
      },
    });
    expect(dlq).to.deep.equal({ name: 'ns.q.dlq', arguments: { 'x-queue-type': 'quorum' } });
    expect(retry?.name).to.equal('ns.q.retry.250ms');
    expect(retry?.arguments).to.include({
      'x-message-ttl': 250,
      'x-dead-letter-exchange': '',
      'x-dead-letter-routing-key': 'ns.q',
    });
  });
});

describe('bus reconnect backoff', () => {
  const options = { initialDelayMs: 100, maxDelayMs: 1000 };

  it('doubles per attempt up to the cap, with jitter between half and all of the step', () => {
    expect([1, 2, 3, 4, 5, 10].map((n) => reconnectDelayMs(n, options, () => 1))).to.deep.equal([
      100, 200, 400, 800, 1000, 1000,
    ]);
    expect([1, 2, 3, 4, 5].map((n) => reconnectDelayMs(n, options, () => 0))).to.deep.equal([
      50, 100, 200, 400, 500,
    ]);
    expect(reconnectDelayMs(3, options, () => 0.5)).to.equal(300);
  });
});

describe('bus failure handling rules', () => {
  const delays = [100, 300];

  it('retries anything but a non-retryable AppError while delays remain, then dead-letters', () => {
    const transient = new Error('socket hang up');
    expect(decideFailure(transient, 1, delays)).to.deep.equal({ action: 'retry', delayMs: 100 });
    expect(decideFailure(transient, 2, delays)).to.deep.equal({ action: 'retry', delayMs: 300 });
    expect(decideFailure(transient, 3, delays)).to.deep.equal({ action: 'dead-letter' });
    expect(decideFailure(new AppError('X.Y', 'retry me', { retryable: true }), 1, delays).action).to.equal(
      'retry',
    );
    expect(decideFailure(new AppError('X.Y', 'no point', { retryable: false }), 1, delays)).to.deep.equal({
      action: 'dead-letter',
    });
    expect(decideFailure('a thrown string', 1, [])).to.deep.equal({ action: 'dead-letter' });
  });

  it('lets a message whose dependency is down wait its one delay without counting an attempt, until the horizon', () => {
    const policy = { delayMs: 300, horizonMs: 10_000 };
    const hostDown = Object.assign(new AppError('BITBUCKET.HOST_DOWN', 'resting', { retryable: true }), {
      waitMs: 5000,
    });
    const now = new Date('2026-01-01T00:00:10.000Z');
    expect(decideWait(hostDown, {}, policy, now)).to.deep.equal({ action: 'wait', delayMs: 300 });
    const waitingAWhile = { [HEADERS.waitingSince]: '2026-01-01T00:00:00.001Z' };
    expect(decideWait(hostDown, waitingAWhile, policy, now)).to.deep.equal({ action: 'wait', delayMs: 300 });
    const waitingLong = { [HEADERS.waitingSince]: '2026-01-01T00:00:00.000Z' };
    expect(decideWait(hostDown, waitingLong, policy, now)).to.deep.equal({ action: 'dead-letter' });
    expect(decideWait(new Error('plain'), {}, policy, now)).to.equal(undefined);
    expect(decideWait(Object.assign(new Error('odd'), { waitMs: 'soon' }), {}, policy, now)).to.equal(
      undefined,
    );
    expect(decideWait(hostDown, {}, undefined, now)).to.equal(undefined);
  });

  it('keeps the attempt and the first wait time on a waiting copy, and drops the wait on an ordinary retry', () => {
    const ctx = {
      headers: { [HEADERS.attempt]: 2, [HEADERS.waitingSince]: '2026-01-01T00:00:00.000Z' },
      attempt: 2,
      origin: { exchange: 'vcs-events', routingKey: 'push' },
      failure: { code: 'BITBUCKET.HOST_DOWN', message: 'resting' },
      now: new Date('2026-01-01T00:05:00.000Z'),
    };
    const waiting = waitHeaders(ctx);
    expect(waiting[HEADERS.attempt]).to.equal(2);
    expect(waiting[HEADERS.waitingSince]).to.equal('2026-01-01T00:00:00.000Z');
    const retried = retryHeaders(ctx);
    expect(retried[HEADERS.attempt]).to.equal(3);
    expect(retried).not.to.have.property(HEADERS.waitingSince);
  });

  it('describes an AppError by its code and anything else as HANDLER.FAILED, with a bounded message', () => {
    expect(describeFailure(new AppError('BITBUCKET.UNAVAILABLE', '503'))).to.deep.equal({
      code: 'BITBUCKET.UNAVAILABLE',
      message: '503',
    });
    const long = describeFailure(new Error('x'.repeat(5000)));
    expect(long.code).to.equal('HANDLER.FAILED');
    expect(long.message.length).to.be.at.most(1001);
  });

  it('reads the attempt from x-attempt, treating a missing or nonsense value as the first', () => {
    expect(attemptOf({ 'x-attempt': 3 })).to.equal(3);
    expect(attemptOf({})).to.equal(1);
    expect(attemptOf(undefined)).to.equal(1);
    expect(attemptOf({ 'x-attempt': 'zero' })).to.equal(1);
  });

  it('a retry copy counts the attempt up and keeps the first failure time and the origin; broker headers are dropped', () => {
    const origin = { exchange: 'vcs.events', routingKey: 'bitbucket-dc.push' };
    const failure = { code: 'E.X', message: 'boom' };
    const first = retryHeaders({
      headers: { integrationId: 'i-1', 'x-death': [{}], 'x-stacklink-publish-id': 'p' },
      attempt: 1,
      origin,
      failure,
      now: new Date('2024-01-01T00:00:00Z'),
    });
    expect(first).to.deep.equal({
      integrationId: 'i-1',
      'x-attempt': 2,
      'x-original-exchange': 'vcs.events',
      'x-original-routing-key': 'bitbucket-dc.push',
      'x-first-failed-at': '2024-01-01T00:00:00.000Z',
      'x-last-error-code': 'E.X',
      'x-last-error-message': 'boom',
    });
    const second = retryHeaders({
      headers: first,
      attempt: 2,
      origin,
      failure,
      now: new Date('2024-01-02T00:00:00Z'),
    });
    expect(second).to.include({ 'x-attempt': 3, 'x-first-failed-at': '2024-01-01T00:00:00.000Z' });
  });

  it('a dead-letter copy carries the error, the attempts and the origin, and a replay strips them again', () => {
    const parked = deadLetterHeaders({
      headers: {
        integrationId: 'i-1',
        'x-attempt': 3,
        'x-last-error-code': 'E.X',
        'x-first-failed-at': 'T0',
      },
      attempt: 3,
      origin: { exchange: 'vcs.events', routingKey: 'bitbucket-dc.push' },
      failure: { code: 'E.X', message: 'boom' },
      now: new Date('2024-01-02T00:00:00Z'),
    });
    expect(parked).to.deep.equal({
      integrationId: 'i-1',
      'x-attempt': 3,
      'x-error-code': 'E.X',
      'x-error-message': 'boom',
      'x-attempts': 3,
      'x-original-exchange': 'vcs.events',
      'x-original-routing-key': 'bitbucket-dc.push',
      'x-first-failed-at': 'T0',
    });
    expect(replayHeaders(parked)).to.deep.equal({
      integrationId: 'i-1',
      'x-original-exchange': 'vcs.events',
      'x-original-routing-key': 'bitbucket-dc.push',
    });
  });
});

describe('bus without a broker', () => {
  const topology = { exchanges: [{ name: 'e' }], queues: [{ name: 'q', bindings: [] }] };

  it('metrics are get-or-create, so several buses can share one registry', () => {
    const registry = new Registry();
    const first = busMetrics(registry);
    const second = busMetrics(registry);
    expect(second.published).to.equal(first.published);
    expect(() =>
      createBus({
        url: 'amqp://127.0.0.1',
        logger: createSilentLogger(),
        topology,
        metricsRegistry: registry,
      }),
    ).not.to.throw();
  });

  it('publishing before start rejects at once as not connected', async () => {
    const bus = createBus({
      url: 'amqp://127.0.0.1',
      logger: createSilentLogger(),
      topology,
      metricsRegistry: new Registry(),
    });
    const error = await bus.publish('e', 'k', {}, { messageId: 'm' }).then(
      () => undefined,
      (err: AppError) => err,
    );
    expect(error).to.include({ code: 'BUS.PUBLISH_FAILED', retryable: true, status: 503 });
    expect(bus.isReady()).to.equal(false);
  });

  it('consuming a queue that is not in the topology is refused', async () => {
    const bus = createBus({
      url: 'amqp://127.0.0.1',
      logger: createSilentLogger(),
      topology,
      metricsRegistry: new Registry(),
    });
    const error = await bus
      .consume('other', async () => undefined)
      .then(
        () => undefined,
        (err: AppError) => err,
      );
    expect(error).to.include({ code: 'BUS.UNKNOWN_QUEUE' });
  });

  it('a retry delay that is not a positive integer is refused when the bus is created', () => {
    expect(() =>
      createBus({
        url: 'amqp://127.0.0.1',
        logger: createSilentLogger(),
        topology: { exchanges: [], queues: [{ name: 'q', bindings: [], retry: { delaysMs: [0] } }] },
        metricsRegistry: new Registry(),
      }),
    ).to.throw(/positive integer/);
  });

  it('describes the broker URL without user or password', () => {
    expect(describeBrokerUrl('amqp://stacklink:s3cret@rabbit.internal:5672/prod')).to.equal(
      'amqp://rabbit.internal:5672/prod',
    );
    expect(describeBrokerUrl('not a url')).not.to.contain('not a url');
  });
});
