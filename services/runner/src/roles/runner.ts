import { createBus } from '@stacklink/bus';
import { RUNS_READY_QUEUE, runnerTopology } from '@stacklink/contracts';
import { busConnection, runMain, startRole, type RunningRole } from '@stacklink/http';
import { createLogger, registerSecret, type Logger } from '@stacklink/logger';
import { loadRunnerConfig, type RunnerConfig } from '../config';
import { createRunsReadyConsumer } from '../consumers/runs-ready';
import { createRunsApi } from '../adapters/runs-api';
import { startCommand } from '../adapters/start-command';
import type { RunningCommand } from '../domain/ports';

/**
 * The reference runner (docs/architecture.md §1, README "Runner contract"): consumes `runs.ready`, runs
 * RUNNER_COMMAND for each run, reports to the stack-trigger API. Wiring only; startRole does the rest:
 * /healthz, /readyz, /metrics on PORT, graceful stop.
 */
export async function startRunner(
  config: RunnerConfig,
  options: { logger?: Logger } = {},
): Promise<RunningRole> {
  const logger = options.logger ?? createLogger({ service: 'runner', level: config.LOG_LEVEL });
  registerSecret(config.RUNNER_TOKEN);
  const bus = createBus({
    url: config.RABBITMQ_URL,
    logger,
    namespace: config.NAMESPACE,
    topology: runnerTopology,
    prefetch: config.RUNNER_CONCURRENCY,
    connectionName: 'runner',
    // In-flight runs may take the whole grace period plus their final report before the bus closes.
    closeTimeoutMs: (config.RUNNER_SHUTDOWN_GRACE_SECONDS + 15) * 1000,
  });
  const running = new Set<RunningCommand>();
  const consume = async () => {
    const consumer = await bus.consume(
      RUNS_READY_QUEUE,
      createRunsReadyConsumer({
        api: createRunsApi({ baseUrl: config.STACK_TRIGGER_URL, runnerToken: config.RUNNER_TOKEN }),
        start: (run, output) => {
          const command = startCommand(config.RUNNER_COMMAND, run, output);
          running.add(command);
          void command.result.then(() => running.delete(command));
          return command;
        },
        logger,
        leaseRenewMs: config.LEASE_RENEW_SECONDS * 1000,
        log: { flushMs: config.RUNNER_LOG_FLUSH_MS, bufferBytes: config.RUNNER_LOG_BUFFER_BYTES },
      }),
      { prefetch: config.RUNNER_CONCURRENCY },
    );
    logger.info('runner consuming', { queue: RUNS_READY_QUEUE, concurrency: config.RUNNER_CONCURRENCY });
    return {
      // Take no new runs; give the running ones the grace period, then stop their commands so their
      // runs are reported FAILED ("killed by SIGTERM") before the bus closes.
      async cancel() {
        const grace = setTimeout(() => {
          if (running.size > 0)
            logger.warn('shutdown grace over: stopping running commands', { running: running.size });
          for (const command of running) command.stop();
        }, config.RUNNER_SHUTDOWN_GRACE_SECONDS * 1000);
        try {
          await consumer.cancel();
        } finally {
          clearTimeout(grace);
        }
      },
    };
  };
  return startRole({
    service: 'runner',
    listen: { port: config.PORT, host: config.HOST },
    logger,
    connections: [busConnection(bus)],
    consumers: [consume],
  });
}

if (require.main === module) {
  runMain('runner', loadRunnerConfig, (config) => startRunner(config));
}
