import { BitbucketErrorCode, type BitbucketClient } from '@stacklink/bitbucket';
import { AppError, isAppError } from '@stacklink/errors';
import type { PushChange } from '../domain/canonical-event';
import type { ChangedFilesPort } from '../domain/ports';
import type { ChangedFiles, RefChanges } from '../domain/stack-matches-files';
import type { BitbucketClients } from './bitbucket-clients';

/**
 * Affected files from Bitbucket (docs/architecture.md §7), paged to the end by libs/bitbucket: the pull
 * request's changes, or what each pushed ref changed on its own. The domain asks once per event and shares
 * the answer between every stack of the repository; within a push, refs with the same range share one
 * lookup.
 *
 * A ref created by the push (`before: null`) has no range: Bitbucket does not say where the branch
 * forked. We take the new head commit's own changes. That is exact for the common case (a branch
 * created with one new commit) and may miss files of earlier commits pushed with a new branch; the PR
 * that follows is compared against its target, so a stack it touches still gets its proposed run then.
 *
 * A tag is resolved first (one tags REST call per tag ref): an annotated tag's `after` is the tag
 * object, which is no commit (libs/events README), and a run must be on the commit the tag names —
 * `latestCommit`, the tag's commit now; a lightweight tag resolves to itself. Its files are that
 * commit's own changes (an updated annotated tag's `before` is a tag object as well, so there is no
 * range to compare).
 *
 * Failures: Bitbucket unreachable, 5xx or 429 → a retryable AppError (the bus retries the event later);
 * a commit, tag or pull request Bitbucket does not know → not retryable, with a message saying so.
 */
export function createBitbucketChangedFiles(clients: BitbucketClients): ChangedFilesPort {
  return {
    async pullRequestChanges(event) {
      const { projectKey, slug } = event.repository;
      const id = event.pullRequest.id;
      const client = await clients.forIntegration(event.integrationId);
      try {
        return await client.getPullRequestChanges(projectKey, slug, id);
      } catch (err) {
        throw explain(err, `pull request ${id} in ${projectKey}/${slug}`);
      }
    },

    async pushChanges(event, changes) {
      const { projectKey, slug } = event.repository;
      const live = changes.filter(
        (c): c is PushChange & { after: string } => c.action !== 'deleted' && c.after !== null,
      );
      if (live.length === 0) return [];
      const client = await clients.forIntegration(event.integrationId);
      const attempt = async <T>(what: string, call: () => Promise<T>): Promise<T> => {
        try {
          return await call();
        } catch (err) {
          throw explain(err, `${what} in ${projectKey}/${slug}`);
        }
      };
      const byLookup = new Map<string, ChangedFiles>();
      const out: RefChanges[] = [];
      for (const change of live) {
        const commit =
          change.refType === 'tag'
            ? await attempt(`tag ${change.ref}`, async () => {
                const tag = await client.getTag(projectKey, slug, change.ref);
                return tag.latestCommit ?? tag.latestChangeset ?? change.after;
              })
            : change.after;
        const lookup = pushLookup(change, commit);
        let files = byLookup.get(lookup.describe);
        if (files === undefined) {
          files = await attempt(lookup.describe, () => lookup.run(client, projectKey, slug));
          byLookup.set(lookup.describe, files);
        }
        out.push({ ref: change.ref, commit, files: { paths: files.paths, truncated: files.truncated } });
      }
      return out;
    },
  };
}

interface Lookup {
  describe: string;
  run(client: BitbucketClient, projectKey: string, slug: string): Promise<ChangedFiles>;
}

function pushLookup(change: PushChange, commit: string): Lookup {
  const { before } = change;
  if (before === null || change.action === 'created' || change.refType === 'tag') {
    return {
      describe: `commit ${commit}`,
      run: (client, projectKey, slug) => client.getCommitChanges(projectKey, slug, commit),
    };
  }
  return {
    describe: `commits ${before}..${commit}`,
    run: (client, projectKey, slug) =>
      client.getCommitRangeChanges(projectKey, slug, { since: before, until: commit }),
  };
}

function explain(err: unknown, what: string): unknown {
  if (!isAppError(err)) return err;
  if (err.code === BitbucketErrorCode.NOT_FOUND) {
    return new AppError(
      'CHANGED_FILES.NOT_FOUND',
      `Bitbucket does not know ${what} (the ref was rewritten, or the repository deleted or renamed): ` +
        'the event cannot be evaluated and is parked',
      { status: 404, retryable: false, cause: err, details: err.details },
    );
  }
  if (err.code === BitbucketErrorCode.UNREACHABLE && !err.retryable) {
    // Network failures without a known code are still worth trying again later.
    return new AppError(err.code, err.message, {
      status: 503,
      retryable: true,
      cause: err,
      details: err.details,
    });
  }
  return err;
}
