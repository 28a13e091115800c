import { expect } from 'chai';
import { AppError } from '@stacklink/errors';
import { BitbucketErrorCode, type BitbucketClient } from '@stacklink/bitbucket';
import {
  createBitbucketCommentAuthority,
  PERMISSION_CACHE_MS,
} from '../../src/adapters/bitbucket-comment-authority';

const repository = { projectKey: 'PRJ', slug: 'infra' };

function fakeClients(answer: { writer: boolean; comment?: 'gone' | 'down' }) {
  const calls = { permissions: 0 };
  const client = {
    async userHasRepositoryPermission() {
      calls.permissions++;
      return answer.writer;
    },
    async getPullRequestComment() {
      if (answer.comment === 'gone')
        throw new AppError(BitbucketErrorCode.NOT_FOUND, 'no such comment', { status: 404 });
      if (answer.comment === 'down')
        throw new AppError(BitbucketErrorCode.UNREACHABLE, 'down', { status: 503, retryable: true });
      return { id: 1, version: 0, text: '/stacklink propose', author: { name: 'bob' } };
    },
  } as unknown as BitbucketClient;
  return { clients: { forIntegration: async () => client }, calls };
}

describe('the Bitbucket comment authority', () => {
  it('asks Bitbucket once per user within 60 s and again after', async () => {
    let now = 1_000;
    const { clients, calls } = fakeClients({ writer: true });
    const authority = createBitbucketCommentAuthority(clients, () => now);
    const ask = () => authority.canWrite({ integrationId: 'i', repository, user: 'bob' });
    expect(await ask()).to.equal(true);
    now += PERMISSION_CACHE_MS - 1;
    expect(await ask()).to.equal(true);
    expect(calls.permissions).to.equal(1);
    now += 1;
    await ask();
    expect(calls.permissions).to.equal(2);
    expect(PERMISSION_CACHE_MS).to.be.at.most(60_000);
  });

  it('reads the author from Bitbucket and reports a deleted comment as vanished', async () => {
    const target = { integrationId: 'i', repository, pullRequestId: 1, commentId: 1 };
    expect(
      await createBitbucketCommentAuthority(fakeClients({ writer: true }).clients).readComment(target),
    ).to.deep.equal({ kind: 'found', author: 'bob' });
    const gone = createBitbucketCommentAuthority(fakeClients({ writer: true, comment: 'gone' }).clients);
    expect(await gone.readComment(target)).to.deep.equal({ kind: 'vanished' });
  });

  it('keeps an unreachable Bitbucket retryable', async () => {
    const target = { integrationId: 'i', repository, pullRequestId: 1, commentId: 1 };
    const down = createBitbucketCommentAuthority(fakeClients({ writer: true, comment: 'down' }).clients);
    const err = await down.readComment(target).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(AppError).and.to.include({ retryable: true });
  });
});
