import { AppError } from '@stacklink/errors';
import type { Logger } from '@stacklink/logger';
import type { LogChunk } from '@stacklink/contracts';
import { TERMINAL_STATES, type Run } from './model';
import type {
  Clock,
  RunActivityPort,
  RunLogAppendResult,
  RunLogRepositoryPort,
  RunRepositoryPort,
} from './ports';

export interface AppendRunLogDeps {
  runs: RunRepositoryPort;
  logs: RunLogRepositoryPort;
  activity: RunActivityPort;
  logger: Logger;
  clock?: Clock;
  /** RUN_LOG_MAX_BYTES: the cap of one run's log. */
  maxBytes: number;
  /** RUN_LOG_GRACE_SECONDS: how long after its final state a run still takes chunks (late retries). */
  graceSeconds: number;
}

/**
 * A runner's chunks for a run's log (docs/architecture.md §4, "Run logs"): idempotent per seq, capped per
 * run with a visible marker, refused with 409 LOGS.RUN_CLOSED once the run has been final for the grace
 * period. Streams on every replica are told at once.
 */
export function createAppendRunLog(deps: AppendRunLogDeps) {
  const now = () => (deps.clock ?? { now: () => new Date() }).now();
  const marker = `… log truncated at ${formatBytes(deps.maxBytes)} (RUN_LOG_MAX_BYTES) …`;
  return async (runId: string, chunks: readonly LogChunk[]): Promise<RunLogAppendResult> => {
    const run = await deps.runs.get(runId);
    if (run === undefined) throw new AppError('RUN.NOT_FOUND', `no run ${runId}`, { status: 404 });
    const closedAt = logClosesAt(run, deps.graceSeconds);
    if (closedAt !== undefined && now().getTime() > closedAt.getTime())
      throw new AppError(
        'LOGS.RUN_CLOSED',
        `run ${runId} is ${run.state} since ${lastChangeAt(run)}: its log closed at ${closedAt.toISOString()}`,
        { status: 409, details: { state: run.state, closedAt: closedAt.toISOString() } },
      );
    const result = await deps.logs.append(runId, chunks, { maxBytes: deps.maxBytes, marker });
    if (result.stored > 0 || result.truncated)
      await deps.activity.announce(runId).catch((err: unknown) => {
        deps.logger.warn('run log announcement failed; streams will poll', { runId, err });
      });
    return result;
  };
}

/** When a final run stops taking chunks; undefined while the run is not final. */
export function logClosesAt(run: Run, graceSeconds: number): Date | undefined {
  if (!TERMINAL_STATES.includes(run.state)) return undefined;
  return new Date(Date.parse(lastChangeAt(run)) + graceSeconds * 1000);
}

function lastChangeAt(run: Run): string {
  return run.transitions?.at(-1)?.at ?? run.updatedAt;
}

/** `5242880` → `5 MiB`, `65536` → `64 KiB`, otherwise bytes. */
export function formatBytes(bytes: number): string {
  if (bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}
