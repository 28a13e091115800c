import { expect } from 'chai';
import { RUN_STATES } from '../../src/domain/model';
import { canTransition, statesAllowing } from '../../src/domain/run-transitions';

describe('canTransition', () => {
  const legal = [
    'QUEUED>RUNNING',
    'RUNNING>FINISHED',
    'RUNNING>FAILED',
    'QUEUED>CANCELED',
    'RUNNING>CANCELED',
  ];
  for (const from of RUN_STATES) {
    for (const to of RUN_STATES) {
      const ok = legal.includes(`${from}>${to}`);
      it(`${ok ? 'allows' : 'refuses'} ${from} → ${to}`, () => {
        expect(canTransition(from, to)).to.equal(ok);
      });
    }
  }

  it('lists the states a target state can be reached from', () => {
    expect(statesAllowing('CANCELED')).to.deep.equal(['QUEUED', 'RUNNING']);
    expect(statesAllowing('QUEUED')).to.deep.equal([]);
  });
});
