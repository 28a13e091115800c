import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { migrate } from '@stacklink/sqlite';
import { MIGRATIONS, openSqliteStore } from '../../src/adapters/sqlite/sqlite-store';
import type { LogChunk } from '@stacklink/contracts';
import type { Store } from '../../src/adapters/store';
import type { NewRun, Run } from '../../src/domain/model';
import { describeEachStore } from '../support/each-store';
import { stackInput } from '../support/events';

const AT = '2026-01-01T00:00:00.000Z';
const at = (second: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, second)).toISOString();
const CAP = { maxBytes: 100, marker: '… log truncated at 100 bytes …' };

const chunk = (seq: number, text = `line ${seq}\n`, stream: LogChunk['stream'] = 'stdout'): LogChunk => ({
  seq,
  stream,
  text,
  at: AT,
});

const newRun = (stackId: string, commit: string): NewRun => ({
  stackId,
  type: 'tracked',
  commit,
  ref: 'refs/heads/main',
  trigger: { kind: 'push', eventId: 'e-1', deliveryId: 'd-1' },
});

/** Run logs, run timelines and the runs listing: the same from every store (docs/architecture.md §3). */
function runLogsContract(open: () => Promise<Store>): void {
  let store: Store;
  let run: Run;
  let stackId: string;
  beforeEach(async () => {
    store = await open();
    const stack = await store.stacks.create(
      stackInput({ name: `logs-${Math.random().toString(16).slice(2)}` }),
    );
    stackId = stack.id;
    run = (await store.runs.create(newRun(stack.id, 'a'.repeat(40)))).run;
  });
  afterEach(async () => {
    await store.close();
  });

  describe('run logs', () => {
    it('stores chunks once per seq: a retry of the same chunks stores nothing', async () => {
      const first = await store.logs.append(run.id, [chunk(0), chunk(1)], CAP);
      const again = await store.logs.append(run.id, [chunk(0, 'changed'), chunk(1)], CAP);
      expect(first).to.deep.equal({ stored: 2, nextSeq: 2, truncated: false });
      expect(again).to.deep.equal({ stored: 0, nextSeq: 2, truncated: false });
      const page = await store.logs.read(run.id, { limit: 10 });
      expect(page.chunks).to.deep.equal([chunk(0), chunk(1)]);
      expect(page).to.include({ more: false, truncated: false });
    });

    it('reads chunks in seq order whatever order they arrived in, after a seq and by pages', async () => {
      await store.logs.append(run.id, [chunk(2), chunk(5)], CAP);
      const late = await store.logs.append(run.id, [chunk(0), chunk(1)], CAP);
      expect(late).to.deep.equal({ stored: 2, nextSeq: 6, truncated: false });
      const first = await store.logs.read(run.id, { limit: 2 });
      expect(first.chunks.map((c) => c.seq)).to.deep.equal([0, 1]);
      expect(first.more).to.equal(true);
      const rest = await store.logs.read(run.id, { after: 1, limit: 2 });
      expect(rest.chunks.map((c) => c.seq)).to.deep.equal([2, 5]);
      expect(rest.more).to.equal(false);
      expect((await store.logs.read(run.id, { after: 5, limit: 2 })).chunks).to.deep.equal([]);
    });

    it('stops at the cap with one system chunk at the first seq that did not fit, ignoring the rest', async () => {
      const text = 'x'.repeat(40);
      const result = await store.logs.append(run.id, [chunk(0, text), chunk(1, text), chunk(2, text)], CAP);
      expect(result).to.deep.equal({ stored: 2, nextSeq: 3, truncated: true });
      const later = await store.logs.append(run.id, [chunk(3, 'y'), chunk(4, 'z')], CAP);
      expect(later).to.deep.equal({ stored: 0, nextSeq: 3, truncated: true });
      const page = await store.logs.read(run.id, { limit: 10 });
      expect(page.chunks).to.deep.equal([
        chunk(0, text),
        chunk(1, text),
        { seq: 2, stream: 'system', text: CAP.marker, at: AT },
      ]);
      expect(page.truncated).to.equal(true);
    });

    it('counts the cap in UTF-8 bytes, not characters', async () => {
      // 30 characters, 90 bytes: a second one passes 100 bytes.
      const wide = '€'.repeat(30);
      const result = await store.logs.append(run.id, [chunk(0, wide), chunk(1, wide)], CAP);
      expect(result).to.deep.equal({ stored: 1, nextSeq: 2, truncated: true });
    });

    it('keeps each run its own log, and the log goes with its stack', async () => {
      const other = (await store.runs.create(newRun(stackId, 'b'.repeat(40)))).run;
      await store.logs.append(run.id, [chunk(0)], CAP);
      await store.logs.append(other.id, [chunk(0, 'other')], CAP);
      expect((await store.logs.read(other.id, { limit: 10 })).chunks).to.deep.equal([chunk(0, 'other')]);
      await store.stacks.delete(stackId);
      expect(await store.logs.read(run.id, { limit: 10 })).to.deep.equal({
        chunks: [],
        more: false,
        truncated: false,
      });
    });

    it('answers an empty log for a run without chunks', async () => {
      expect(await store.logs.read(run.id, { limit: 10 })).to.deep.equal({
        chunks: [],
        more: false,
        truncated: false,
      });
    });
  });

  describe('run timeline', () => {
    it('records QUEUED at creation and every move, canceled runs included', async () => {
      expect(run.transitions).to.deep.equal([{ state: 'QUEUED', at: run.createdAt }]);
      const running = await store.runs.transition(run.id, ['QUEUED'], 'RUNNING');
      const finished = await store.runs.transition(run.id, ['RUNNING'], 'FINISHED');
      expect(finished.ok && finished.run.transitions?.map((t) => t.state)).to.deep.equal([
        'QUEUED',
        'RUNNING',
        'FINISHED',
      ]);
      expect(finished.run?.transitions?.[1]?.at).to.equal(running.run?.updatedAt);
      expect(await store.runs.get(run.id)).to.deep.equal(finished.run);
      const refused = await store.runs.transition(run.id, ['QUEUED'], 'CANCELED');
      expect(refused.run?.transitions).to.have.length(3);

      const queued = (await store.runs.create(newRun(stackId, 'c'.repeat(40)))).run;
      const [canceled] = await store.runs.cancelQueued({ stackId, note: 'stack disabled' });
      expect(canceled?.id).to.equal(queued.id);
      expect(canceled?.transitions?.map((t) => t.state)).to.deep.equal(['QUEUED', 'CANCELED']);
    });
  });

  describe('runs listing', () => {
    it('lists runs newest first, by stack and by state, in pages that neither repeat nor skip', async () => {
      const more: Run[] = [run];
      for (const c of ['b', 'c', 'd', 'e'])
        more.push((await store.runs.create(newRun(stackId, c.repeat(40)))).run);
      await store.runs.transition(more[1]!.id, ['QUEUED'], 'RUNNING');
      const newestFirst = [...more].sort((x, y) =>
        x.createdAt === y.createdAt ? (x.id < y.id ? 1 : -1) : x.createdAt < y.createdAt ? 1 : -1,
      );
      const all = await store.runs.list({ limit: 10 });
      expect(all.map((r) => r.id)).to.deep.equal(newestFirst.map((r) => r.id));

      const page1 = await store.runs.list({ stackId, limit: 2 });
      const last = page1.at(-1)!;
      const page2 = await store.runs.list({
        stackId,
        limit: 10,
        before: { createdAt: last.createdAt, id: last.id },
      });
      expect([...page1, ...page2].map((r) => r.id)).to.deep.equal(newestFirst.map((r) => r.id));

      expect((await store.runs.list({ state: 'RUNNING', limit: 10 })).map((r) => r.id)).to.deep.equal([
        more[1]!.id,
      ]);
      expect(await store.runs.list({ stackId: 'no-such-stack', limit: 10 })).to.deep.equal([]);
    });
  });
}

describeEachStore('run logs store contract', runLogsContract);

describe('run logs store: SQLite migration 5', () => {
  it('gives runs written before it a timeline: QUEUED at creation, then their state at their last change', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stack-trigger-migration-5-'));
    try {
      const path = join(dir, 'released.db');
      const old = new Database(path);
      migrate(
        old,
        'stack-trigger',
        MIGRATIONS.filter((m) => m.version < 5).map((m) => ({ name: `released ${m.version}`, ...m })),
      );
      const insert = old.prepare(
        `INSERT INTO stack_trigger_runs (id, stack_id, type, commit_sha, ref, state, version, sequence, trigger,
           created_at, updated_at) VALUES (?, 's-1', 'tracked', ?, 'refs/heads/main', ?, 1, ?, '{"kind":"push"}', ?, ?)`,
      );
      insert.run('r-queued', 'a'.repeat(40), 'QUEUED', 1, at(1), at(1));
      insert.run('r-failed', 'b'.repeat(40), 'FAILED', 2, at(2), at(9));
      old.close();
      const store = openSqliteStore(path);
      try {
        expect((await store.runs.get('r-queued'))?.transitions).to.deep.equal([
          { state: 'QUEUED', at: at(1) },
        ]);
        expect((await store.runs.get('r-failed'))?.transitions).to.deep.equal([
          { state: 'QUEUED', at: at(2) },
          { state: 'FAILED', at: at(9) },
        ]);
        expect((await store.logs.read('r-failed', { limit: 10 })).chunks).to.deep.equal([]);
      } finally {
        await store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
