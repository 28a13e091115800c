import { BitbucketErrorCode, type BitbucketClient } from '@stacklink/bitbucket';
import { AppError, isAppError } from '@stacklink/errors';
import type { CanonicalEvent, PushChange } from '../domain/canonical-event';
import type { ChangedFilesPort } from '../domain/ports';
import type { ChangedFiles } from '../domain/stack-matches-files';
import type { BitbucketClients } from './bitbucket-clients';

/**
 * Affected files from Bitbucket (DESIGN.md §7): the commit range of each pushed ref, or the pull
 * request's changes, paged to the end by libs/bitbucket. The domain asks once per event and shares the
 * answer between every stack of the repository.
 *
 * A ref created by the push (`before: null`) has no range: Bitbucket does not say where the branch
 * forked. We take the new head commit's own changes. That is exact for the common case (a branch
 * created with one new commit, or a tag on an existing commit) and may miss files of earlier commits
 * pushed with a new branch; the PR that follows is compared against its target, so a stack it touches
 * still gets its proposed run then. Deleted refs start nothing and are not looked up.
 *
 * Failures: Bitbucket unreachable, 5xx or 429 → a retryable AppError (the bus retries the event later);
 * a commit or pull request Bitbucket does not know → not retryable, with a message saying so.
 */
export function createBitbucketChangedFiles(clients: BitbucketClients): ChangedFilesPort {
  return {
    async changedFiles(event) {
      const { projectKey, slug } = event.repository;
      const lookups = lookupsFor(event);
      if (lookups.length === 0) return { paths: [], truncated: false };
      const client = await clients.forIntegration(event.integrationId);
      const paths = new Set<string>();
      let truncated = false;
      for (const lookup of lookups) {
        let answer: ChangedFiles;
        try {
          answer = await lookup.run(client, projectKey, slug);
        } catch (err) {
          throw explain(err, `${lookup.describe} in ${projectKey}/${slug}`);
        }
        for (const path of answer.paths) paths.add(path);
        truncated ||= answer.truncated;
      }
      return { paths: [...paths], truncated };
    },
  };
}

interface Lookup {
  describe: string;
  run(client: BitbucketClient, projectKey: string, slug: string): Promise<ChangedFiles>;
}

function lookupsFor(event: CanonicalEvent): Lookup[] {
  switch (event.type) {
    case 'push': {
      const seen = new Set<string>();
      const lookups: Lookup[] = [];
      for (const change of event.push.changes) {
        const lookup = pushLookup(change);
        if (lookup === undefined || seen.has(lookup.describe)) continue;
        seen.add(lookup.describe);
        lookups.push(lookup);
      }
      return lookups;
    }
    case 'pull_request.opened':
    case 'pull_request.source_updated':
    case 'pull_request.modified':
    case 'pull_request.comment_added': {
      const id = event.pullRequest.id;
      return [
        {
          describe: `pull request ${id}`,
          run: (client, projectKey, slug) => client.getPullRequestChanges(projectKey, slug, id),
        },
      ];
    }
    default:
      return [];
  }
}

function pushLookup(change: PushChange): Lookup | undefined {
  const { before, after } = change;
  if (change.action === 'deleted' || after === null) return undefined;
  if (before === null || change.action === 'created') {
    return {
      describe: `commit ${after}`,
      run: (client, projectKey, slug) => client.getCommitChanges(projectKey, slug, after),
    };
  }
  return {
    describe: `commits ${before}..${after}`,
    run: (client, projectKey, slug) =>
      client.getCommitRangeChanges(projectKey, slug, { since: before, until: after }),
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
