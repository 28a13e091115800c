import type { RunState } from './model';

/**
 * The transitions a runner may report (docs/architecture.md §4): QUEUED→RUNNING→FINISHED|FAILED,
 * QUEUED|RUNNING→CANCELED.
 */
const LEGAL: Readonly<Record<RunState, readonly RunState[]>> = {
  QUEUED: ['RUNNING', 'CANCELED'],
  RUNNING: ['FINISHED', 'FAILED', 'CANCELED'],
  FINISHED: [],
  FAILED: [],
  CANCELED: [],
};

export function canTransition(from: RunState, to: RunState): boolean {
  return LEGAL[from].includes(to);
}

/** The states a run must be in for `to` to be legal. */
export function statesAllowing(to: RunState): RunState[] {
  return (Object.keys(LEGAL) as RunState[]).filter((from) => LEGAL[from].includes(to));
}
