'use strict';
// mocha's spec reporter plus one plain closing line, `N passed, N failed, N skipped`, which CI reads
// whatever the test runner. Suites over the public fixture corpora that were not found are counted as
// skipped and named in one line before it (libs/testing describePublicCorpus).
const Mocha = require('mocha');

const SKIPPED_CORPUS_SUITES = Symbol.for('stacklink.skippedCorpusSuites');

class StacklinkReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const { passes, failures, pending } = this.stats;
      const skippedSuites = globalThis[SKIPPED_CORPUS_SUITES] ?? [];
      if (skippedSuites.length > 0) {
        process.stdout.write(`public fixture corpus not found: ${skippedSuites.length} suites skipped\n`);
      }
      process.stdout.write(`${passes} passed, ${failures} failed, ${pending} skipped\n`);
    });
  }
}

module.exports = StacklinkReporter;
