import { AppError } from '@stacklink/errors';
import type { Run, RunState } from './model';
import type { RunRepositoryPort } from './ports';

export interface RunsPage {
  runs: Run[];
  /** Pass as `before` for the next page; null on the last one. */
  next: string | null;
}

/** `GET /runs?stackId=&state=&limit=&before=`: runs of every stack, newest first, paged by an opaque cursor. */
export function createListRuns(deps: { runs: RunRepositoryPort }) {
  return async (query: { stackId?: string; state?: RunState; limit: number; before?: string }) => {
    const before = query.before === undefined ? undefined : decodeCursor(query.before);
    const runs = await deps.runs.list({
      ...(query.stackId === undefined ? {} : { stackId: query.stackId }),
      ...(query.state === undefined ? {} : { state: query.state }),
      ...(before === undefined ? {} : { before }),
      limit: query.limit + 1,
    });
    const page = runs.slice(0, query.limit);
    const last = page.at(-1);
    return {
      runs: page,
      next: runs.length > query.limit && last !== undefined ? encodeCursor(last) : null,
    } satisfies RunsPage;
  };
}

function encodeCursor(run: Run): string {
  return Buffer.from(JSON.stringify([run.createdAt, run.id]), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: string; id: string } {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof createdAt === 'string' && typeof id === 'string') return { createdAt, id };
  } catch {
    // Answered below.
  }
  throw new AppError('VALIDATION.FAILED', '"before" must be the "next" cursor of an earlier page', {
    status: 400,
    details: { fields: [{ field: 'before', message: '"before" is not a cursor of this API' }] },
  });
}
