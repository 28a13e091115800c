import { expect } from 'chai';
import { isAppError } from '@stacklink/errors';
import {
  INTEGRATION_EVENTS_EXCHANGE,
  RUN_READY,
  RUN_STATE_CHANGED,
  RUNS_EXCHANGE,
  RUNS_READY_QUEUE,
  STATUS_UPDATES_QUEUE,
  runMessageSchemas,
  runsReadyQueueSpec,
  statusUpdatesQueueSpec,
  validateIntegrationEvent,
  validateRunMessage,
  type RunMessage,
} from '../../src';

function runMessage(overrides: Partial<RunMessage> = {}): RunMessage {
  return {
    specVersion: 1,
    type: RUN_READY,
    runId: 'run-1',
    version: 2,
    state: 'QUEUED',
    runType: 'proposed',
    commit: 'a'.repeat(40),
    ref: 'refs/heads/feature',
    pullRequest: { id: 7, sourceRef: 'refs/heads/feature', targetRef: 'refs/heads/main' },
    trigger: { kind: 'pull_request', eventId: 'evt-1' },
    stack: {
      id: 'stk-1',
      name: 'prod',
      integrationId: 'int-1',
      repository: { projectKey: 'PRJ', slug: 'infra' },
      projectRoot: '',
    },
    occurredAt: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
}

function failure(fn: () => unknown): { code: string; retryable: boolean; message: string } {
  try {
    fn();
  } catch (err) {
    if (isAppError(err)) return { code: err.code, retryable: err.retryable, message: err.message };
    throw err;
  }
  throw new Error('expected a failure');
}

describe('the runs exchange contract', () => {
  it('names the exchange, routing keys and queues of docs/architecture.md §1 and §2', () => {
    expect([RUNS_EXCHANGE, RUN_READY, RUN_STATE_CHANGED]).to.deep.equal([
      'runs',
      'run.ready',
      'run.state_changed',
    ]);
    expect([RUNS_READY_QUEUE, STATUS_UPDATES_QUEUE]).to.deep.equal([
      'runs.ready',
      'stack-trigger.status-updates',
    ]);
  });

  it('binds runs.ready to run.ready with three retries and the status updates to run.state_changed with four', () => {
    expect(runsReadyQueueSpec).to.deep.equal({
      name: 'runs.ready',
      bindings: [{ exchange: 'runs', pattern: 'run.ready' }],
      retry: { delaysMs: [1000, 5000, 30000] },
    });
    expect(statusUpdatesQueueSpec).to.deep.equal({
      name: 'stack-trigger.status-updates',
      bindings: [{ exchange: 'runs', pattern: 'run.state_changed' }],
      retry: { delaysMs: [1000, 5000, 30000, 120000] },
    });
  });

  it('refuses a summary annotation with an unknown severity, naming the field', () => {
    const bad = runMessage({
      type: RUN_STATE_CHANGED,
      state: 'FINISHED',
      summary: { add: 1, annotations: [{ path: 'a.tf', severity: 'CRITICAL' as 'HIGH', message: 'm' }] },
    });
    const err = failure(() => validateRunMessage(RUN_STATE_CHANGED, bad, 'producer'));
    expect(err.code).to.equal('RUNS.INVALID_MESSAGE');
    expect(err.message).to.include('summary.annotations[0].severity');
  });

  it('describes every field of the RunMessage type, in both messages', () => {
    // runMessage() sets every field of the type, optional ones included.
    const full = runMessage({
      note: 'exit code 0',
      startedAt: '2026-01-01T00:00:00.000Z',
      summary: { add: 1, change: 0, destroy: 0 },
    });
    for (const type of [RUN_READY, RUN_STATE_CHANGED] as const) {
      const fields = runMessageSchemas[type].describe().keys as Record<string, { keys?: object }>;
      expect(Object.keys(fields).sort(), type).to.deep.equal(Object.keys(full).sort());
      expect(Object.keys(fields.stack!.keys!).sort(), type).to.deep.equal(Object.keys(full.stack).sort());
      expect(Object.keys(fields.pullRequest!.keys!).sort(), type).to.deep.equal(
        Object.keys({ ...full.pullRequest, url: '' }).sort(),
      );
    }
  });

  it('accepts what stack-trigger publishes, in producer and consumer mode', () => {
    expect(validateRunMessage(RUN_READY, runMessage(), 'producer')).to.deep.equal(runMessage());
    const changed = runMessage({ type: RUN_STATE_CHANGED, state: 'FAILED', note: 'exit code 1' });
    expect(validateRunMessage(RUN_STATE_CHANGED, changed, 'consumer')).to.deep.equal(changed);
  });

  it('lets a consumer read a message with fields added later, which the producer may not send', () => {
    const newer = { ...runMessage(), durationMs: 12 };
    expect(validateRunMessage(RUN_READY, newer, 'consumer')).to.include({ runId: 'run-1' });
    expect(failure(() => validateRunMessage(RUN_READY, newer, 'producer')).code).to.equal(
      'RUNS.INVALID_MESSAGE',
    );
  });

  it('refuses a message of the other type, a missing field or a wrong state as not retryable', () => {
    for (const [bad, field] of [
      [runMessage({ type: RUN_STATE_CHANGED }), 'type'],
      [{ ...runMessage(), stack: { ...runMessage().stack, projectRoot: undefined } }, 'stack.projectRoot'],
      [runMessage({ state: 'DONE' as RunMessage['state'] }), 'state'],
      [runMessage({ version: 0 }), 'version'],
    ] as const) {
      const f = failure(() => validateRunMessage(RUN_READY, bad, 'consumer'));
      expect(f.code, field).to.equal('RUNS.INVALID_MESSAGE');
      expect(f.retryable, field).to.equal(false);
      expect(f.message, field).to.contain('not a run.ready message').and.to.contain(field);
    }
  });
});

describe('the integration events contract', () => {
  const event = {
    type: 'integration.secret_rotated',
    integrationId: 'int-1',
    occurredAt: '2026-01-01T00:00:00Z',
  };

  it('is published on integration.events and carries the type, the integration and when', () => {
    expect(INTEGRATION_EVENTS_EXCHANGE).to.equal('integration.events');
    expect(validateIntegrationEvent(event, 'producer')).to.deep.equal(event);
  });

  it('refuses an unknown type or a missing integration as not retryable', () => {
    for (const bad of [
      { ...event, type: 'integration.renamed' },
      { type: event.type, occurredAt: event.occurredAt },
    ]) {
      const f = failure(() => validateIntegrationEvent(bad, 'consumer'));
      expect(f.code).to.equal('INTEGRATION_EVENTS.INVALID_MESSAGE');
      expect(f.retryable).to.equal(false);
    }
  });
});
