import { expect } from 'chai';
import { uniqueNamespace, waitFor } from '../../src';

describe('waitFor', () => {
  it('resolves with the first truthy value the condition returns', async () => {
    let polls = 0;
    const value = await waitFor(() => (++polls >= 3 ? { polls } : undefined), { intervalMs: 1 });
    expect(value).to.deep.equal({ polls: 3 });
  });

  it('when the condition never holds, it rejects with the given message once the deadline passes', async () => {
    const started = Date.now();
    const error = await waitFor(() => false, {
      timeoutMs: 100,
      intervalMs: 10,
      message: 'the queue never drained',
    }).then(
      () => undefined,
      (err: Error) => err,
    );
    const elapsed = Date.now() - started;
    expect(error?.message).to.match(/^the queue never drained within 100 ms/);
    expect(elapsed).to.be.at.least(95).and.below(1000);
  });

  it('treats a throwing condition as not yet met and reports its last error on timeout', async () => {
    let polls = 0;
    const value = await waitFor(
      () => {
        polls += 1;
        if (polls < 3) throw new Error('not connected');
        return 'connected';
      },
      { intervalMs: 1 },
    );
    expect(value).to.equal('connected');

    const error = await waitFor(
      () => {
        throw new Error('ECONNREFUSED');
      },
      { timeoutMs: 30, message: 'never connected' },
    ).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(error?.message).to.contain('never connected').and.contain('ECONNREFUSED');
  });
});

describe('uniqueNamespace', () => {
  it('gives a short lowercase prefix that the NAMESPACE variable accepts, different on every call', () => {
    const names = new Set(Array.from({ length: 100 }, () => uniqueNamespace('Bus Tests!')));
    expect(names.size).to.equal(100);
    for (const name of names) {
      expect(name).to.match(/^t-bus-tests-[a-f0-9]{12}$/);
      expect(name).to.match(/^[a-z0-9][a-z0-9._-]*$/);
    }
    expect(uniqueNamespace()).to.match(/^t-[a-f0-9]{12}$/);
  });
});
