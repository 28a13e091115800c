import { expect } from 'chai';
import { WEBHOOK_EVENTS, type Delivery } from '@stacklink/bitbucket-simulator';
import { waitFor } from '@stacklink/testing';
import type { Run, Stack, System } from './system';

export const PROJECT = 'LOAD';

/** One push the simulator made and how the gateways answered its webhook. */
export interface SentPush {
  stackId: string;
  commit: string;
  type: Run['type'];
  delivery: Delivery;
}

/**
 * A repository per stack, each with a webhook to the gateways: pushes alternate between `main`
 * (tracked runs, one at a time per stack) and a new feature branch (proposed runs, in parallel).
 */
export async function setUpRepositories(system: System, count: number): Promise<Stack[]> {
  const integration = await system.createIntegration();
  const stacks: Stack[] = [];
  for (let i = 1; i <= count; i++) {
    const slug = `repo-${i}`;
    system.sim.addRepository({ project: PROJECT, slug, files: ['README.md', 'infra/main.tf'] });
    system.sim.addWebhook({
      project: PROJECT,
      repo: slug,
      url: integration.webhook.endpoint,
      secret: integration.webhook.secret,
      events: [...WEBHOOK_EVENTS],
    });
    stacks.push(
      await system.createStack({
        name: `stack-${i}`,
        integrationId: integration.id,
        repository: { projectKey: PROJECT, slug },
        branch: 'main',
        projectRoot: 'infra',
      }),
    );
  }
  return stacks;
}

/** Push number `n` (0-based) of a workload over `stacks`. */
export async function push(system: System, stacks: Stack[], n: number): Promise<SentPush> {
  const index = n % stacks.length;
  const stack = stacks[index]!;
  const tracked = Math.floor(n / stacks.length) % 2 === 0;
  const result = await system.sim.push({
    project: PROJECT,
    repo: `repo-${index + 1}`,
    branch: tracked ? 'main' : `feature-${n}`,
    files: [`infra/file-${n}.tf`],
  });
  expect(result.deliveries, 'one webhook per push').to.have.length(1);
  return {
    stackId: stack.id,
    commit: result.commit,
    type: tracked ? 'tracked' : 'proposed',
    delivery: result.deliveries[0]!,
  };
}

/** Runs `count` pushes, `concurrency` at a time, calling `onSent` after each (in completion order). */
export async function pushMany(
  system: System,
  stacks: Stack[],
  range: { from: number; count: number; concurrency: number },
  onSent: (sent: SentPush, done: number) => Promise<void> | void = () => undefined,
): Promise<SentPush[]> {
  const sent: SentPush[] = [];
  let next = range.from;
  const end = range.from + range.count;
  const lane = async () => {
    while (next < end) {
      const result = await push(system, stacks, next++);
      sent.push(result);
      await onSent(result, sent.length);
    }
  };
  await Promise.all(Array.from({ length: range.concurrency }, lane));
  return sent;
}

export const runKey = (r: { stackId: string; commit: string; type: string }) =>
  `${r.stackId} ${r.commit} ${r.type}`;

/**
 * The end state every accepted delivery must reach (docs/architecture.md §9): exactly its run, FINISHED, no
 * duplicate; in Bitbucket its final status last under the stack's key, nothing posted for a commit
 * without a run. A push to main handled after a newer commit of the same stack got its tracked run is
 * superseded instead (§12): its run may be missing, but only then.
 */
export async function expectEveryAcceptedPushFinished(
  system: System,
  stacks: Stack[],
  accepted: SentPush[],
  options: { timeoutMs: number; allowedExtra?: Set<string> },
): Promise<Run[]> {
  const expected = new Set(accepted.map(runKey));
  const allowedExtra = options.allowedExtra ?? new Set<string>();
  const supersededIn = (runs: Run[], push: SentPush) =>
    push.type === 'tracked' &&
    runs.some(
      (r) =>
        r.stackId === push.stackId &&
        r.type === 'tracked' &&
        r.commit !== push.commit &&
        system.sim.state.ancestors(r.commit).has(push.commit),
    );
  const byStack = await system.waitForRuns(
    stacks.map((s) => s.id),
    (runs) =>
      accepted.every((p) => runs.some((r) => runKey(r) === runKey(p)) || supersededIn(runs, p)) &&
      runs.every((r) => r.state === 'FINISHED'),
    { timeoutMs: options.timeoutMs, message: `not every one of ${expected.size} accepted pushes finished` },
  );
  const runs = [...byStack.values()].flat();
  const keys = runs.map(runKey);
  expect(new Set(keys).size, 'no duplicate (stack, commit, type)').to.equal(keys.length);
  expect(
    keys.filter((k) => !expected.has(k) && !allowedExtra.has(k)),
    'no run without an accepted delivery',
  ).to.deep.equal([]);

  const commitsWithRuns = new Set(runs.map((r) => `stacklink/${r.stackId} ${r.commit}`));
  const postedFor = (r: Run) => system.statusesOf(r.stackId).get(r.commit) ?? [];
  const describePosted = (r: Run) =>
    `run ${r.id}: [${postedFor(r)
      .map((s) => `${s.state} at ${s.at}`)
      .join(', ')}]`;
  await waitFor(() => runs.every((r) => postedFor(r).at(-1)?.state === 'SUCCESSFUL'), {
    timeoutMs: options.timeoutMs,
    intervalMs: 250,
    message: 'not every run has SUCCESSFUL as its last commit status',
  }).catch((err: Error) => {
    const behind = runs.filter((r) => postedFor(r).at(-1)?.state !== 'SUCCESSFUL');
    throw new Error(`${err.message}: ${behind.slice(0, 5).map(describePosted).join('; ')}`);
  });
  for (const r of runs) {
    const states = postedFor(r).map((s) => s.state);
    // Only the latest state is posted (docs/architecture.md §8): an update a killed reporter left unacked
    // comes back after newer ones and is dropped, so a run may show SUCCESSFUL alone; a reporter killed after
    // posting and before recording may post a state twice. Never an older state after a newer one.
    expect(states.slice(states.indexOf('SUCCESSFUL')), `after SUCCESSFUL, ${describePosted(r)}`).to.satisfy(
      (rest: string[]) => rest.every((s) => s === 'SUCCESSFUL'),
    );
  }
  const stray = system.sim.recorded.statuses.filter((s) => !commitsWithRuns.has(`${s.key} ${s.commit}`));
  expect(stray, 'statuses for commits without a run').to.deep.equal([]);
  return runs;
}
