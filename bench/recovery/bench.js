'use strict';
// Missed-event recovery cost (docs/architecture.md §14): Bitbucket calls per recovery cycle per repository,
// for 10 stacks on one repository, against the target of 2 plus paging (one branch-heads listing and one
// open pull requests listing, each paged). The reference beside ours, counted in the same run on the same
// simulator: a naive recovery that lists heads and pull requests once per stack.
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const path = require('node:path');
const { createBitbucketClient } = require('@stacklink/bitbucket');
const { startSimulator } = require('@stacklink/bitbucket-simulator');
const { createSilentLogger } = require('@stacklink/logger');
const { createRecoverMissedEvents, openSqliteStore } = require('@stacklink/stack-trigger');
const { createBenchStacks } = require('../lib/stacks');

const STACKS = 10;
const BRANCHES = 30;
const OPEN_PRS = 30;
const PAGE_SIZE = 25;
const TOKEN = 'bench-bitbucket-token';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

async function runRecoveryBench() {
  const rows = [];
  let ours = 0;
  let naive = 0;
  let pagingAllowance = 0;
  let recoveredOk = true;
  for (let round = 0; round < ROUNDS; round++) {
    const dir = mkdtempSync(path.join(tmpdir(), 'stacklink-bench-recovery-'));
    const sim = await startSimulator({ pageSize: PAGE_SIZE });
    try {
      sim.addUser({ name: 'stacklink', token: TOKEN, permission: 'admin' });
      sim.addRepository({ project: 'PRJ', slug: 'infra', files: ['README.md'] });
      for (let b = 0; b < BRANCHES; b++) {
        await sim.push({
          project: 'PRJ',
          repo: 'infra',
          branch: `feature-${b}`,
          files: [`stacks/s${b % STACKS}/f${b}.tf`],
        });
        if (b < OPEN_PRS)
          await sim.openPullRequest({ project: 'PRJ', repo: 'infra', from: `feature-${b}`, to: 'main' });
      }
      const store = openSqliteStore(path.join(dir, 'bench.db'));
      const integrationId = 'bench-integration';
      await createBenchStacks(store, STACKS, integrationId);
      const client = createBitbucketClient({ baseUrl: sim.url, token: TOKEN, pageLimit: PAGE_SIZE });
      const handled = [];
      const recover = createRecoverMissedEvents({
        stacks: store.stacks,
        seenHeads: store.seenHeads,
        lease: {
          holder: 'bench',
          acquire: async () => 1,
          assertHeld: async () => {},
          token: () => 1,
          release: async () => {},
        },
        call: (_id, request) => request(client),
        handleVcsEvent: async (event) => {
          handled.push(event);
          return { created: [], existing: [], canceled: [], retried: [], overCap: [], skipped: [] };
        },
        recordDecision: async () => undefined,
        metrics: { webhookAction() {}, recoveryCycle() {}, leader() {} },
        logger: createSilentLogger(),
      });
      // The first cycle records what it finds (no flood); the second notices a missed push and PR commit,
      // the third (still unseen) feeds them.
      await recover();
      const firstFlood = handled.length;
      await sim.push({ project: 'PRJ', repo: 'infra', branch: 'main', files: ['stacks/s1/new.tf'] });
      await sim.updatePullRequestSource({ project: 'PRJ', repo: 'infra', id: 1, files: ['stacks/s2/x.tf'] });
      const before = sim.recorded.requests.length;
      const results = await recover();
      const calls = sim.recorded.requests.length - before;
      // Noticed at this cycle, fed at the next one if no webhook brought them meanwhile.
      await recover();
      recoveredOk =
        recoveredOk && firstFlood === 0 && handled.length === 2 && results[0].listingCalls === calls;

      // The naive reference: every stack lists its branch head and the open pull requests itself.
      const naiveBefore = sim.recorded.requests.length;
      for (let i = 0; i < STACKS; i++) {
        await client.listBranches('PRJ', 'infra', 'main');
        await client.listOpenPullRequests('PRJ', 'infra');
      }
      const naiveCalls = sim.recorded.requests.length - naiveBefore;
      const pages = Math.ceil(OPEN_PRS / PAGE_SIZE) - 1;
      pagingAllowance = pages;
      ours += calls;
      naive += naiveCalls;
      rows.push({
        round: round + 1,
        'stacks on the repository': STACKS,
        'our calls per cycle': calls,
        target: `2 + ${pages} paging = ${2 + pages}`,
        'naive per-stack calls': naiveCalls,
        'events recovered': handled.length,
      });
      await store.close();
    } finally {
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const perCycle = ours / ROUNDS;
  return {
    rounds: ROUNDS,
    durationS: 0,
    rows,
    verdict: {
      'calls per cycle per repository ≤ 2 + paging': perCycle <= 2 + pagingAllowance,
      'first cycle records heads without replaying them; both missed events recovered': recoveredOk,
    },
    notes: [
      `recovery: ${perCycle} Bitbucket calls per cycle for ${STACKS} stacks on one repository (${OPEN_PRS} open pull requests, pages of ${PAGE_SIZE}); naive per-stack recovery: ${naive / ROUNDS}.`,
    ],
  };
}

module.exports = { runRecoveryBench };
