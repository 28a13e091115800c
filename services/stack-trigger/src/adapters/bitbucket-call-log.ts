import { AsyncLocalStorage } from 'node:async_hooks';
import type {
  ChangedFilesPort,
  CommentAuthorityPort,
  CommentRepliesPort,
  ConfirmationPort,
} from '../domain/ports';

/**
 * Which Bitbucket calls the handling of one event made, for its decision in the delivery history
 * (docs/architecture.md §13). The trigger worker handles many events at once, so each handling runs in
 * its own async context and the wrapped ports note their calls there.
 */
export interface BitbucketCallLog {
  /** Runs `work` with a fresh log; resolves with its result and the calls it made. */
  run<T>(work: () => Promise<T>): Promise<{ result: T; calls: string[] }>;
  changedFiles(port: ChangedFilesPort): ChangedFilesPort;
  replies(port: CommentRepliesPort): CommentRepliesPort;
  confirmation(port: ConfirmationPort): ConfirmationPort;
  commentAuthority(port: CommentAuthorityPort): CommentAuthorityPort;
}

/** Calls noted per event at most: a fan-out must not grow a decision without bound. */
const MAX_CALLS = 50;

export function createBitbucketCallLog(): BitbucketCallLog {
  const storage = new AsyncLocalStorage<string[]>();
  const note = (call: string) => {
    const calls = storage.getStore();
    if (calls !== undefined && calls.length < MAX_CALLS) calls.push(call);
  };
  const noted = async <T>(call: string, work: Promise<T>): Promise<T> => {
    try {
      const result = await work;
      note(call);
      return result;
    } catch (err) {
      note(`${call} (failed)`);
      throw err;
    }
  };
  return {
    async run(work) {
      const calls: string[] = [];
      const result = await storage.run(calls, work);
      return { result, calls };
    },
    confirmation: (port) => {
      const where = (e: { repository: { projectKey: string; slug: string } }) =>
        `in ${e.repository.projectKey}/${e.repository.slug}`;
      return {
        branchesContaining: (event, commit) =>
          noted(
            `GET branches containing ${commit.slice(0, 12)} ${where(event)}`,
            port.branchesContaining(event, commit),
          ),
        tag: (event, ref) => noted(`GET tag ${ref} ${where(event)}`, port.tag(event, ref)),
        isAncestor: (event, commit, descendant) =>
          noted(
            `GET commits ${commit.slice(0, 12)}..${descendant.slice(0, 12)} ${where(event)}`,
            port.isAncestor(event, commit, descendant),
          ),
        pullRequest: (event, id) =>
          noted(`GET pull request #${id} ${where(event)}`, port.pullRequest(event, id)),
      };
    },
    commentAuthority: (port) => ({
      readComment: (t) =>
        noted(
          `GET comment ${t.commentId} of pull request #${t.pullRequestId} in ${t.repository.projectKey}/${t.repository.slug}`,
          port.readComment(t),
        ),
      // Answered from a cache most of the time: noted as asked, whether or not Bitbucket was called.
      canWrite: (t) =>
        noted(
          `check REPO_WRITE of ${t.user} on ${t.repository.projectKey}/${t.repository.slug}`,
          port.canWrite(t),
        ),
    }),
    changedFiles: (port) => ({
      pullRequestChanges: (event) =>
        noted(
          `GET changes of pull request #${event.pullRequest.id} in ${event.repository.projectKey}/${event.repository.slug}`,
          port.pullRequestChanges(event),
        ),
      pushChanges: (event, changes, tagCommits) =>
        noted(
          `GET changes of ${changes.map((c) => `${c.ref} ${c.before?.slice(0, 12) ?? '∅'}..${c.after?.slice(0, 12) ?? '∅'}`).join(', ')} in ${event.repository.projectKey}/${event.repository.slug}`,
          port.pushChanges(event, changes, tagCommits),
        ),
    }),
    replies: (port) => ({
      reply: (target) =>
        noted(
          `POST reply on pull request #${target.pullRequestId} in ${target.repository.projectKey}/${target.repository.slug}`,
          port.reply(target),
        ),
    }),
  };
}
