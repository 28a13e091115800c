'use strict';

/**
 * `count` stacks on PRJ/infra tracking main, one project root each (`stacks/s<i>`): the repository the
 * trigger and recovery benchmarks share.
 */
async function createBenchStacks(store, count, integrationId) {
  for (let i = 0; i < count; i++) {
    await store.stacks.create({
      name: `bench-${i}`,
      integrationId,
      repository: { projectKey: 'PRJ', slug: 'infra' },
      branch: 'main',
      projectRoot: `stacks/s${i}`,
      additionalProjectGlobs: [],
      triggerOnTags: false,
      allowForks: false,
      labels: [],
    });
  }
}

module.exports = { createBenchStacks };
