import { expect } from 'chai';
import {
  annotationPages,
  reportKeyFor,
  toInsightReport,
  type RunReportInput,
} from '../../src/domain/insight-report';
import { planCounts } from '../../src/domain/report-pull-request-comment';

const run = (overrides: Partial<RunReportInput> = {}): RunReportInput => ({
  runId: 'run-7',
  version: 3,
  state: 'FINISHED',
  runType: 'proposed',
  ref: 'refs/heads/feature',
  stack: { id: 'stk-1', name: 'network' },
  occurredAt: '2026-01-01T00:01:30.000Z',
  startedAt: '2026-01-01T00:00:00.000Z',
  ...overrides,
});

describe('Code Insights report of a run (docs/architecture.md §8)', () => {
  it('is keyed stacklink-<stack id>, PASS when FINISHED, links the run and carries the counts and duration', () => {
    const report = toInsightReport(
      run({
        summary: { add: 1, change: 2, destroy: 3, summary: 'Plan: 1 to add, 2 to change, 3 to destroy.' },
      }),
      'https://ui.example.com/',
    );
    expect(report).to.deep.equal({
      key: 'stacklink-stk-1',
      title: 'network (proposed)',
      details: 'Plan: 1 to add, 2 to change, 3 to destroy.',
      reporter: 'Stacklink',
      link: 'https://ui.example.com/stacks/stk-1/runs/run-7',
      result: 'PASS',
      data: [
        { title: 'Run type', type: 'TEXT', value: 'proposed' },
        { title: 'State', type: 'TEXT', value: 'Finished' },
        { title: 'Duration', type: 'DURATION', value: 90_000 },
        { title: 'To add', type: 'NUMBER', value: 1 },
        { title: 'To change', type: 'NUMBER', value: 2 },
        { title: 'To destroy', type: 'NUMBER', value: 3 },
      ],
    });
  });

  it('is FAIL when FAILED, has no verdict while RUNNING or once CANCELED, and says the state without a summary', () => {
    expect(toInsightReport(run({ state: 'FAILED', note: 'exit code 1' }), 'https://ui')).to.deep.include({
      result: 'FAIL',
      details: 'Failed\nexit code 1',
    });
    for (const state of ['RUNNING', 'CANCELED'] as const) {
      expect(toInsightReport(run({ state }), 'https://ui')).not.to.have.property('result');
    }
    expect(
      toInsightReport(run({ startedAt: undefined }), 'https://ui').data.map((d) => d.title),
    ).to.deep.equal(['Run type', 'State']);
  });

  it('splits annotations into pages of 1,000 and keeps a stack id within the key limit', () => {
    const one = { path: 'a.tf', severity: 'LOW' as const, message: 'm' };
    expect(annotationPages(Array.from({ length: 2001 }, () => one)).map((p) => p.length)).to.deep.equal([
      1000, 1000, 1,
    ]);
    expect(reportKeyFor('x'.repeat(300))).to.have.length(100);
  });

  it('gives pull-request comments the plan counts, or nothing without them', () => {
    expect(planCounts({ summary: { add: 2, destroy: 0 } })).to.equal(
      'Plan: **2** to add, **?** to change, **0** to destroy.',
    );
    expect(planCounts({ summary: { summary: 'no counts' } })).to.equal(undefined);
    expect(planCounts({})).to.equal(undefined);
  });
});
