import type { Logger } from '@stacklink/logger';
import type { LogChunk } from '@stacklink/contracts';
import { TERMINAL_STATES, type Run, type RunState, type RunTransition } from './model';
import type { RunActivityPort, RunLogRepositoryPort, RunRepositoryPort } from './ports';

/** Where a follower sends what it finds; each call resolves once the receiver took it (back-pressure). */
export interface RunLogSink {
  chunk(chunk: LogChunk): Promise<void>;
  state(transition: RunTransition): Promise<void>;
  /** The run is final and every chunk stored before that was sent: the last call. */
  end(state: RunState): Promise<void>;
}

export interface RunLogFollower {
  /** Settles when the follower ended (after `end`) or was stopped. */
  done: Promise<void>;
  stop(): void;
}

export interface FollowRunLogDeps {
  runs: RunRepositoryPort;
  logs: RunLogRepositoryPort;
  activity: RunActivityPort;
  logger: Logger;
  /** RUN_LOG_STREAM_POLL_MS: the store is read this often even when no announcement came. */
  pollMs: number;
  /** Chunks read from the store at a time. */
  pageSize?: number;
}

/**
 * Follows a run's log live (the event stream of `GET /runs/{id}/logs/stream`): the chunks after `after`,
 * then each new one, in seq order; the run's current state, then each transition; `end` once the run is
 * final. The store is the source of truth: an announcement (from any replica) or the poll timer only
 * says when to read it again, so nothing is missed or sent twice whichever arrives.
 */
export function createFollowRunLog(deps: FollowRunLogDeps) {
  const pageSize = deps.pageSize ?? 500;
  return (run: Run, after: number | undefined, sink: RunLogSink): RunLogFollower => {
    let cursor = after;
    // The current state first; every transition after it as it happens.
    let statesSent = Math.max(0, (run.transitions?.length ?? 0) - 1);
    let stopped = false;
    let pumping: Promise<void> | undefined;
    let again = false;
    let finish!: () => void;
    const done = new Promise<void>((resolve) => {
      finish = resolve;
    });

    const stop = () => {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      unsubscribe();
      finish();
    };

    /** One pass: the run, then every chunk stored after the cursor, then new transitions, then maybe `end`. */
    const pump = async (): Promise<void> => {
      // The run before its chunks: a runner flushes its log before it reports the final state, so once
      // this read shows the run final, the chunk reads below include everything.
      const current = await deps.runs.get(run.id);
      if (current === undefined) {
        stop();
        return;
      }
      for (;;) {
        if (stopped) return;
        const page = await deps.logs.read(run.id, {
          ...(cursor === undefined ? {} : { after: cursor }),
          limit: pageSize,
        });
        for (const chunk of page.chunks) {
          if (stopped) return;
          await sink.chunk(chunk);
          cursor = chunk.seq;
        }
        if (!page.more) break;
      }
      const transitions = current.transitions ?? [{ state: current.state, at: current.updatedAt }];
      for (; statesSent < transitions.length; statesSent++) {
        if (stopped) return;
        await sink.state(transitions[statesSent]!);
      }
      if (TERMINAL_STATES.includes(current.state) && !stopped) {
        await sink.end(current.state);
        stop();
      }
    };

    const wake = () => {
      if (stopped) return;
      if (pumping) {
        again = true;
        return;
      }
      pumping = (async () => {
        do {
          again = false;
          try {
            await pump();
          } catch (err) {
            // The store or the receiver failed: try again at the next wake-up (the poll at the latest).
            deps.logger.warn('run log stream could not read the store', { runId: run.id, err });
          }
        } while (again && !stopped);
        pumping = undefined;
      })();
    };

    const timer = setInterval(wake, deps.pollMs);
    const unsubscribe = deps.activity.subscribe(run.id, wake);
    wake();
    return { done, stop };
  };
}
