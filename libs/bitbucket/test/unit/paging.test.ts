import { expect } from 'chai';
import { collectPages, type Page } from '../../src';

/** A fake paged resource over `total` numbers, answering like Bitbucket. */
function resource(
  total: number,
  shape: { nullNextOnLast?: boolean; neverLast?: boolean; noNextPageStart?: boolean } = {},
) {
  const requests: { start: number; limit: number }[] = [];
  const fetchPage = async ({ start, limit }: { start: number; limit: number }): Promise<Page<number>> => {
    requests.push({ start, limit });
    const values = Array.from({ length: Math.max(0, Math.min(limit, total - start)) }, (_, i) => start + i);
    const isLastPage = !shape.neverLast && start + values.length >= total;
    const page: Page<number> = { values, start, limit, size: values.length, isLastPage };
    if (!isLastPage && !shape.noNextPageStart) page.nextPageStart = start + values.length;
    if (isLastPage && shape.nullNextOnLast) page.nextPageStart = null;
    return page;
  };
  return { fetchPage, requests };
}

const roomy = { pageLimit: 3, maxPages: 100, maxItems: 1000 };

describe('paging', () => {
  it('follows nextPageStart until isLastPage and returns every value', async () => {
    const { fetchPage, requests } = resource(8);
    const result = await collectPages(fetchPage, roomy);
    expect(result).to.deep.equal({ values: [0, 1, 2, 3, 4, 5, 6, 7], truncated: false, pages: 3 });
    expect(requests.map((r) => r.start)).to.deep.equal([0, 3, 6]);
  });

  it('tolerates nextPageStart: null on the last page', async () => {
    const { fetchPage } = resource(4, { nullNextOnLast: true });
    expect(await collectPages(fetchPage, roomy)).to.deep.equal({
      values: [0, 1, 2, 3],
      truncated: false,
      pages: 2,
    });
  });

  it('continues from start + size when a page that is not the last has no nextPageStart', async () => {
    const { fetchPage, requests } = resource(5, { noNextPageStart: true });
    const result = await collectPages(fetchPage, roomy);
    expect(result.values).to.deep.equal([0, 1, 2, 3, 4]);
    expect(requests.map((r) => r.start)).to.deep.equal([0, 3]);
  });

  it('stops at the page cap with truncated: true', async () => {
    const { fetchPage } = resource(100);
    const result = await collectPages(fetchPage, { ...roomy, maxPages: 2 });
    expect(result).to.deep.equal({ values: [0, 1, 2, 3, 4, 5], truncated: true, pages: 2 });
  });

  it('stops at the item cap with exactly maxItems values and truncated: true', async () => {
    const { fetchPage } = resource(100);
    const result = await collectPages(fetchPage, { ...roomy, maxItems: 4 });
    expect(result.values).to.deep.equal([0, 1, 2, 3]);
    expect(result.truncated).to.equal(true);
  });

  it('ends a server that never reports the last page at its first empty page, not truncated', async () => {
    const { fetchPage } = resource(6, { neverLast: true });
    const result = await collectPages(fetchPage, { ...roomy, maxPages: 10 });
    expect(result.values).to.deep.equal([0, 1, 2, 3, 4, 5]);
    // after the data runs out the server sends an empty page that is not marked last
    expect(result.truncated).to.equal(false);
    expect(result.pages).to.equal(3);
  });

  it('stops as truncated when the server sends a nextPageStart that does not move forward', async () => {
    let calls = 0;
    const result = await collectPages(async () => {
      calls += 1;
      return { values: [1], start: 0, isLastPage: false, nextPageStart: 0 };
    }, roomy);
    expect(calls).to.equal(1);
    expect(result).to.deep.equal({ values: [1], truncated: true, pages: 1 });
  });

  it('is not truncated when the values end exactly at the cap on the last page', async () => {
    const { fetchPage } = resource(6);
    expect((await collectPages(fetchPage, { ...roomy, maxPages: 2 })).truncated).to.equal(false);
  });
});
