import type { Page } from './models/rest';

export interface PageRequest {
  start?: number;
  limit?: number;
}

export interface PagingLimits {
  /** Page size asked for; the server may answer with fewer. */
  pageLimit: number;
  /** Stop after this many pages. */
  maxPages: number;
  /** Stop once this many values were collected. */
  maxItems: number;
}

/** Every value of a paged resource, or the first ones with `truncated: true` when a cap was hit. */
export interface Collected<T> {
  values: T[];
  /** True when more values may exist than were returned (cap reached, or the server stopped paging). */
  truncated: boolean;
  pages: number;
}

/**
 * Follows `nextPageStart` until `isLastPage`. Bitbucket caps some lists (change lists) and some
 * servers never report the last page, so the caps end the walk with an explicit `truncated`.
 */
export async function collectPages<T>(
  fetchPage: (request: { start: number; limit: number }) => Promise<Page<T>>,
  limits: PagingLimits,
): Promise<Collected<T>> {
  const values: T[] = [];
  let start = 0;
  let pages = 0;
  for (;;) {
    const page = await fetchPage({ start, limit: limits.pageLimit });
    pages += 1;
    values.push(...page.values);
    if (page.isLastPage) return finish(values, limits, false, pages);
    if (page.values.length === 0) return finish(values, limits, false, pages);
    const next =
      typeof page.nextPageStart === 'number'
        ? page.nextPageStart
        : (page.start ?? start) + page.values.length;
    // A server that does not move forward would loop for ever; what we have is all we can know.
    if (next <= start) return finish(values, limits, true, pages);
    if (values.length >= limits.maxItems || pages >= limits.maxPages)
      return finish(values, limits, true, pages);
    start = next;
  }
}

function finish<T>(values: T[], limits: PagingLimits, truncated: boolean, pages: number): Collected<T> {
  if (values.length > limits.maxItems)
    return { values: values.slice(0, limits.maxItems), truncated: true, pages };
  return { values, truncated, pages };
}
