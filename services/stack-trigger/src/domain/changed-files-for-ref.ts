import type { PushChange } from './canonical-event';

/** What one pushed ref counts as changing, as the question to ask Bitbucket (docs/architecture.md §7). */
export type RefChangesQuery =
  /** A deleted ref changed nothing a run could be on. */
  | { kind: 'none' }
  /** Resolve the tag to the commit it names, then take that commit's own changes. */
  | { kind: 'tag'; ref: string; after: string }
  /** The commit's own changes. */
  | { kind: 'commit'; commit: string }
  /** Every change between the two commits. */
  | { kind: 'range'; since: string; until: string };

/**
 * An updated branch changed what lies between its previous and its new head. A created branch has no
 * range: Bitbucket does not say where it forked, so it counts as changing its new head commit's own
 * files — exact for the common case (a branch created with one new commit); files of earlier commits
 * pushed with it may be missed, and the pull request that follows is compared against its target, so a
 * stack it touches still gets its proposed run then.
 *
 * A tag counts as changing the files of the commit it names. An annotated tag's `after` is the tag
 * object, no commit (libs/events README), and an updated annotated tag's `before` is one too, so there
 * is no range to compare: the tag is resolved first, and a run is on that commit.
 */
export function changedFilesForRef(change: PushChange): RefChangesQuery {
  const { before, after } = change;
  if (change.action === 'deleted' || after === null) return { kind: 'none' };
  if (change.refType === 'tag') return { kind: 'tag', ref: change.ref, after };
  if (before === null || change.action === 'created') return { kind: 'commit', commit: after };
  return { kind: 'range', since: before, until: after };
}

/** The commit a lookup's answer is about: where a run on the ref starts. */
export function commitOfQuery(query: Extract<RefChangesQuery, { kind: 'commit' | 'range' }>): string {
  return query.kind === 'commit' ? query.commit : query.until;
}
