import { expect } from 'chai';
import { MAX_URL_LENGTH, toCommitStatus, type RunStatusInput } from '../../src/domain/commit-status';
import type { RunState } from '../../src/domain/model';

const run = (overrides: Partial<RunStatusInput> = {}): RunStatusInput => ({
  runId: 'run-7',
  version: 3,
  state: 'RUNNING',
  runType: 'proposed',
  ref: 'refs/heads/feature',
  stack: { id: 'stk-1', name: 'network' },
  ...overrides,
});
const ui = { publicUiUrl: 'https://stacklink.example.com/', cancelledSupported: true };

describe('commit status of a run (docs/architecture.md §8)', () => {
  it('is keyed stacklink/<stack id>, named after the stack and run type, and links to the run', () => {
    expect(toCommitStatus(run(), ui)).to.deep.equal({
      key: 'stacklink/stk-1',
      // Required builds match the key or the parent (README "Require a stack before merging").
      parent: 'stacklink/stk-1',
      state: 'INPROGRESS',
      url: 'https://stacklink.example.com/stacks/stk-1/runs/run-7',
      name: 'network (proposed)',
      description: 'Running',
      ref: 'refs/heads/feature',
      buildNumber: 'run-7',
    });
  });

  const mapping: [RunState, string][] = [
    ['QUEUED', 'INPROGRESS'],
    ['RUNNING', 'INPROGRESS'],
    ['FINISHED', 'SUCCESSFUL'],
    ['FAILED', 'FAILED'],
    ['CANCELED', 'CANCELLED'],
  ];
  for (const [state, expected] of mapping) {
    it(`maps a ${state} run to ${expected}`, () => {
      expect(toCommitStatus(run({ state }), ui).state).to.equal(expected);
    });
  }

  it('posts a canceled run as FAILED on a server without the CANCELLED state', () => {
    expect(toCommitStatus(run({ state: 'CANCELED' }), { ...ui, cancelledSupported: false }).state).to.equal(
      'FAILED',
    );
  });

  it("puts the runner's note after the state in the description", () => {
    expect(toCommitStatus(run({ state: 'FAILED', note: 'exit code 2' }), ui).description).to.equal(
      'Failed: exit code 2',
    );
  });

  it("keeps the key, name, url and description within Bitbucket's limits", () => {
    const status = toCommitStatus(
      run({ stack: { id: 'x'.repeat(300), name: 'n'.repeat(300) }, note: 'd'.repeat(400) }),
      { ...ui, publicUiUrl: `https://ui.example.com/${'p'.repeat(500)}` },
    );
    expect(status.key.length).to.be.at.most(255);
    expect(status.name.length).to.be.at.most(255);
    expect(status.description.length).to.be.at.most(255);
    expect(status.url.length).to.be.at.most(MAX_URL_LENGTH);
    expect(status.url).to.equal('https://ui.example.com');
  });
});
