import { expect } from 'chai';
import { createBitbucketClient } from '@stacklink/bitbucket';
import { startSimulator, type BitbucketSimulator } from '../../src';
import { rejection } from './helpers';

const KEY = 'stacklink-stk-1';

async function seeded(options: Parameters<typeof startSimulator>[0] = {}) {
  const sim = await startSimulator(options);
  sim.addUser({ name: 'ci', token: 'ci-token', permission: 'read' });
  sim.addRepository({ project: 'PRJ', slug: 'infra' });
  const { commit } = await sim.push({ project: 'PRJ', repo: 'infra', branch: 'main', files: ['main.tf'] });
  return { sim, commit };
}

describe('client against the simulator: Code Insights', () => {
  const sims: BitbucketSimulator[] = [];
  after(async () => Promise.all(sims.map((s) => s.close())));

  it('puts a report, replaces its annotations and reads them back', async () => {
    const { sim, commit } = await seeded();
    sims.push(sim);
    const client = createBitbucketClient({ baseUrl: sim.url, token: 'ci-token' });
    const report = {
      title: 'network (tracked)',
      result: 'PASS' as const,
      data: [{ title: 'To add', type: 'NUMBER', value: 2 }],
    };
    expect(await client.putInsightReport('PRJ', 'infra', commit, KEY, report)).to.equal('stored');
    const one = { path: 'main.tf', line: 3, severity: 'HIGH' as const, message: 'open port' };
    await client.postInsightAnnotations('PRJ', 'infra', commit, KEY, [one, one]);
    await client.deleteInsightAnnotations('PRJ', 'infra', commit, KEY);
    await client.postInsightAnnotations('PRJ', 'infra', commit, KEY, [{ ...one, message: 'second run' }]);
    const held = sim.insightReport({ project: 'PRJ', repo: 'infra', commit, key: KEY })!;
    expect(held).to.deep.include({ title: 'network (tracked)', result: 'PASS' });
    expect(held.annotations.map((a) => a.message)).to.deep.equal(['second run']);
  });

  it('is told apart: a server without Code Insights answers unsupported, a missing commit is an error', async () => {
    const { sim, commit } = await seeded({ codeInsights: false });
    sims.push(sim);
    const client = createBitbucketClient({ baseUrl: sim.url, token: 'ci-token' });
    expect(await client.putInsightReport('PRJ', 'infra', commit, KEY, { title: 't' })).to.equal(
      'unsupported',
    );
    // Deleting the annotations of a report that cannot exist has nothing to do.
    await client.deleteInsightAnnotations('PRJ', 'infra', commit, KEY);
    sim.setCodeInsights(true);
    const missing = await rejection(
      client.putInsightReport('PRJ', 'infra', 'f'.repeat(40), KEY, { title: 't' }),
    );
    expect(missing).to.include({ code: 'BITBUCKET.NOT_FOUND' });
  });

  it('answers 400 naming the field for a bad key, an over-long title or a bad severity, and stores nothing', async () => {
    const { sim, commit } = await seeded();
    sims.push(sim);
    const client = createBitbucketClient({ baseUrl: sim.url, token: 'ci-token' });
    const fieldOf = async (p: Promise<unknown>) => {
      const err = await rejection(p);
      expect(err).to.include({ code: 'BITBUCKET.BAD_REQUEST' });
      // Bitbucket's message names the field (its `context` is the field itself).
      return (err.details as { messages: string[] }).messages.join(' ');
    };
    expect(
      await fieldOf(client.putInsightReport('PRJ', 'infra', commit, 'bad key', { title: 't' })),
    ).to.match(/report key/);
    expect(
      await fieldOf(client.putInsightReport('PRJ', 'infra', commit, KEY, { title: 'x'.repeat(451) })),
    ).to.match(/^title/);
    expect(sim.insightReport({ project: 'PRJ', repo: 'infra', commit, key: KEY })).to.equal(undefined);
    await client.putInsightReport('PRJ', 'infra', commit, KEY, { title: 't' });
    const bad = { path: 'a.tf', severity: 'URGENT' as 'HIGH', message: 'm' };
    expect(await fieldOf(client.postInsightAnnotations('PRJ', 'infra', commit, KEY, [bad]))).to.include(
      'severity',
    );
    expect(sim.insightReport({ project: 'PRJ', repo: 'infra', commit, key: KEY })!.annotations).to.deep.equal(
      [],
    );
  });
});
