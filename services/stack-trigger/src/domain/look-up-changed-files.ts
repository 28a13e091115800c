import type { Logger } from '@stacklink/logger';
import type { CanonicalEvent } from './canonical-event';
import type { ConfirmedFacts } from './confirmed-facts';
import { needsChangedFiles, pushChangesToLookUp } from './decide-triggers';
import type { Stack } from './model';
import type { ChangedFilesPort } from './ports';
import type { ChangedFiles, RefChanges } from './stack-matches-files';

/** What the event changed, when a trigger rule needs it; absent means not looked up. */
export interface EventChanges {
  /** Pull request events and comment commands. */
  changedFiles?: ChangedFiles;
  /** Pushes: each ref with what it changed itself. */
  refChanges?: RefChanges[];
}

/**
 * Asks Bitbucket what changed only when a stack's rule depends on it: one lookup per event, shared by
 * every stack; a push is looked up ref by ref, so each ref is matched against what it changed itself.
 */
export function createLookUpChangedFiles(deps: { changedFiles: ChangedFilesPort }) {
  return async (
    event: CanonicalEvent,
    stacks: readonly Stack[],
    log: Logger,
    confirmed: ConfirmedFacts = {},
  ): Promise<EventChanges> => {
    const changes: EventChanges = {};
    if (event.type === 'push') {
      // A ref Bitbucket refused starts nothing: nothing to look up. A tag's commit is already known.
      const tagCommits = new Map<string, string>();
      const wanted = pushChangesToLookUp(event, stacks).filter((c) => {
        const confirmation = confirmed.refs?.get(c.ref);
        if (confirmation?.status === 'confirmed' && c.refType === 'tag')
          tagCommits.set(c.ref, confirmation.commit);
        return confirmation === undefined || confirmation.status === 'confirmed';
      });
      if (wanted.length > 0)
        changes.refChanges = await deps.changedFiles.pushChanges(event, wanted, tagCommits);
    } else if (confirmed.pullRequest?.status === 'refused') {
      return changes;
    } else if (needsChangedFiles(event, stacks)) {
      changes.changedFiles = await deps.changedFiles.pullRequestChanges(event);
    }
    const truncated = [
      ...(changes.changedFiles?.truncated ? ['pull request'] : []),
      ...(changes.refChanges ?? []).filter((r) => r.files.truncated).map((r) => r.ref),
    ];
    if (truncated.length > 0)
      log.info('changed files truncated by Bitbucket: every candidate stack counts as touched', {
        truncated,
      });
    return changes;
  };
}
