import type { Logger } from '@stacklink/logger';
import type { CanonicalEvent } from './canonical-event';
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
  return async (event: CanonicalEvent, stacks: readonly Stack[], log: Logger): Promise<EventChanges> => {
    const changes: EventChanges = {};
    if (event.type === 'push') {
      const wanted = pushChangesToLookUp(event, stacks);
      if (wanted.length > 0) changes.refChanges = await deps.changedFiles.pushChanges(event, wanted);
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
