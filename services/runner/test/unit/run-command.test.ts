import { expect } from 'chai';
import type { RunReadyMessage } from '@stacklink/contracts';
import { startCommand } from '../../src/adapters/start-command';
import { runEnvironment } from '../../src/domain/run-environment';

const run: RunReadyMessage = {
  specVersion: 1,
  type: 'run.ready',
  runId: 'run-1',
  version: 2,
  state: 'QUEUED',
  runType: 'proposed',
  commit: 'c0ffee',
  ref: 'refs/heads/feature',
  pullRequest: { id: 7, sourceRef: 'refs/heads/feature', targetRef: 'refs/heads/main' },
  trigger: { kind: 'pull_request' },
  stack: {
    id: 'stk-1',
    name: 'network',
    integrationId: 'int-1',
    repository: { projectKey: 'PRJ', slug: 'infra' },
    projectRoot: 'stacks/network',
  },
  occurredAt: '2026-01-01T00:00:00.000Z',
};

describe('the run command', () => {
  it('gets the run’s details in STACKLINK_* variables', () => {
    expect(runEnvironment(run)).to.deep.equal({
      STACKLINK_RUN_ID: 'run-1',
      STACKLINK_RUN_TYPE: 'proposed',
      STACKLINK_RUN_VERSION: '2',
      STACKLINK_COMMIT: 'c0ffee',
      STACKLINK_REF: 'refs/heads/feature',
      STACKLINK_STACK_ID: 'stk-1',
      STACKLINK_STACK_NAME: 'network',
      STACKLINK_INTEGRATION_ID: 'int-1',
      STACKLINK_PROJECT_KEY: 'PRJ',
      STACKLINK_REPOSITORY: 'infra',
      STACKLINK_PROJECT_ROOT: 'stacks/network',
      STACKLINK_PULL_REQUEST_ID: '7',
    });
  });

  it('runs through the shell, reports its exit code and keeps its last lines of output', async () => {
    const result = await startCommand(
      'echo "$STACKLINK_STACK_NAME@$STACKLINK_COMMIT"; echo oops >&2; exit 3',
      run,
    ).result;
    expect(result).to.deep.equal({ exitCode: 3, signal: null, tail: ['network@c0ffee', 'oops'] });
  });

  it('does not hand the runner’s own environment (its tokens) to the command', async () => {
    process.env.ADMIN_TOKEN_FOR_TEST = 'secret-value';
    try {
      const result = await startCommand('echo "[$ADMIN_TOKEN_FOR_TEST]"', run).result;
      expect(result.tail).to.deep.equal(['[]']);
    } finally {
      delete process.env.ADMIN_TOKEN_FOR_TEST;
    }
  });
});
