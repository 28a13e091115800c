import { expect } from 'chai';
import { createUnknownIdBudget } from '../../src/domain/unknown-id-budget';

describe('budget for lookups of unknown integration ids', () => {
  let clock = 0;
  const now = () => clock;
  beforeEach(() => {
    clock = 1_000_000;
  });

  it('allows perWindow lookups per source, then refuses with the seconds left in the window', () => {
    const budget = createUnknownIdBudget({ perWindow: 3, windowMs: 60_000, now });
    for (let i = 0; i < 3; i++) expect(budget.take('10.0.0.1').allowed).to.equal(true);
    clock += 15_000;
    expect(budget.take('10.0.0.1')).to.deep.equal({ allowed: false, retryAfterSeconds: 45 });
    // Another source has its own budget.
    expect(budget.take('10.0.0.2').allowed).to.equal(true);
    clock += 45_000;
    expect(budget.take('10.0.0.1').allowed).to.equal(true);
  });

  it('tracks at most maxSources addresses, dropping the oldest', () => {
    const budget = createUnknownIdBudget({ perWindow: 1, windowMs: 60_000, maxSources: 2, now });
    budget.take('a');
    expect(budget.take('a').allowed).to.equal(false);
    budget.take('b');
    budget.take('c'); // 'a' is forgotten: a fresh budget, memory stays bounded
    expect(budget.take('a').allowed).to.equal(true);
  });
});
