import { expect } from 'chai';
import { planCounts, runSummary, validAnnotations } from '../../src/domain/run-summary';

describe('the run summary the reference runner sends (README "Run summary")', () => {
  it('counts a terraform show -json plan as Terraform does: a replacement is one add and one destroy', () => {
    const plan = {
      resource_changes: [
        { change: { actions: ['create'] } },
        { change: { actions: ['update'] } },
        { change: { actions: ['delete'] } },
        { change: { actions: ['delete', 'create'] } },
        { change: { actions: ['no-op'] } },
        { change: { actions: ['read'] } },
      ],
    };
    expect(planCounts(plan)).to.deep.equal({
      add: 2,
      change: 1,
      destroy: 2,
      summary: 'Plan: 2 to add, 1 to change, 2 to destroy.',
    });
  });

  it('reads no counts from something that is not a plan', () => {
    expect(planCounts({ format_version: '1.2' })).to.equal(undefined);
    expect(planCounts(null)).to.equal(undefined);
  });

  it('keeps valid annotations, drops invalid ones and counts them, and keeps at most 1,000', () => {
    const ok = { path: 'main.tf', severity: 'HIGH', message: 'm' };
    const found = validAnnotations({ annotations: [ok, { ...ok, severity: 'NOPE' }, { path: 'x.tf' }] });
    expect(found).to.deep.equal({ annotations: [ok], dropped: 2 });
    expect(validAnnotations(Array.from({ length: 1001 }, () => ok))).to.deep.include({ dropped: 1 });
  });

  it('sends no summary when the command wrote neither file', () => {
    expect(runSummary(undefined, undefined)).to.deep.equal({ dropped: 0 });
  });
});
