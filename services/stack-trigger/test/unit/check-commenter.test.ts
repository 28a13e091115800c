import { expect } from 'chai';
import { createCheckCommenter } from '../../src/domain/check-commenter';
import type { CommentAuthorityPort } from '../../src/domain/ports';
import { commentEvent } from '../support/events';

/** What Bitbucket answers: the comment's author is `bob`, whatever the webhook body claims. */
function authority(options: { vanished?: boolean; writers: string[] }) {
  const asked: string[] = [];
  const port: CommentAuthorityPort = {
    async readComment() {
      return options.vanished === true ? { kind: 'vanished' } : { kind: 'found', author: 'bob' };
    },
    async canWrite({ user }) {
      asked.push(user);
      return options.writers.includes(user);
    },
  };
  return { port, asked };
}

describe('checkCommenter', () => {
  it('asks about the author Bitbucket reports, not the one the webhook body claims', async () => {
    const { port, asked } = authority({ writers: ['bob'] });
    const event = commentEvent('/stacklink propose');
    event.comment.author = { ...event.comment.author, name: 'admin' };
    expect(await createCheckCommenter({ authority: port })(event)).to.deep.equal({
      kind: 'writer',
      name: 'bob',
    });
    expect(asked).to.deep.equal(['bob']);
  });

  it('refuses an author without write permission', async () => {
    const { port } = authority({ writers: ['admin'] });
    expect(await createCheckCommenter({ authority: port })(commentEvent('/stacklink retry'))).to.deep.equal({
      kind: 'refused',
      name: 'bob',
    });
  });

  it('reports a comment deleted before it was handled as vanished, without asking for permissions', async () => {
    const { port, asked } = authority({ vanished: true, writers: ['bob'] });
    expect(await createCheckCommenter({ authority: port })(commentEvent('/stacklink propose'))).to.deep.equal(
      {
        kind: 'vanished',
      },
    );
    expect(asked).to.deep.equal([]);
  });

  it('asks nothing for a comment that is no command', async () => {
    const { port, asked } = authority({ writers: [] });
    expect(await createCheckCommenter({ authority: port })(commentEvent('looks good'))).to.equal(undefined);
    expect(asked).to.deep.equal([]);
  });
});
