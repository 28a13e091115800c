import type { RunAnnotation } from '@stacklink/contracts';
import type { CommitStatus, CommitStatusState } from './commit-status';
import type { InsightReport } from './insight-report';
import type { RepositoryCoordinates } from './model';

/**
 * What the reporter needs from the outside (docs/architecture.md §8). Kept beside ports.ts rather than in it
 * so the reporter role can grow without touching the trigger role's ports.
 */

export type LedgerClaim =
  { outcome: 'stale'; posted: number } | { outcome: 'busy' } | { outcome: 'claimed'; token: string };

/**
 * The last posted version of each run (Redis). A claim is a short per-run lock: while one replica posts
 * version N of a run, another holding version N+1 waits for it, then posts; one holding N-1 sees
 * `stale` and drops it, as does one whose newer version a replica took a claim for and may have posted
 * before dying. So the newest state is always the last one Bitbucket receives.
 */
export interface RunStatusLedgerPort {
  /** How long a claim lasts unless renewed: a replica that dies holding one frees it after this. */
  readonly claimTtlMs: number;
  claim(runId: string, version: number): Promise<LedgerClaim>;
  /**
   * Extends a held claim by `claimTtlMs`, so a live replica keeps it however long its calls take;
   * false when it is no longer this token's (it expired and another replica may hold it now).
   */
  renew(runId: string, token: string): Promise<boolean>;
  /** Records `version` as posted (never lowers it) and releases the claim. */
  commit(runId: string, version: number, token: string): Promise<void>;
  /**
   * Releases the claim without recording anything (a call failed with an answer). Unless `statusLanded`
   * (the status went through and a later step failed), older versions of the run are no longer dropped
   * for this one, since nothing of it reached Bitbucket.
   */
  release(runId: string, token: string, statusLanded: boolean): Promise<void>;
}

export interface CommitStatusTarget {
  integrationId: string;
  repository: RepositoryCoordinates;
  commit: string;
}

/** Bitbucket's build status API for one integration, rate-limited per Bitbucket host. */
export interface CommitStatusesPort {
  /** Whether the server knows the CANCELLED state (rich, repository-scoped build statuses). */
  supportsCancelled(integrationId: string): Promise<boolean>;
  post(
    target: CommitStatusTarget,
    status: CommitStatus,
  ): Promise<{ api: 'repository' | 'legacy'; state: CommitStatusState }>;
}

/**
 * Bitbucket's Code Insights API (7.x and later), through the same per-host rate limit and breaker as
 * commit statuses. A host without it is remembered (in Redis, CODE_INSIGHTS_RECHECK_SECONDS) and skipped.
 */
export interface CodeInsightsPort {
  /** Creates or replaces the report; false when the host has no Code Insights (nothing was sent). */
  putReport(target: CommitStatusTarget, report: InsightReport): Promise<boolean>;
  deleteAnnotations(target: CommitStatusTarget, reportKey: string): Promise<void>;
  postAnnotations(target: CommitStatusTarget, reportKey: string, annotations: RunAnnotation[]): Promise<void>;
}

/** Counters of the reporter; prom-client in production. */
export interface ReporterMetricsPort {
  posted(state: CommitStatusState, api: 'repository' | 'legacy'): void;
  stale(): void;
}

export interface PullRequestTarget {
  integrationId: string;
  repository: RepositoryCoordinates;
  pullRequestId: number;
}

export interface PostedComment {
  id: number;
  version: number;
}

export type CommentEdit =
  | { outcome: 'updated'; comment: PostedComment }
  /** Bitbucket holds a newer version of the comment than the one named (409). */
  | { outcome: 'stale' }
  /** The comment (or its pull request) is gone. */
  | { outcome: 'gone' };

/** Pull-request comments (Bitbucket REST), through the same per-host rate limit as commit statuses. */
export interface PullRequestCommentsPort {
  /** Posts the text, split under Bitbucket's limit into the comment and replies; answers the first. */
  create(target: PullRequestTarget, text: string): Promise<PostedComment>;
  /** Edits the comment in place, naming the version it was read at. */
  update(target: PullRequestTarget, comment: PostedComment, text: string): Promise<CommentEdit>;
  /** The comment's current version; undefined when it is gone. */
  get(target: PullRequestTarget, commentId: number): Promise<PostedComment | undefined>;
  /** The pull request's top-level comments among its recent activity, newest first. */
  recent(target: PullRequestTarget): Promise<(PostedComment & { text: string })[]>;
}
