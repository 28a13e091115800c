import { BitbucketErrorCode, type BitbucketClient } from '@stacklink/bitbucket';
import { AppError, isAppError } from '@stacklink/errors';
import { changedFilesForRef, commitOfQuery, type RefChangesQuery } from '../domain/changed-files-for-ref';
import type { ChangedFilesPort } from '../domain/ports';
import type { ChangedFiles, RefChanges } from '../domain/stack-matches-files';
import type { BitbucketClients } from './bitbucket-clients';

/**
 * Affected files from Bitbucket (docs/architecture.md §7), paged to the end by libs/bitbucket: the pull
 * request's changes, or what each pushed ref changed on its own. The domain asks once per event and shares
 * the answer between every stack of the repository; within a push, refs with the same range share one
 * lookup. What a ref counts as changing is the domain's rule (`changedFilesForRef`); this asks what it
 * names. A tag is resolved with one tags REST call per tag ref: `latestCommit`, the tag's commit now; a
 * lightweight tag resolves to itself.
 *
 * Failures: Bitbucket unreachable, 5xx or 429 → a retryable AppError (the bus retries the event later);
 * a pushed ref whose commit or tag Bitbucket does not know (deleted or rewritten since the push) →
 * that ref is `vanished`, and the push's other refs are looked up as usual; a pull request Bitbucket
 * does not know → not retryable, with a message saying so.
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

    async pushChanges(event, changes, tagCommits = new Map()) {
      const { projectKey, slug } = event.repository;
      const queries: { ref: string; query: Exclude<RefChangesQuery, { kind: 'none' }> }[] = [];
      for (const change of changes) {
        const query = changedFilesForRef(change);
        if (query.kind !== 'none') queries.push({ ref: change.ref, query });
      }
      if (queries.length === 0) return [];
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
      for (const { ref, query } of queries) {
        try {
          out.push(await lookUpRef(ref, query));
        } catch (err) {
          // One ref gone (deleted or rewritten since the push) must not park the push's other refs.
          if (!isAppError(err) || err.code !== 'CHANGED_FILES.NOT_FOUND') throw err;
          out.push({
            ref,
            commit: query.kind === 'tag' ? query.after : commitOfQuery(query),
            files: { paths: [], truncated: false },
            vanished: `${ref} was deleted or rewritten before Stacklink could look up what it changed`,
          });
        }
      }
      return out;

      async function lookUpRef(
        ref: string,
        query: Exclude<RefChangesQuery, { kind: 'none' }>,
      ): Promise<RefChanges> {
        const lookup =
          query.kind === 'tag'
            ? {
                kind: 'commit' as const,
                commit: await attempt(`tag ${query.ref}`, async () => {
                  const known = tagCommits.get(query.ref);
                  if (known !== undefined) return known;
                  const tag = await client.getTag(projectKey, slug, query.ref);
                  return tag.latestCommit ?? tag.latestChangeset ?? query.after;
                }),
              }
            : query;
        const describe = describeLookup(lookup);
        let files = byLookup.get(describe);
        if (files === undefined) {
          files = await attempt(describe, () => fetchChanges(client, projectKey, slug, lookup));
          byLookup.set(describe, files);
        }
        return {
          ref,
          commit: commitOfQuery(lookup),
          files: { paths: files.paths, truncated: files.truncated },
        };
      }
    },
  };
}

type Lookup = Extract<RefChangesQuery, { kind: 'commit' | 'range' }>;

function describeLookup(lookup: Lookup): string {
  return lookup.kind === 'commit' ? `commit ${lookup.commit}` : `commits ${lookup.since}..${lookup.until}`;
}

function fetchChanges(
  client: BitbucketClient,
  projectKey: string,
  slug: string,
  lookup: Lookup,
): Promise<ChangedFiles> {
  return lookup.kind === 'commit'
    ? client.getCommitChanges(projectKey, slug, lookup.commit)
    : client.getCommitRangeChanges(projectKey, slug, { since: lookup.since, until: lookup.until });
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
