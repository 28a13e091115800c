import { expect } from 'chai';
import * as contract from '@stacklink/stack-trigger';
import { RUN_READY, RUNS_EXCHANGE, RUNS_READY_QUEUE, runsReadyQueueSpec } from '../../src/contract';

describe('the runner’s copy of the runs exchange contract', () => {
  it('names the exchange, routing key and queue as stack-trigger’s run-messages.ts does', () => {
    expect([RUNS_EXCHANGE, RUN_READY, RUNS_READY_QUEUE]).to.deep.equal([
      contract.RUNS_EXCHANGE,
      contract.RUN_READY,
      contract.RUNS_READY_QUEUE,
    ]);
  });

  it('declares runs.ready exactly as stack-trigger does, so RabbitMQ accepts both declarations', () => {
    expect(runsReadyQueueSpec).to.deep.equal(contract.runsReadyQueueSpec);
  });
});
