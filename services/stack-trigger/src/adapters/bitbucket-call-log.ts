import { AsyncLocalStorage } from 'node:async_hooks';
import type { ChangedFilesPort, CommentRepliesPort } from '../domain/ports';

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
    changedFiles: (port) => ({
      pullRequestChanges: (event) =>
        noted(
          `GET changes of pull request #${event.pullRequest.id} in ${event.repository.projectKey}/${event.repository.slug}`,
          port.pullRequestChanges(event),
        ),
      pushChanges: (event, changes) =>
        noted(
          `GET changes of ${changes.map((c) => `${c.ref} ${c.before?.slice(0, 12) ?? '∅'}..${c.after?.slice(0, 12) ?? '∅'}`).join(', ')} in ${event.repository.projectKey}/${event.repository.slug}`,
          port.pushChanges(event, changes),
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
