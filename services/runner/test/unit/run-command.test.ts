import { expect } from 'chai';
import type { RunReadyMessage } from '@stacklink/contracts';
import { INHERITED_VARIABLES, startCommand } from '../../src/adapters/start-command';
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

  it('does not hand the runner’s own environment (its token, broker URL, config) to the command', async () => {
    const secrets = {
      RUNNER_TOKEN: 'runner-secret-value-0123456789abcdef',
      RABBITMQ_URL: 'amqp://runner:broker-password@broker:5672',
      RUNNER_COMMAND: 'terraform apply',
      SOMETHING_ELSE: 'other-secret-value',
    };
    Object.assign(process.env, secrets);
    try {
      const result = await startCommand('env', run, undefined, 200).result;
      const names = result.tail.map((line) => line.split('=')[0]);
      expect(names).to.include.members(['PATH', 'STACKLINK_RUN_ID', 'STACKLINK_COMMIT']);
      expect(
        names.filter((n) => !INHERITED_VARIABLES.includes(n!) && !n!.startsWith('STACKLINK_')),
      ).to.deep.equal(
        // sh itself sets PWD (and some shells SHLVL, _).
        names.filter((n) => n === 'PWD' || n === 'SHLVL' || n === '_'),
      );
      for (const value of Object.values(secrets)) expect(result.tail.join('\n')).not.to.contain(value);
    } finally {
      for (const name of Object.keys(secrets)) delete process.env[name];
    }
  });
});
