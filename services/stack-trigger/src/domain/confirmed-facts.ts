import type { PullRequestDetails } from './canonical-event';

/**
 * What Bitbucket's REST API showed for an event's claims (docs/architecture.md §12), the input that lets
 * the pure trigger rules act on Bitbucket's word rather than the webhook body's.
 */
export interface ConfirmedFacts {
  /** Pushes: each ref that may start a run, keyed by its full name. */
  refs?: ReadonlyMap<string, RefConfirmation>;
  /** Pushes: stacks whose run on a ref would be older than a tracked run they already have. */
  superseded?: readonly SupersededPush[];
  /** Pull request events and comment commands: the pull request as Bitbucket reports it now. */
  pullRequest?: PullRequestConfirmation;
}

export type RefConfirmation =
  /**
   * The ref holds `commit` (a tag: the commit it names); `branches` are those that contain it; `head`
   * is a branch's head now.
   */
  | { status: 'confirmed'; commit: string; branches: readonly string[]; head?: string }
  /** Bitbucket contradicts the claim: nothing starts on this ref. */
  | { status: 'refused'; detail: string };

export type PullRequestConfirmation =
  /** The body's pull request with Bitbucket's state, source and target. */
  | { status: 'confirmed'; pullRequest: PullRequestDetails }
  /** Bitbucket contradicts the body: the event starts and cancels nothing. */
  | { status: 'refused'; detail: string };

export interface SupersededPush {
  stackId: string;
  ref: string;
  detail: string;
}

/** The first 12 characters of a commit id, as people quote them. */
export function shortCommit(commit: string): string {
  return commit.slice(0, 12);
}
