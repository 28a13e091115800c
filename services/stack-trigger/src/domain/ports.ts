import type { LogChunk } from '@stacklink/contracts';
import type { CanonicalEvent, PushChange, PushEvent } from './canonical-event';
import type {
  NewRun,
  NewStack,
  RepositoryCoordinates,
  Run,
  RunState,
  RunSummary,
  Stack,
  StackPatch,
} from './model';
import type { ChangedFiles, RefChanges } from './stack-matches-files';
import type {
  DeliveryDecision,
  DeliveryFilter,
  DeliveryHistoryEntry,
  DeliveryPage,
  DeliveryRecord,
  PruneOptions,
} from './delivery-history';

/** Stacks in the store (SQLite or MongoDB). Plain objects in, plain objects out. */
export interface StackRepositoryPort {
  /** Throws STACK.NAME_TAKEN (409) when another stack has the name. */
  create(input: NewStack): Promise<Stack>;
  get(id: string): Promise<Stack | undefined>;
  list(filter?: { integrationId?: string }): Promise<Stack[]>;
  listByRepository(integrationId: string, repository: RepositoryCoordinates): Promise<Stack[]>;
  update(id: string, patch: StackPatch): Promise<Stack | undefined>;
  /** Deletes the stack and its runs; false when there was none. */
  delete(id: string): Promise<boolean>;
}

export interface CreatedRun {
  run: Run;
  /** False when a run for (stack, commit, type) existed: that one is returned, nothing is written. */
  created: boolean;
}

export interface RunListFilter {
  stackId?: string;
  state?: RunState;
  limit: number;
  /** Only runs older than this one (the last of the previous page). */
  before?: { createdAt: string; id: string };
}

export type TransitionResult = { ok: true; run: Run } | { ok: false; run: Run | undefined };

/** Runs in the store; (stackId, commit, type) is unique, which makes run creation idempotent. */
export interface RunRepositoryPort {
  /**
   * Idempotent on (stack, commit, type). When the run exists without a pull request and the input has
   * one, the run adopts it: Bitbucket announces a push to a pull request's branch (`repo:refs_changed`)
   * beside the pull request event, often first, and the run must still belong to the pull request so
   * a newer commit or a decline cancels it (docs/architecture.md §7).
   */
  create(input: NewRun): Promise<CreatedRun>;
  get(id: string): Promise<Run | undefined>;
  find(stackId: string, commit: string, type: Run['type']): Promise<Run | undefined>;
  /** Newest first. */
  listByStack(stackId: string, options?: { limit?: number }): Promise<Run[]>;
  /** Newest first (creation time, then id), every stack or one, in one state or any: `GET /runs`. */
  list(filter: RunListFilter): Promise<Run[]>;
  /** QUEUED and RUNNING runs of every stack, by stack then sequence: what the Redis queue is rebuilt from. */
  listActive(): Promise<Run[]>;
  /**
   * Compare-and-set: moves the run to `to` only when its state is one of `from`, increments its
   * version; otherwise changes nothing and returns the run as it is.
   */
  transition(
    id: string,
    from: readonly RunState[],
    to: RunState,
    note?: string,
    options?: { canceledBy?: 'operator'; summary?: RunSummary },
  ): Promise<TransitionResult>;
  /**
   * Cancels every QUEUED run of the stack (one compare-and-set per run: a run a runner took meanwhile
   * stays RUNNING), oldest first; the runs it canceled.
   */
  cancelQueued(filter: { stackId: string; note: string }): Promise<Run[]>;
  /**
   * Cancels the QUEUED proposed runs of a pull request on these stacks (except one commit), with the
   * note. Returns every run this same cancellation (pull request, stacks, commit, note) has canceled —
   * now or on an earlier delivery of the same event — so a redelivery after a crash still removes them
   * from the queue and announces their CANCELED state (both idempotent).
   */
  cancelQueuedProposed(filter: {
    pullRequestId: number;
    stackIds: readonly string[];
    exceptCommit?: string;
    note: string;
  }): Promise<Run[]>;
}

/** The pull-request comment kept for a run (`prComments` stacks): which comment, at which version. */
export interface RunComment {
  runId: string;
  commentId: number;
  /** Bitbucket's version of the comment, which an edit must name. */
  commentVersion: number;
  /** The run version the comment shows. */
  runVersion: number;
}

/**
 * Kept in the store, not Redis (docs/architecture.md §3: Redis holds only what may be rebuilt): nothing else
 * says which comment belongs to a run, so losing it would mean a second comment on the pull request.
 */
export interface RunCommentRepositoryPort {
  get(runId: string): Promise<RunComment | undefined>;
  /** Inserts or replaces the run's entry. */
  save(comment: RunComment): Promise<void>;
}

/** What appending chunks to a run's log did (the answer of `POST /runs/{id}/logs`). */
export interface RunLogAppendResult {
  /** Chunks of this request that were stored (a seq stored before is skipped). */
  stored: number;
  /** One past the highest seq stored for the run; 0 when none is. */
  nextSeq: number;
  /** The log reached its cap: a `system` chunk says so and nothing more is stored. */
  truncated: boolean;
}

/**
 * Run logs in the store, beside their runs (docs/architecture.md §3): chunks unique per (run, seq), so a
 * runner's retry stores nothing twice, and a byte count per run for the cap. Deleted with their stack.
 */
export interface RunLogRepositoryPort {
  /**
   * Stores the chunks whose seq the run has not stored yet, in order, until the log would pass
   * `maxBytes` (UTF-8 bytes of the texts): then one `system` chunk with `marker` takes the seq of the
   * first chunk that did not fit, the log is truncated, and every later chunk is ignored.
   */
  append(
    runId: string,
    chunks: readonly LogChunk[],
    cap: { maxBytes: number; marker: string },
  ): Promise<RunLogAppendResult>;
  /** Chunks with a seq above `after` (all when absent), by seq, at most `limit`; `more` when others follow. */
  read(
    runId: string,
    options: { after?: number; limit: number },
  ): Promise<{ chunks: LogChunk[]; more: boolean; truncated: boolean }>;
}

/**
 * Tells the log streams of every API replica that a run's log or state changed (Redis pub/sub). Best
 * effort: a stream also polls the store, so a lost announcement only delays it.
 */
export interface RunActivityPort {
  announce(runId: string): Promise<void>;
  /** Calls `listener` when the run's log or state changed, on any replica; returns the unsubscribe. */
  subscribe(runId: string, listener: () => void): () => void;
}

export type QueuedRunRef = Pick<Run, 'id' | 'stackId' | 'type'>;

/** Where `enqueue` left the run: waiting in its stack's queue, or already handed out to the runners. */
export type EnqueueResult = 'queued' | 'handed_out';

/** The per-stack run queue (Redis): rebuildable from the store at any time. */
export interface RunQueuePort {
  /**
   * Idempotent: enqueuing a queued run again changes nothing. Answers `handed_out` when the run is not
   * waiting but already handed out (leased), so a caller finishing a dead worker's job can announce it.
   */
  enqueue(run: Run): Promise<EnqueueResult>;
  /** Takes the run out of the queue and drops its lease (canceled, finished, failed, deleted). */
  remove(run: QueuedRunRef): Promise<void>;
  /**
   * Hands out what may start now: every queued proposed run and, when no tracked run of the stack is
   * out, the oldest tracked run. Each handed-out run gets a lease.
   */
  dispatch(stackId: string): Promise<string[]>;
  /** Extends the lease of a run a runner is working on; false when it holds none. */
  renewLease(runId: string): Promise<boolean>;
  /**
   * Claims the leases that expired: each is pushed one lease period further and returned to this
   * caller only, which then requeues or removes the run; a caller that dies leaves the lease to
   * expire again, so no run is lost.
   */
  claimExpiredLeases(now?: number): Promise<QueuedRunRef[]>;
  /** Puts a handed-out run that never started back at its place in the queue. */
  requeue(run: Run): Promise<void>;
  /** Rebuilds the queue of every stack from the store's active runs (after Redis lost it). */
  rebuild(activeRuns: readonly Run[]): Promise<void>;
  /** False when Redis holds no queue state (new or flushed): the caller rebuilds it from the store. */
  isBuilt(): Promise<boolean>;
}

/**
 * Files a push or pull request changed, from Bitbucket, paged to the end. Asked once per event and
 * shared by every stack of the repository.
 */
export interface ChangedFilesPort {
  /** The pull request's changes (pull request events and `/stacklink` comments): one lookup. */
  pullRequestChanges(event: Exclude<CanonicalEvent, PushEvent>): Promise<ChangedFiles>;
  /**
   * What each of these pushed refs changed on its own (its commit range, or a created ref's or tag's
   * commit), with the commit it names: one lookup per distinct range, one tag lookup per tag ref (an
   * annotated tag's `after` is the tag object, not the commit), unless `tagCommits` already names the
   * tag's commit. Same order as `changes`.
   */
  pushChanges(
    event: PushEvent,
    changes: readonly PushChange[],
    tagCommits?: ReadonlyMap<string, string>,
  ): Promise<RefChanges[]>;
}

/** What other processes learn about runs (`runs` exchange): the reporter and the runners. */
export interface RunEventsPort {
  /** `run.state_changed`: carries the run with its version, so stale updates can be dropped. */
  publishStateChanged(run: Run, stack: Stack): Promise<void>;
  /** `run.ready`: a runner may start this run now. */
  publishRunReady(run: Run, stack: Stack): Promise<void>;
}

/** Replies to `/stacklink` comments on the pull request (Bitbucket REST). */
export interface CommentRepliesPort {
  reply(target: {
    integrationId: string;
    repository: RepositoryCoordinates;
    pullRequestId: number;
    parentCommentId: number;
    text: string;
  }): Promise<void>;
}

export type RepositoryCheck = 'ok' | 'integration_not_found' | 'repository_not_found' | 'unverifiable';

/** The integration service (and, through its credentials, Bitbucket) as stack validation needs it. */
export interface IntegrationsPort {
  /**
   * Whether the integration exists and, when its token can see it, whether the repository does.
   * `unverifiable` means the integration exists but Bitbucket could not answer for the repository.
   */
  checkRepository(integrationId: string, repository: RepositoryCoordinates): Promise<RepositoryCheck>;
}

/** Counters the trigger rules feed; prom-client in production. */
export interface TriggerMetricsPort {
  runsCreated(type: Run['type'], count: number): void;
  runsOverCap(count: number): void;
  runsCanceled(count: number): void;
  /** Stacks an event did not start because Bitbucket contradicted it or a newer run exists (§12). */
  unconfirmed(reason: 'refused' | 'superseded' | 'tag-off-branch', count: number): void;
  /** One per stack of a decision (docs/architecture.md §13), by outcome and skip reason. */
  stackDecided?(outcome: string, reason: string | undefined): void;
}

/**
 * The delivery history in the store (docs/architecture.md §13). Every write is idempotent: a records
 * message or an event delivered again changes nothing.
 */
export interface DeliveryHistoryPort {
  /** Stores gateway records; an accepted delivery's record is keyed by its event id. */
  saveRecords(records: readonly DeliveryRecord[]): Promise<void>;
  /**
   * Stores the decision for its event id, replacing an earlier one of the same event. An original
   * event's decision also stands in for its gateway record until (or unless) that arrives.
   */
  saveDecision(decision: DeliveryDecision): Promise<void>;
  /** Newest first. */
  list(filter: DeliveryFilter): Promise<DeliveryPage>;
  get(deliveryId: string): Promise<DeliveryHistoryEntry>;
  /** Deletes in batches what retention allows; how many rows went. */
  prune(options: PruneOptions): Promise<number>;
}

/** Re-publishes an accepted event under a new id (`vcs.events`), pointing at the event it repeats. */
export interface RedeliveryPort {
  redeliver(event: CanonicalEvent, originalEventId: string): Promise<void>;
}

export interface Clock {
  now(): Date;
}

/** A `/stacklink` comment as Bitbucket has it now: its author, or gone (deleted before it was handled). */
export type CommandComment = { kind: 'found'; author: string } | { kind: 'vanished' };

/** Who may give comment commands (docs/architecture.md §12), asked of Bitbucket's REST API. */
export interface CommentAuthorityPort {
  /** Reads the comment back; its author is Bitbucket's answer, not the webhook body's claim. */
  readComment(target: {
    integrationId: string;
    repository: RepositoryCoordinates;
    pullRequestId: number;
    commentId: number;
  }): Promise<CommandComment>;
  /** Whether the user holds REPO_WRITE or more on the repository (cached briefly). */
  canWrite(target: {
    integrationId: string;
    repository: RepositoryCoordinates;
    user: string;
  }): Promise<boolean>;
}

/** A pull request as Bitbucket reports it now: the facts the trigger rules take from it. */
export interface CurrentPullRequest {
  state: 'open' | 'merged' | 'declined';
  source: { ref: string; commit: string; repository: RepositoryCoordinates };
  target: { ref: string; commit: string; repository: RepositoryCoordinates };
}

/**
 * Bitbucket's REST API, asked about what a webhook claims before anything acts on it
 * (docs/architecture.md §12). Each method asks about the event's repository with its integration's
 * credentials; "does not exist" is an answer (`undefined`), a failure retrying could fix is a retryable
 * error.
 */
export interface ConfirmationPort {
  /**
   * The branches that contain the commit (full names) with their heads; undefined when Bitbucket does
   * not know the commit.
   */
  branchesContaining(event: PushEvent, commit: string): Promise<{ ref: string; head: string }[] | undefined>;
  /** The tag now: the commit it names and, for an annotated tag, its tag object; undefined when absent. */
  tag(event: PushEvent, ref: string): Promise<{ commit: string; object?: string } | undefined>;
  /** True when `commit` is `descendant` or one of its ancestors; undefined when either is unknown. */
  isAncestor(event: PushEvent, commit: string, descendant: string): Promise<boolean | undefined>;
  /** The pull request now; undefined when Bitbucket has none with that id in the event's repository. */
  pullRequest(event: Exclude<CanonicalEvent, PushEvent>, id: number): Promise<CurrentPullRequest | undefined>;
}

/** One Bitbucket host's health as every worker and replica sees it (docs/architecture.md §9). */
export interface HostHealthRecord {
  state: 'up' | 'down' | 'probing';
  /** Host failures in a row while up. */
  failures: number;
  /** When the outage began (ms since the epoch); set while down or probing. */
  downSince?: number;
  /** The current pause between probes. */
  pauseMs: number;
  /** Down: no call before this. Probing: the probe's lease ends here (its caller may have died). */
  until?: number;
  /** Bumped by every write, for compare-and-set. */
  version: number;
}

/** Shared store of host health (Redis): a write succeeds only over the version it read. */
export interface HostHealthStorePort {
  read(host: string): Promise<HostHealthRecord | undefined>;
  /** Writes `next` if the stored version is still `expectedVersion` (0: absent); false otherwise. */
  compareAndSet(host: string, expectedVersion: number, next: HostHealthRecord): Promise<boolean>;
}

export interface HostHealthMetricsPort {
  /** The state this process last saw for `host`, and since when it is down (undefined when up). */
  observed(host: string, state: HostHealthRecord['state'], downSince: number | undefined): void;
  /** A call that was not sent because the host rests. */
  held(host: string): void;
}

/** Announces stack changes on `stack.events`, so the reconciler acts at once (docs/architecture.md §14). */
export interface StackEventsPort {
  stackChanged(type: 'stack.created' | 'stack.updated' | 'stack.deleted', stack: Stack): Promise<void>;
}

/** One scope's webhook health, as the reconciler last saw it (docs/architecture.md §14). */
export interface WebhookHealthRecord {
  integrationId: string;
  /** `P/r` for a repository hook, `P` for a project hook. */
  scope: string;
  health: 'ok' | 'missing' | 'repaired' | 'failing' | 'forbidden';
  detail: string;
  lastFailure?: string;
  checkedAt: string;
}

export interface WebhookHealthRepositoryPort {
  /** Replaces the record of (integrationId, scope). */
  save(record: WebhookHealthRecord): Promise<void>;
  list(integrationId: string): Promise<WebhookHealthRecord[]>;
  remove(integrationId: string, scope: string): Promise<void>;
}

/**
 * The last commit the trigger path saw for each branch (`refs/heads/x`) and pull request (`pr:<id>`)
 * of a repository, from events: missed-event recovery compares Bitbucket's heads with it (§14).
 */
export interface SeenHeadsPort {
  record(
    integrationId: string,
    repository: RepositoryCoordinates,
    heads: readonly { key: string; commit: string }[],
  ): Promise<void>;
  list(integrationId: string, repository: RepositoryCoordinates): Promise<Map<string, string>>;
}
