/**
 * Domain words of docs/architecture.md: stack, run (tracked / proposed), used the same way in API, logs and
 * store.
 */

import type { RunPullRequest, RunState, RunTrigger, RunType } from '@stacklink/contracts';

export interface RepositoryCoordinates {
  projectKey: string;
  slug: string;
}

export interface Stack {
  id: string;
  name: string;
  integrationId: string;
  repository: RepositoryCoordinates;
  /** The tracked branch, as given (`main` or `refs/heads/main`). */
  branch: string;
  /** '' or '.' means the whole repository. */
  projectRoot: string;
  additionalProjectGlobs: string[];
  triggerOnTags: boolean;
  allowForks: boolean;
  labels: string[];
  /**
   * Keep one pull-request comment per proposed run, created once and edited in place as the run moves
   * (docs/architecture.md §8, pull-request comments). Off by default.
   */
  prComments: boolean;
  /** A disabled stack starts no runs (its integration was deleted with `?force=true`, or an operator said so). */
  enabled: boolean;
  /** Why the stack was disabled, when the system did it; cleared when it is enabled again. */
  disabledReason?: string;
  createdAt: string;
  updatedAt: string;
}

/** Settings with a default: a caller (the API, a test, the bench) may leave them out. */
type DefaultedStackFields = 'prComments' | 'enabled' | 'disabledReason';

export type NewStack = Omit<Stack, 'id' | 'createdAt' | 'updatedAt' | DefaultedStackFields> &
  Partial<Pick<Stack, DefaultedStackFields>>;

/** What a stored stack document may lack: fields added after it was written read as their defaults. */
export function withStackDefaults<T extends NewStack>(stack: T): T & Pick<Stack, 'prComments' | 'enabled'> {
  return { ...stack, prComments: stack.prComments ?? false, enabled: stack.enabled ?? true };
}
export type StackPatch = Partial<Omit<NewStack, 'integrationId' | 'repository'>> &
  Partial<Pick<NewStack, 'integrationId' | 'repository'>>;

/** The stack an update stores: the patch over the current stack; the id and creation time stay. */
export function patchedStack(current: Stack, patch: StackPatch, at: Date): Stack {
  return { ...current, ...patch, id: current.id, createdAt: current.createdAt, updatedAt: at.toISOString() };
}

import type { RunSummary } from '@stacklink/contracts';

// The run vocabulary is part of the `runs` contract that runners read.
export { RUN_STATES, RUN_TYPES } from '@stacklink/contracts';
export type {
  RunPullRequest,
  RunState,
  RunSummary,
  RunTrigger,
  RunType,
  TriggerKind,
} from '@stacklink/contracts';

export interface Run {
  id: string;
  stackId: string;
  type: RunType;
  commit: string;
  /** Full ref the commit came from (`refs/heads/feature`), or the stack's branch for manual runs. */
  ref: string;
  state: RunState;
  /** Incremented on every change; consumers drop updates older than what they have seen. */
  version: number;
  /** Monotonic per stack: the order tracked runs execute in. */
  sequence: number;
  pullRequest?: RunPullRequest;
  trigger: RunTrigger;
  note?: string;
  /**
   * Set when an operator canceled the run through the API: `/stacklink retry` leaves such a run alone
   * (docs/architecture.md §12), unlike one the system canceled (superseded, stack disabled).
   */
  canceledBy?: 'operator';
  /**
   * The state timeline, oldest first: QUEUED at creation, then every move. The stores always fill it (a
   * run written before timelines were kept reads as QUEUED at creation and its state at its last change).
   */
  transitions?: RunTransition[];
  /** When the run became RUNNING. */
  startedAt?: string;
  /** What the runner reported with the final state (plan counts, annotations), when it did. */
  summary?: RunSummary;
  createdAt: string;
  updatedAt: string;
}

/** One step of a run's timeline. */
export interface RunTransition {
  state: RunState;
  at: string;
}

export interface NewRun {
  stackId: string;
  type: RunType;
  commit: string;
  ref: string;
  pullRequest?: RunPullRequest;
  trigger: RunTrigger;
  note?: string;
}

export const TERMINAL_STATES: readonly RunState[] = ['FINISHED', 'FAILED', 'CANCELED'];
