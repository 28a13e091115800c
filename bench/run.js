'use strict';
// make bench: every benchmark, our figure beside a reference measured in the same run.
const { printTable } = require('./lib/table');
const { runGatewayBench } = require('./gateway/bench');
const { runReporterBench } = require('./reporter/bench');
const { runTriggerBench } = require('./trigger/bench');
const { runE2eBench } = require('./e2e/bench');
const { runRecoveryBench } = require('./recovery/bench');

const SUITES = [
  ['gateway', runGatewayBench],
  ['trigger', runTriggerBench],
  ['reporter', runReporterBench],
  ['e2e', runE2eBench],
  ['recovery', runRecoveryBench],
];

async function main() {
  const only = process.env.BENCH_ONLY ? process.env.BENCH_ONLY.split(',') : undefined;
  const started = Date.now();
  for (const [name, run] of SUITES) {
    if (only && !only.includes(name)) continue;
    process.stdout.write(`running ${name} benchmark…\n`);
    const result = await run();
    printTable(`${name} (${result.rounds} rounds × ${result.durationS} s, medians)`, result.rows);
    console.log(
      `targets: ${Object.entries(result.verdict)
        .map(([k, ok]) => `${k} ${ok ? 'met' : 'MISSED'}`)
        .join(', ')}`,
    );
    for (const note of result.notes ?? []) console.log(note);
  }
  console.log(`\nbench finished in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
