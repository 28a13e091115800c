import { expect } from 'chai';
import { isBitbucketDate, parseBitbucketDate } from '../../src';

describe('Bitbucket dates', () => {
  it('reads epoch milliseconds (Bitbucket Server REST and webhooks)', () => {
    expect(parseBitbucketDate(1637591800463).toISOString()).to.equal('2021-11-22T14:36:40.463Z');
  });

  it('reads epoch milliseconds sent as a digit string', () => {
    expect(parseBitbucketDate('1421908805000').toISOString()).to.equal('2015-01-22T06:40:05.000Z');
  });

  it('reads a webhook date with a +hhmm offset', () => {
    expect(parseBitbucketDate('2017-09-19T09:45:32+1000').toISOString()).to.equal('2017-09-18T23:45:32.000Z');
    expect(parseBitbucketDate('2023-05-30T15:40:47-0400').toISOString()).to.equal('2023-05-30T19:40:47.000Z');
  });

  it('reads ISO-8601 with Z, milliseconds or a +hh:mm offset (Bitbucket DC 10)', () => {
    expect(parseBitbucketDate('2026-08-19T17:27:55.266Z').toISOString()).to.equal('2026-08-19T17:27:55.266Z');
    expect(parseBitbucketDate('2018-09-21T14:09:51+02:00').toISOString()).to.equal(
      '2018-09-21T12:09:51.000Z',
    );
  });

  const garbage: unknown[] = [
    '',
    'yesterday',
    '2021-13-01T00:00:00Z',
    '2021-02-30T00:00:00Z',
    '2021-01-01T25:00:00Z',
    '2021-01-01T10:00:00+1',
    -5,
    1.5,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    null,
    {},
  ];
  for (const value of garbage) {
    it(`rejects ${JSON.stringify(value) ?? String(value)}`, () => {
      expect(isBitbucketDate(value)).to.equal(false);
      expect(() => parseBitbucketDate(value as string)).to.throw(TypeError);
    });
  }
});
