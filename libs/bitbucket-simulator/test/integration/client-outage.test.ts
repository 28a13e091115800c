import { expect } from 'chai';
import { createBitbucketClient, type HostAdmission, type HostGate } from '@stacklink/bitbucket';
import { startSimulator, type BitbucketSimulator } from '../../src';
import { rejection } from './helpers';

const TOKEN = 'tok-outage-7d2a-do-not-leak';

/** A gate that marks the host down after `threshold` host failures and then holds every call. */
function countingGate(threshold: number): HostGate & { outcomes: string[]; down: boolean } {
  let failures = 0;
  const gate = {
    outcomes: [] as string[],
    down: false,
    admit: async (): Promise<HostAdmission> =>
      gate.down ? { allowed: false, retryInMs: 4000 } : { allowed: true, probe: false },
    record: async (_host: string, outcome: 'up' | 'down') => {
      gate.outcomes.push(outcome);
      failures = outcome === 'down' ? failures + 1 : 0;
      if (failures >= threshold) gate.down = true;
      return { down: gate.down, retryInMs: gate.down ? 3000 : 0 };
    },
  };
  return gate;
}

describe('client against a simulated Bitbucket outage', () => {
  let sim: BitbucketSimulator;
  const client = (gate?: HostGate) =>
    createBitbucketClient({
      baseUrl: sim.url,
      token: TOKEN,
      retry: { maxAttempts: 1 },
      ...(gate ? { hostGate: gate } : {}),
    });

  beforeEach(async () => {
    sim = await startSimulator();
    sim.addUser({ name: 'ci', token: TOKEN, permission: 'read' });
    sim.addRepository({ project: 'PRJ', slug: 'infra' });
  });

  afterEach(() => sim.close());

  it('answers 503 while unavailable, refuses connections while refused, and serves again on the same URL after', async () => {
    await sim.setOutage('unavailable');
    const unavailable = await rejection(client().getRepository('PRJ', 'infra'));
    expect(unavailable.code).to.equal('BITBUCKET.SERVER_ERROR');
    expect(sim.recorded.requests.at(-1)!.status).to.equal(503);

    await sim.setOutage('refused');
    const refused = await rejection(client().getRepository('PRJ', 'infra'));
    expect(refused.code).to.equal('BITBUCKET.UNREACHABLE');
    expect((refused.details as { cause: string }).cause).to.equal('ECONNREFUSED');

    await sim.setOutage(undefined);
    expect((await client().getRepository('PRJ', 'infra')).slug).to.equal('infra');
  });

  it('tells the host gate each outcome, turns the failure that takes the host down into a wait, and sends nothing while it rests', async () => {
    const gate = countingGate(2);
    await sim.setOutage('unavailable');
    const first = await rejection(client(gate).getRepository('PRJ', 'infra'));
    expect(first.code).to.equal('BITBUCKET.SERVER_ERROR');
    expect(first.waitMs).to.equal(undefined);
    const second = await rejection(client(gate).getRepository('PRJ', 'infra'));
    expect(second.code).to.equal('BITBUCKET.HOST_DOWN');
    expect(second.retryable).to.equal(true);
    expect(second.waitMs).to.equal(3000);
    const seen = sim.recorded.requests.length;

    const held = await rejection(client(gate).getRepository('PRJ', 'infra'));
    expect(held.code).to.equal('BITBUCKET.HOST_DOWN');
    expect(held.waitMs).to.equal(4000);
    expect(sim.recorded.requests.length).to.equal(seen);
    expect(gate.outcomes).to.deep.equal(['down', 'down']);
  });

  it('counts a 4xx as the host answering, and keeps its error as it is', async () => {
    const gate = countingGate(1);
    const missing = await rejection(client(gate).getRepository('PRJ', 'nope'));
    expect(missing.code).to.equal('BITBUCKET.NOT_FOUND');
    expect(gate.outcomes).to.deep.equal(['up']);
    expect(gate.down).to.equal(false);
  });
});
