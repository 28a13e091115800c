import { describeConfigError } from '@stacklink/config';
import type { Logger } from '@stacklink/logger';
import { installProcessHandlers } from './process-handlers';

/** What a role's start function hands back: its logger and its graceful stop. */
export interface RunningProcess {
  logger: Logger;
  stop(): Promise<void>;
}

/**
 * The command-line start of every role: load the configuration (a bad one stops the process with
 * every bad variable named, exit 1), start, then install the signal and crash handlers that run the
 * graceful stop. A failed start says why on stderr and exits 1, so `make up` shows it in the log tail.
 */
export function runMain<C>(
  name: string,
  loadConfig: () => C,
  start: (config: C) => Promise<RunningProcess>,
): void {
  let config: C;
  try {
    config = loadConfig();
  } catch (err) {
    process.stderr.write(`${describeConfigError(err)}\n`);
    process.exit(1);
  }
  start(config).then(
    (running) => installProcessHandlers(running.logger, () => running.stop()),
    (err: unknown) => {
      process.stderr.write(`${name} failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
