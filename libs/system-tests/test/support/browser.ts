import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium (`apt-get install chromium`; .ci/run installs it when absent). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Headless Chromium as the browser tests drive it (no sandbox: CI runs as root). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
}

/**
 * A runner command that prints a line every half second for four seconds, so a page shows its log
 * lines arriving while the run is RUNNING; `word` tells the tests' runs apart.
 */
export function slowlyPrintingCommand(word: string): string {
  return `echo "${word} run $STACKLINK_RUN_ID"; for i in 1 2 3 4 5 6 7 8; do echo "${word} line $i"; sleep 0.5; done`;
}
