import type { CanonicalEvent } from '../../src/domain/canonical-event';
import type { Run, Stack } from '../../src/domain/model';
import type {
  ChangedFilesPort,
  CommentAuthorityPort,
  ConfirmationPort,
  CommentRepliesPort,
  QueuedRunRef,
  RunEventsPort,
  RunQueuePort,
  TriggerMetricsPort,
} from '../../src/domain/ports';
import type { ChangedFiles, RefChanges } from '../../src/domain/stack-matches-files';

/** In-memory stand-ins for our own ports, for unit tests of the use cases. */
export function fakeQueue(): RunQueuePort & { queued: Map<string, QueuedRunRef>; leased: Set<string> } {
  const queued = new Map<string, QueuedRunRef & { sequence: number }>();
  const leased = new Set<string>();
  const leasedRuns = new Map<string, QueuedRunRef>();
  return {
    queued,
    leased,
    async enqueue(run) {
      if (leased.has(run.id)) return 'handed_out';
      queued.set(run.id, { id: run.id, stackId: run.stackId, type: run.type, sequence: run.sequence });
      return 'queued';
    },
    async remove(run) {
      queued.delete(run.id);
      leased.delete(run.id);
      leasedRuns.delete(run.id);
    },
    async dispatch(stackId) {
      const mine = [...queued.values()]
        .filter((r) => r.stackId === stackId)
        .sort((a, b) => a.sequence - b.sequence);
      const out = mine.filter((r) => r.type === 'proposed');
      const trackedOut = [...leasedRuns.values()].some((r) => r.stackId === stackId && r.type === 'tracked');
      const head = mine.find((r) => r.type === 'tracked');
      if (head && !trackedOut) out.push(head);
      for (const r of out) {
        queued.delete(r.id);
        leased.add(r.id);
        leasedRuns.set(r.id, r);
      }
      return out.map((r) => r.id);
    },
    async renewLease(runId) {
      return leased.has(runId);
    },
    async claimExpiredLeases() {
      return [];
    },
    async requeue(run) {
      leased.delete(run.id);
      leasedRuns.delete(run.id);
      queued.set(run.id, { id: run.id, stackId: run.stackId, type: run.type, sequence: run.sequence });
    },
    async rebuild() {},
    async isBuilt() {
      return true;
    },
  };
}

export function recordingRunEvents(): RunEventsPort & { stateChanged: Run[]; ready: Run[] } {
  const stateChanged: Run[] = [];
  const ready: Run[] = [];
  return {
    stateChanged,
    ready,
    async publishStateChanged(run: Run, _stack: Stack) {
      stateChanged.push(run);
    },
    async publishRunReady(run: Run, _stack: Stack) {
      ready.push(run);
    },
  };
}

/** Every commenter is `alice`, a writer, unless the test says otherwise. */
export function fixedCommentAuthority(
  facts: { author?: string; writers?: string[]; vanished?: boolean } = {},
): CommentAuthorityPort {
  const author = facts.author ?? 'alice';
  const writers = facts.writers ?? ['alice'];
  return {
    async readComment() {
      return facts.vanished === true ? { kind: 'vanished' } : { kind: 'found', author };
    },
    async canWrite({ user }) {
      return writers.includes(user);
    },
  };
}

export function recordingReplies(): CommentRepliesPort & {
  replies: Parameters<CommentRepliesPort['reply']>[0][];
} {
  const replies: Parameters<CommentRepliesPort['reply']>[0][] = [];
  return {
    replies,
    async reply(target) {
      replies.push(target);
    },
  };
}

/**
 * Bitbucket's changed files, fixed: `files` for the pull request and for every pushed ref, unless
 * `byRef` names what a ref changed (and, for an annotated tag, the commit it resolves to).
 */
export function fixedChangedFiles(
  files: ChangedFiles,
  byRef: Record<string, Partial<Omit<RefChanges, 'ref'>>> = {},
): ChangedFilesPort & { calls: CanonicalEvent[] } {
  const calls: CanonicalEvent[] = [];
  return {
    calls,
    async pullRequestChanges(event) {
      calls.push(event);
      return files;
    },
    async pushChanges(event, changes) {
      calls.push(event);
      return changes.map((c) => ({
        ref: c.ref,
        commit: byRef[c.ref]?.commit ?? c.after ?? '',
        files: byRef[c.ref]?.files ?? files,
      }));
    },
  };
}

export function countingMetrics(): TriggerMetricsPort & {
  created: number;
  overCap: number;
  canceled: number;
  unconfirmedByReason: Record<string, number>;
} {
  const m = {
    created: 0,
    overCap: 0,
    canceled: 0,
    unconfirmedByReason: {} as Record<string, number>,
    runsCreated: (_type: Run['type'], n: number) => {
      m.created += n;
    },
    runsOverCap: (n: number) => {
      m.overCap += n;
    },
    runsCanceled: (n: number) => {
      m.canceled += n;
    },
    unconfirmed: (reason: string, n: number) => {
      m.unconfirmedByReason[reason] = (m.unconfirmedByReason[reason] ?? 0) + n;
    },
  };
  return m;
}

/**
 * A Bitbucket that agrees with every delivery (the body's refs hold its commits, its pull request is as
 * it says), unless a test overrides an answer; records what it was asked.
 */
export function agreeingConfirmation(
  overrides: Partial<ConfirmationPort> = {},
): ConfirmationPort & { asked: string[] } {
  const asked: string[] = [];
  const agreeing: ConfirmationPort = {
    async branchesContaining(event, commit) {
      return event.push.changes
        .filter((c) => c.refType === 'branch' && c.after === commit)
        .map((c) => ({ ref: c.ref, head: commit }));
    },
    async tag(event, ref) {
      const change = event.push.changes.find((c) => c.ref === ref);
      return change?.after ? { commit: change.after } : undefined;
    },
    async isAncestor() {
      return false;
    },
    async pullRequest(event) {
      const pr = event.pullRequest;
      return { state: pr.state, source: pr.source, target: pr.target };
    },
  };
  const port = { ...agreeing, ...overrides };
  return {
    asked,
    branchesContaining: (event, commit) => (
      asked.push(`branches ${commit}`),
      port.branchesContaining(event, commit)
    ),
    tag: (event, ref) => (asked.push(`tag ${ref}`), port.tag(event, ref)),
    isAncestor: (event, commit, descendant) => (
      asked.push(`ancestor ${commit} ${descendant}`),
      port.isAncestor(event, commit, descendant)
    ),
    pullRequest: (event, id) => (asked.push(`pull request ${id}`), port.pullRequest(event, id)),
  };
}
