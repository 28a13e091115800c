'use strict';
// mocha's spec reporter plus one plain closing line, `N passed, N failed, N skipped`, which CI reads
// whatever the test runner.
const Mocha = require('mocha');

class StacklinkReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const { passes, failures, pending } = this.stats;
      process.stdout.write(`${passes} passed, ${failures} failed, ${pending} skipped\n`);
    });
  }
}

module.exports = StacklinkReporter;
