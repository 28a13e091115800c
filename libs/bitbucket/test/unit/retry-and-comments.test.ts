import { expect } from 'chai';
import {
  backoffDelay,
  DEFAULT_RETRY,
  MAX_COMMENT_LENGTH,
  parseRetryAfter,
  splitCommentText,
} from '../../src';

describe('retry timing', () => {
  const options = { ...DEFAULT_RETRY, baseDelayMs: 100, maxDelayMs: 1000 };

  it('doubles the backoff step each try, with jitter within the upper half of the step', () => {
    expect(backoffDelay(1, options, () => 0)).to.equal(50);
    expect(backoffDelay(1, options, () => 1)).to.equal(100);
    expect(backoffDelay(3, options, () => 0)).to.equal(200);
    expect(backoffDelay(3, options, () => 1)).to.equal(400);
  });

  it('never waits longer than maxDelayMs', () => {
    expect(backoffDelay(20, options, () => 1)).to.equal(1000);
  });

  it('reads Retry-After in seconds or as an HTTP date', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('3', now)).to.equal(3000);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:07 GMT', now)).to.equal(7000);
    expect(parseRetryAfter(undefined, now)).to.equal(undefined);
    expect(parseRetryAfter('soon', now)).to.equal(undefined);
  });
});

describe('splitting long comments', () => {
  it('keeps a text within the limit as one part', () => {
    expect(splitCommentText('short')).to.deep.equal(['short']);
  });

  it('splits a text over 32,768 characters into parts within the limit that join back to the text', () => {
    const line = `${'x'.repeat(99)}\n`;
    const text = line.repeat(700);
    const parts = splitCommentText(text);
    expect(text.length).to.be.greaterThan(MAX_COMMENT_LENGTH * 2);
    expect(parts).to.have.length(3);
    for (const part of parts) expect(part.length).to.be.at.most(MAX_COMMENT_LENGTH);
    expect(parts.join('')).to.equal(text);
  });

  it('cuts at line breaks when it can', () => {
    expect(splitCommentText('aaaa\nbbbb\ncc', 6)).to.deep.equal(['aaaa\n', 'bbbb\n', 'cc']);
  });

  it('never cuts a surrogate pair in half', () => {
    const parts = splitCommentText('a😀😀😀', 4);
    expect(parts.join('')).to.equal('a😀😀😀');
    for (const part of parts) expect(part).to.not.match(/[\uD800-\uDBFF]$/);
  });
});
