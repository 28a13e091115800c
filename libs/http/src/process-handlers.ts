import { handleError } from '@stacklink/errors';
import type { Logger } from '@stacklink/logger';

/**
 * SIGTERM/SIGINT run the graceful shutdown once, then exit; an unhandled rejection or uncaught
 * exception is logged through handleError and stops the process (a supervisor restarts it — a
 * process in an unknown state must not keep acknowledging messages).
 */
export function installProcessHandlers(
  logger: Logger,
  shutdown: () => Promise<void>,
  hardTimeoutMs = 30_000,
): void {
  let stopping = false;
  const stop = (reason: string, code: number): void => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { reason });
    const timer = setTimeout(() => {
      logger.error('shutdown did not finish in time; exiting', { hardTimeoutMs });
      process.exit(code || 1);
    }, hardTimeoutMs);
    timer.unref();
    shutdown().then(
      () => process.exit(code),
      (err: unknown) => {
        handleError(err, logger, { during: 'shutdown' });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM', 0));
  process.once('SIGINT', () => stop('SIGINT', 0));
  process.on('unhandledRejection', (err) => {
    handleError(err, logger, { during: 'unhandledRejection' });
    stop('unhandledRejection', 1);
  });
  process.on('uncaughtException', (err) => {
    handleError(err, logger, { during: 'uncaughtException' });
    stop('uncaughtException', 1);
  });
}
