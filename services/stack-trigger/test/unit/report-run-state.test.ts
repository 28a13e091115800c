import { expect } from 'chai';
import { createSilentLogger } from '@stacklink/logger';
import { openSqliteStore } from '../../src/adapters/sqlite/sqlite-store';
import type { Store } from '../../src/adapters/store';
import type { Stack } from '../../src/domain/model';
import { createReportRunState } from '../../src/domain/report-run-state';
import { fakeQueue, recordingRunEvents } from '../support/fakes';
import { stackInput } from '../support/events';

describe('reportRunState', () => {
  let store: Store;
  let stack: Stack;

  beforeEach(async () => {
    store = openSqliteStore(':memory:');
    stack = await store.stacks.create(stackInput({ projectRoot: 'infra' }));
  });
  afterEach(() => store.close());

  async function runningRun() {
    const { run } = await store.runs.create({
      stackId: stack.id,
      type: 'tracked',
      commit: 'a'.repeat(40),
      ref: 'refs/heads/main',
      trigger: { kind: 'manual' },
    });
    const moved = await store.runs.transition(run.id, ['QUEUED'], 'RUNNING');
    return moved.ok ? moved.run : run;
  }

  it('when the process died after storing FINISHED but before announcing it, the repeated report announces it and still answers 409', async () => {
    const run = await runningRun();
    const events = recordingRunEvents();
    const queue = fakeQueue();
    const deps = { stacks: store.stacks, runs: store.runs, queue, logger: createSilentLogger() };
    const dying = createReportRunState({
      ...deps,
      runEvents: {
        ...events,
        publishStateChanged: async () => {
          throw new Error('process died before announcing');
        },
      },
    });
    const report = createReportRunState({ ...deps, runEvents: events });

    const first = await dying(run.id, 'FINISHED', 'exit code 0').catch((err: unknown) => err);
    expect(first).to.be.instanceOf(Error);
    expect((await store.runs.get(run.id))!.state).to.equal('FINISHED');

    const again = await report(run.id, 'FINISHED', 'exit code 0').catch((err: unknown) => err);

    expect(again).to.have.property('status', 409);
    expect(events.stateChanged.map((r) => [r.id, r.state, r.version])).to.deep.equal([
      [run.id, 'FINISHED', 3],
    ]);
    expect((await store.runs.get(run.id))!.version, 'nothing changed').to.equal(3);
  });

  it('a repeated RUNNING report stays a plain 409 and announces nothing: it is how a second runner is refused', async () => {
    const run = await runningRun();
    const events = recordingRunEvents();
    const report = createReportRunState({
      stacks: store.stacks,
      runs: store.runs,
      queue: fakeQueue(),
      runEvents: events,
      logger: createSilentLogger(),
    });

    const again = await report(run.id, 'RUNNING').catch((err: unknown) => err);

    expect(again).to.have.property('status', 409);
    expect(events.stateChanged).to.deep.equal([]);
  });
});
