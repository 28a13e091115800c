import { expect } from 'chai';
import type { PushChange } from '../../src/domain/canonical-event';
import { changedFilesForRef, commitOfQuery } from '../../src/domain/changed-files-for-ref';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const TAG_OBJECT = 'c'.repeat(40);

const change = (c: Partial<PushChange>): PushChange => ({
  ref: 'refs/heads/main',
  refType: 'branch',
  action: 'updated',
  before: A,
  after: B,
  ...c,
});

describe('changedFilesForRef', () => {
  it('an updated branch changed what lies between its previous and its new head', () => {
    expect(changedFilesForRef(change({}))).to.deep.equal({ kind: 'range', since: A, until: B });
  });

  it("a created branch changed its new head commit's own files: Bitbucket does not say where it forked", () => {
    expect(changedFilesForRef(change({ action: 'created', before: null }))).to.deep.equal({
      kind: 'commit',
      commit: B,
    });
  });

  it('a branch without a previous head counts as created, whatever its action says', () => {
    expect(changedFilesForRef(change({ before: null }))).to.deep.equal({ kind: 'commit', commit: B });
  });

  it('a created branch whose change names a previous head still takes only its new head commit', () => {
    expect(changedFilesForRef(change({ action: 'created' }))).to.deep.equal({ kind: 'commit', commit: B });
  });

  it('a tag, created or moved, is resolved to the commit it names first: its after may be a tag object', () => {
    const created = change({
      ref: 'refs/tags/v1',
      refType: 'tag',
      action: 'created',
      before: null,
      after: TAG_OBJECT,
    });
    const moved = change({ ref: 'refs/tags/v1', refType: 'tag', before: A, after: TAG_OBJECT });
    expect(changedFilesForRef(created)).to.deep.equal({
      kind: 'tag',
      ref: 'refs/tags/v1',
      after: TAG_OBJECT,
    });
    expect(changedFilesForRef(moved)).to.deep.equal({ kind: 'tag', ref: 'refs/tags/v1', after: TAG_OBJECT });
  });

  it('a deleted branch or tag changed nothing a run could be on', () => {
    expect(changedFilesForRef(change({ action: 'deleted', after: null }))).to.deep.equal({ kind: 'none' });
    expect(
      changedFilesForRef(change({ ref: 'refs/tags/v1', refType: 'tag', action: 'deleted', after: null })),
    ).to.deep.equal({ kind: 'none' });
  });

  it('a ref without a new target counts as deleted', () => {
    expect(changedFilesForRef(change({ after: null }))).to.deep.equal({ kind: 'none' });
  });

  it('a run on the ref is on the commit the lookup is about: the head of a range, or the commit itself', () => {
    expect(commitOfQuery({ kind: 'range', since: A, until: B })).to.equal(B);
    expect(commitOfQuery({ kind: 'commit', commit: A })).to.equal(A);
  });
});
