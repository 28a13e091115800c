import { expect } from 'chai';
import { openEventStream, waitFor, type EventStreamReader } from '@stacklink/testing';
import { System, type Run } from '../support/system';
import { PROJECT, setUpRepositories } from '../support/workload';

interface RunView extends Omit<Run, 'transitions'> {
  transitions: { state: string; at: string }[];
  links: { commit?: string };
}

/**
 * docs/architecture.md §4 "Run logs", every role its own process: a push makes a run, the reference runner's
 * command prints a line every 400 ms, and the stack-trigger API's event stream shows the lines while the
 * run is RUNNING, then its FINISHED state and `end`.
 */
describe('end to end: a run’s log streams while it runs', function () {
  this.timeout(120_000);
  let system: System;
  let stream: EventStreamReader | undefined;

  before(async function () {
    this.timeout(90_000);
    system = await System.start({
      label: 'run-logs',
      gateways: 1,
      triggers: 1,
      reporters: 1,
      runnerCommand: 'for i in 1 2 3 4 5; do echo "step $i of $STACKLINK_STACK_NAME"; sleep 0.4; done',
      env: { runner: { RUNNER_LOG_FLUSH_MS: '100' } },
    });
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.error(system.tails());
  });

  after(async function () {
    this.timeout(60_000);
    stream?.close();
    await system?.close();
  });

  it('a push → the stream shows the command’s lines while RUNNING, then FINISHED and end', async () => {
    const [stack] = await setUpRepositories(system, 1);
    const pushed = await system.sim.push({
      project: PROJECT,
      repo: 'repo-1',
      branch: 'main',
      files: ['infra/network.tf'],
    });
    const run = await waitFor(async () => (await system.runsOf(stack!.id))[0], {
      timeoutMs: 30_000,
      message: 'the push made a run',
    });
    expect(run.commit).to.equal(pushed.commit);

    stream = await openEventStream(`${system.api.url}/api/v1/runs/${run.id}/logs/stream`, {
      headers: { authorization: `Bearer ${system.adminToken}` },
    });
    expect(stream.status).to.equal(200);
    const first = await stream.waitForEvent((e) => e.event === 'chunk', {
      timeoutMs: 30_000,
      message: 'the first line of the command',
    });
    // The command prints for two seconds: its first line arrives while the run is still RUNNING.
    const whileRunning = await system.call<RunView>(system.api, 'GET', `/api/v1/runs/${run.id}`);
    expect(whileRunning.state).to.equal('RUNNING');
    expect(JSON.parse(first.data)).to.include({ stream: 'stdout' });

    const end = await stream.waitForEvent((e) => e.event === 'end', { timeoutMs: 30_000, message: 'end' });
    await stream.ended;
    expect(JSON.parse(end.data)).to.deep.equal({ state: 'FINISHED' });

    const chunks = stream.events
      .filter((e) => e.event === 'chunk')
      .map((e) => ({ id: e.id, ...(JSON.parse(e.data) as { seq: number; stream: string; text: string }) }));
    expect(chunks.map((c) => c.id)).to.deep.equal(chunks.map((c) => String(c.seq)));
    expect(chunks.map((c) => c.seq)).to.deep.equal(chunks.map((_, i) => i));
    const output = chunks
      .filter((c) => c.stream === 'stdout')
      .map((c) => c.text)
      .join('');
    expect(output).to.equal([1, 2, 3, 4, 5].map((i) => `step ${i} of ${stack!.name}\n`).join(''));
    expect(chunks.at(-1)).to.include({ stream: 'system', text: 'exit code 0\n' });
    const states = stream.events
      .filter((e) => e.event === 'state')
      .map((e) => JSON.parse(e.data).state as string);
    expect(states.at(-1)).to.equal('FINISHED');
    expect(states).to.include('RUNNING');
    // Several lines reached the stream before the run finished, not all at once at the end.
    const finishedAt = stream.events.findIndex((e) => e.event === 'state' && e.data.includes('FINISHED'));
    expect(stream.events.slice(0, finishedAt).filter((e) => e.event === 'chunk').length).to.be.greaterThan(1);

    const shown = await system.call<RunView>(system.api, 'GET', `/api/v1/runs/${run.id}`);
    expect(shown.transitions.map((t) => t.state)).to.deep.equal(['QUEUED', 'RUNNING', 'FINISHED']);
    expect(shown.links.commit).to.equal(
      `${system.sim.url}/projects/${PROJECT}/repos/repo-1/commits/${pushed.commit}`,
    );
    const page = await system.call<{ chunks: unknown[]; complete: boolean }>(
      system.api,
      'GET',
      `/api/v1/runs/${run.id}/logs`,
    );
    expect(page.complete).to.equal(true);
    expect(page.chunks).to.have.length(chunks.length);
  });
});
