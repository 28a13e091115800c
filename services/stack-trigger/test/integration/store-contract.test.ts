import { mkdtempSync, rmSync } from 'node:fs';
import { migrate } from '@stacklink/sqlite';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { MIGRATIONS, openSqliteStore } from '../../src/adapters/sqlite/sqlite-store';
import type { Store } from '../../src/adapters/store';
import type { NewRun, NewStack } from '../../src/domain/model';
import { describeMongoStore, withDatabase } from '../support/each-store';

const newStack = (overrides: Partial<NewStack> = {}): NewStack => ({
  name: `stack-${Math.random().toString(16).slice(2)}`,
  integrationId: 'int-1',
  repository: { projectKey: 'PRJ', slug: 'infra' },
  branch: 'main',
  projectRoot: 'infra/prod',
  additionalProjectGlobs: ['modules/**'],
  triggerOnTags: false,
  allowForks: false,
  labels: ['team:a'],
  ...overrides,
});

const newRun = (stackId: string, overrides: Partial<NewRun> = {}): NewRun => ({
  stackId,
  type: 'proposed',
  commit: 'a'.repeat(40),
  ref: 'refs/heads/feature',
  pullRequest: { id: 7, sourceRef: 'refs/heads/feature', targetRef: 'refs/heads/main' },
  trigger: { kind: 'pull_request', eventId: 'e-1', deliveryId: 'd-1' },
  ...overrides,
});

/** The run a push creates: the same run as a pull request's, but without the pull request. */
const pushRun = (stackId: string, overrides: Partial<NewRun> = {}): NewRun => {
  const { pullRequest: _none, ...run } = newRun(stackId, { ref: 'refs/heads/feature', ...overrides });
  return run;
};

/** The same behaviour from every store (docs/architecture.md §3): one suite, run against each adapter. */
function storeContract(open: () => Promise<Store>): void {
  let store: Store;
  beforeEach(async () => {
    store = await open();
  });
  afterEach(async () => {
    await store.close();
  });

  describe('stacks', () => {
    it('creates a stack and reads it back as a plain object', async () => {
      const created = await store.stacks.create(newStack({ name: 'prod' }));
      expect(created.id).to.be.a('string');
      const read = await store.stacks.get(created.id);
      expect(read).to.deep.equal(created);
      expect(Object.getPrototypeOf(read)).to.equal(Object.prototype);
    });

    it('refuses a second stack with the same name with STACK.NAME_TAKEN', async () => {
      await store.stacks.create(newStack({ name: 'dup' }));
      const err = await store.stacks.create(newStack({ name: 'dup' })).catch((e: unknown) => e);
      expect(err).to.include({ code: 'STACK.NAME_TAKEN', status: 409 });
      expect(await store.stacks.list()).to.have.length(1);
    });

    it('finds the stacks of a repository regardless of project key and slug case', async () => {
      const a = await store.stacks.create(newStack());
      await store.stacks.create(newStack({ repository: { projectKey: 'PRJ', slug: 'other' } }));
      await store.stacks.create(newStack({ integrationId: 'int-2' }));
      const found = await store.stacks.listByRepository('int-1', { projectKey: 'prj', slug: 'INFRA' });
      expect(found.map((s) => s.id)).to.deep.equal([a.id]);
    });

    it('lists stacks by integration', async () => {
      await store.stacks.create(newStack());
      const b = await store.stacks.create(newStack({ integrationId: 'int-2' }));
      expect((await store.stacks.list({ integrationId: 'int-2' })).map((s) => s.id)).to.deep.equal([b.id]);
      expect(await store.stacks.list()).to.have.length(2);
    });

    it('updates the given fields and keeps the others', async () => {
      const s = await store.stacks.create(newStack());
      const updated = await store.stacks.update(s.id, { branch: 'develop', allowForks: true });
      expect(updated).to.include({
        branch: 'develop',
        allowForks: true,
        projectRoot: 'infra/prod',
        name: s.name,
      });
      expect(await store.stacks.get(s.id)).to.deep.equal(updated);
      expect(await store.stacks.update('missing', { branch: 'x' })).to.be.undefined;
    });

    it('lands both of two updates of the same stack made at the same time', async () => {
      const s = await store.stacks.create(newStack());
      // A user's PATCH and the disable of a force-deleted integration: neither may undo the other.
      await Promise.all([
        store.stacks.update(s.id, { branch: 'develop' }),
        store.stacks.update(s.id, { enabled: false, disabledReason: 'integration int-1 was deleted' }),
      ]);
      expect(await store.stacks.get(s.id)).to.include({
        branch: 'develop',
        enabled: false,
        disabledReason: 'integration int-1 was deleted',
      });
    });

    it('deletes a stack with its runs', async () => {
      const s = await store.stacks.create(newStack());
      const { run } = await store.runs.create(newRun(s.id));
      expect(await store.stacks.delete(s.id)).to.be.true;
      expect(await store.stacks.get(s.id)).to.be.undefined;
      expect(await store.runs.get(run.id)).to.be.undefined;
      expect(await store.stacks.delete(s.id)).to.be.false;
    });
  });

  describe('stack settings added later', () => {
    it('gives a new stack prComments false and enabled true unless told otherwise', async () => {
      const plain = await store.stacks.create(newStack());
      expect(plain).to.include({ prComments: false, enabled: true });
      expect(plain).to.not.have.property('disabledReason');
      const commenting = await store.stacks.create(newStack({ prComments: true }));
      expect(await store.stacks.get(commenting.id)).to.include({ prComments: true, enabled: true });
    });

    it('disables a stack with a reason and enables it again without one', async () => {
      const stack = await store.stacks.create(newStack());
      await store.stacks.update(stack.id, { enabled: false, disabledReason: 'integration deleted' });
      expect(await store.stacks.get(stack.id)).to.include({
        enabled: false,
        disabledReason: 'integration deleted',
      });
      await store.stacks.update(stack.id, { enabled: true, disabledReason: undefined });
      const enabled = await store.stacks.get(stack.id);
      expect(enabled).to.include({ enabled: true });
      expect(enabled).to.not.have.property('disabledReason');
    });
  });

  describe('run comments', () => {
    it('remembers the pull-request comment of a run and replaces it on save', async () => {
      const stack = await store.stacks.create(newStack());
      const { run } = await store.runs.create(newRun(stack.id));
      expect(await store.runComments.get(run.id)).to.equal(undefined);
      await store.runComments.save({ runId: run.id, commentId: 12, commentVersion: 0, runVersion: 1 });
      await store.runComments.save({ runId: run.id, commentId: 12, commentVersion: 1, runVersion: 2 });
      expect(await store.runComments.get(run.id)).to.deep.equal({
        runId: run.id,
        commentId: 12,
        commentVersion: 1,
        runVersion: 2,
      });
    });

    it('forgets the comments of a deleted stack with its runs', async () => {
      const stack = await store.stacks.create(newStack());
      const { run } = await store.runs.create(newRun(stack.id));
      await store.runComments.save({ runId: run.id, commentId: 3, commentVersion: 0, runVersion: 1 });
      await store.stacks.delete(stack.id);
      expect(await store.runComments.get(run.id)).to.equal(undefined);
    });
  });

  describe('runs', () => {
    it('creates a QUEUED run at version 1 with every field', async () => {
      const s = await store.stacks.create(newStack());
      const { run, created } = await store.runs.create(newRun(s.id, { note: 'n' }));
      expect(created).to.be.true;
      expect(run).to.deep.include({
        stackId: s.id,
        type: 'proposed',
        commit: 'a'.repeat(40),
        ref: 'refs/heads/feature',
        state: 'QUEUED',
        version: 1,
        sequence: 1,
        note: 'n',
        pullRequest: { id: 7, sourceRef: 'refs/heads/feature', targetRef: 'refs/heads/main' },
        trigger: { kind: 'pull_request', eventId: 'e-1', deliveryId: 'd-1' },
      });
      expect(run.createdAt).to.equal(run.updatedAt);
      expect(await store.runs.get(run.id)).to.deep.equal(run);
    });

    it('returns the existing run when the same stack, commit and type is created again', async () => {
      const s = await store.stacks.create(newStack());
      const first = await store.runs.create(newRun(s.id));
      const again = await store.runs.create(newRun(s.id, { trigger: { kind: 'push', eventId: 'e-2' } }));
      expect(again.created).to.be.false;
      expect(again.run).to.deep.equal(first.run);
      expect(await store.runs.listByStack(s.id)).to.have.length(1);
    });

    it('gives a run a push created the pull request of a later creation of the same run', async () => {
      const s = await store.stacks.create(newStack());
      const pullRequest = { id: 7, sourceRef: 'refs/heads/feature', targetRef: 'refs/heads/main' };
      const pushed = await store.runs.create(pushRun(s.id));
      expect(pushed.run.pullRequest, "a push's run starts without a pull request").to.be.undefined;
      const again = await store.runs.create(
        newRun(s.id, { type: 'proposed', ref: 'refs/heads/feature', pullRequest }),
      );
      expect(again.created).to.be.false;
      expect(again.run).to.deep.equal({ ...pushed.run, pullRequest });
      expect(await store.runs.get(pushed.run.id)).to.deep.equal(again.run);
      const other = await store.runs.create(
        newRun(s.id, { type: 'proposed', ref: 'refs/heads/feature', pullRequest: { ...pullRequest, id: 8 } }),
      );
      expect(other.run.pullRequest, 'a run keeps the pull request it has').to.deep.equal(pullRequest);
      const canceled = await store.runs.cancelQueuedProposed({
        pullRequestId: 7,
        stackIds: [s.id],
        note: 'x',
      });
      expect(canceled.map((r) => r.id)).to.deep.equal([pushed.run.id]);
    });

    it("gives the run the pull request when the push's and the pull request's creations race", async () => {
      const s = await store.stacks.create(newStack());
      const pullRequest = { id: 7, sourceRef: 'refs/heads/feature', targetRef: 'refs/heads/main' };
      // Bitbucket sends both at once; which creation wins must not matter (several commits, both orders).
      for (const [i, commit] of ['1', '2', '3', '4', '5', '6'].map((c) => c.repeat(40)).entries()) {
        const creations = [
          () => store.runs.create(pushRun(s.id, { commit })),
          () => store.runs.create(newRun(s.id, { commit, pullRequest })),
        ];
        if (i % 2 === 1) creations.reverse();
        const results = await Promise.all(creations.map((create) => create()));
        expect(results.filter((r) => r.created)).to.have.length(1);
        const stored = await store.runs.find(s.id, commit, 'proposed');
        expect(stored?.pullRequest, `commit ${commit}`).to.deep.equal(pullRequest);
      }
    });

    it('creates one run when many creations of the same run race', async () => {
      const s = await store.stacks.create(newStack());
      const results = await Promise.all(Array.from({ length: 10 }, () => store.runs.create(newRun(s.id))));
      expect(results.filter((r) => r.created)).to.have.length(1);
      expect(new Set(results.map((r) => r.run.id)).size).to.equal(1);
    });

    it('keeps a tracked and a proposed run of the same commit apart', async () => {
      const s = await store.stacks.create(newStack());
      const p = await store.runs.create(newRun(s.id));
      const t = await store.runs.create(newRun(s.id, { type: 'tracked', ref: 'refs/heads/main' }));
      expect(t.created).to.be.true;
      expect(t.run.id).to.not.equal(p.run.id);
      expect((await store.runs.find(s.id, 'a'.repeat(40), 'tracked'))!.id).to.equal(t.run.id);
    });

    it('numbers runs per stack in creation order, newest first in listings', async () => {
      const s = await store.stacks.create(newStack());
      const other = await store.stacks.create(newStack());
      for (const c of ['1', '2', '3']) await store.runs.create(newRun(s.id, { commit: c.repeat(40) }));
      const o = await store.runs.create(newRun(other.id));
      expect(o.run.sequence).to.equal(1);
      expect((await store.runs.listByStack(s.id)).map((r) => r.sequence)).to.deep.equal([3, 2, 1]);
      expect(await store.runs.listByStack(s.id, { limit: 2 })).to.have.length(2);
    });

    it('moves a run only from an expected state, incrementing the version', async () => {
      const s = await store.stacks.create(newStack());
      const { run } = await store.runs.create(newRun(s.id));
      const moved = await store.runs.transition(run.id, ['QUEUED'], 'RUNNING');
      expect(moved.ok).to.be.true;
      expect(moved.run).to.include({ state: 'RUNNING', version: 2 });
      const refused = await store.runs.transition(run.id, ['QUEUED'], 'CANCELED', 'no');
      expect(refused.ok).to.be.false;
      expect(refused.run).to.include({ state: 'RUNNING', version: 2 });
      const done = await store.runs.transition(run.id, ['RUNNING'], 'FINISHED', 'applied');
      expect(done.run).to.include({ state: 'FINISHED', version: 3, note: 'applied' });
      expect((await store.runs.transition('missing', ['QUEUED'], 'RUNNING')).run).to.be.undefined;
    });

    it('records when a run started and keeps the summary given with its final state', async () => {
      const s = await store.stacks.create(newStack());
      const { run } = await store.runs.create(newRun(s.id, { commit: '9'.repeat(40), type: 'tracked' }));
      const running = await store.runs.transition(run.id, ['QUEUED'], 'RUNNING');
      expect(running.run?.startedAt).to.be.a('string');
      const summary = {
        add: 2,
        summary: 'Plan: 2 to add.',
        annotations: [{ path: 'a.tf', line: 1, severity: 'LOW' as const, message: 'm' }],
      };
      const done = await store.runs.transition(run.id, ['RUNNING'], 'FINISHED', 'ok', { summary });
      expect(done.run).to.deep.include({ summary, startedAt: running.run?.startedAt });
      expect((await store.runs.get(run.id))?.summary).to.deep.equal(summary);
    });

    it('lists QUEUED and RUNNING runs by stack and sequence', async () => {
      const s = await store.stacks.create(newStack());
      const a = await store.runs.create(newRun(s.id, { commit: '1'.repeat(40), type: 'tracked' }));
      const b = await store.runs.create(newRun(s.id, { commit: '2'.repeat(40), type: 'tracked' }));
      const c = await store.runs.create(newRun(s.id, { commit: '3'.repeat(40), type: 'tracked' }));
      await store.runs.transition(a.run.id, ['QUEUED'], 'RUNNING');
      await store.runs.transition(b.run.id, ['QUEUED'], 'CANCELED');
      expect((await store.runs.listActive()).map((r) => r.id)).to.deep.equal([a.run.id, c.run.id]);
    });

    it("cancels every queued run of one stack, oldest first, and leaves its running runs and other stacks' runs alone", async () => {
      const s = await store.stacks.create(newStack());
      const other = await store.stacks.create(newStack());
      const running = await store.runs.create(newRun(s.id, { commit: '1'.repeat(40), type: 'tracked' }));
      await store.runs.transition(running.run.id, ['QUEUED'], 'RUNNING');
      const tracked = await store.runs.create(newRun(s.id, { commit: '2'.repeat(40), type: 'tracked' }));
      const proposed = await store.runs.create(newRun(s.id, { commit: '3'.repeat(40) }));
      const elsewhere = await store.runs.create(newRun(other.id));
      const canceled = await store.runs.cancelQueued({ stackId: s.id, note: 'stack disabled' });
      expect(canceled.map((r) => r.id)).to.deep.equal([tracked.run.id, proposed.run.id]);
      expect(canceled[0]).to.include({ state: 'CANCELED', version: 2, note: 'stack disabled' });
      expect((await store.runs.get(running.run.id))!.state).to.equal('RUNNING');
      expect((await store.runs.get(elsewhere.run.id))!.state).to.equal('QUEUED');
      expect(await store.runs.cancelQueued({ stackId: s.id, note: 'again' })).to.be.empty;
    });

    it("cancels only the pull request's queued proposed runs, except the given commit", async () => {
      const s = await store.stacks.create(newStack());
      const old1 = await store.runs.create(newRun(s.id, { commit: '1'.repeat(40) }));
      const running = await store.runs.create(newRun(s.id, { commit: '2'.repeat(40) }));
      await store.runs.transition(running.run.id, ['QUEUED'], 'RUNNING');
      const latest = await store.runs.create(newRun(s.id, { commit: '3'.repeat(40) }));
      const otherPr = await store.runs.create(
        newRun(s.id, { commit: '4'.repeat(40), pullRequest: { id: 8, sourceRef: 'x', targetRef: 'y' } }),
      );
      const tracked = await store.runs.create(newRun(s.id, { commit: '1'.repeat(40), type: 'tracked' }));
      const canceled = await store.runs.cancelQueuedProposed({
        pullRequestId: 7,
        stackIds: [s.id],
        exceptCommit: '3'.repeat(40),
        note: 'superseded',
      });
      expect(canceled.map((r) => r.id)).to.deep.equal([old1.run.id]);
      expect(canceled[0]).to.include({ state: 'CANCELED', version: 2, note: 'superseded' });
      for (const [r, state] of [
        [running, 'RUNNING'],
        [latest, 'QUEUED'],
        [otherPr, 'QUEUED'],
        [tracked, 'QUEUED'],
      ] as const) {
        expect((await store.runs.get(r.run.id))!.state).to.equal(state);
      }
    });

    it('cancelling again, as a redelivered event does, returns the runs that cancellation already canceled, unchanged', async () => {
      const s = await store.stacks.create(newStack());
      const pr = { id: 9, sourceRef: 'refs/heads/f', targetRef: 'refs/heads/main' };
      const old = await store.runs.create(newRun(s.id, { commit: '5'.repeat(40), pullRequest: pr }));
      const plan = {
        pullRequestId: 9,
        stackIds: [s.id],
        exceptCommit: '6'.repeat(40),
        note: 'superseded by 666',
      };
      const first = await store.runs.cancelQueuedProposed(plan);

      const again = await store.runs.cancelQueuedProposed(plan);
      const otherReason = await store.runs.cancelQueuedProposed({ ...plan, note: 'pull request declined' });

      expect(first.map((r) => r.id)).to.deep.equal([old.run.id]);
      expect(again).to.deep.equal(first);
      expect(again[0]).to.include({ state: 'CANCELED', version: 2 });
      expect(otherReason, 'a different cancellation did not cancel it').to.deep.equal([]);
    });

    it('cancels every queued proposed run of a pull request when no commit is kept', async () => {
      const s = await store.stacks.create(newStack());
      await store.runs.create(newRun(s.id, { commit: '1'.repeat(40) }));
      await store.runs.create(newRun(s.id, { commit: '2'.repeat(40) }));
      const canceled = await store.runs.cancelQueuedProposed({
        pullRequestId: 7,
        stackIds: [s.id],
        note: 'declined',
      });
      expect(canceled).to.have.length(2);
    });
  });
}

describe('store contract', () => {
  describe('SQLite store (file)', () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'stack-trigger-store-'));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));
    let n = 0;
    storeContract(async () => openSqliteStore(join(dir, `store-${++n}.db`)));

    it('reads a stack written before migration 2 as prComments false and enabled true', async () => {
      const path = join(dir, 'released.db');
      const old = new Database(path);
      migrate(old, 'stack-trigger', [{ name: 'released', ...MIGRATIONS[0]! }]);
      old
        .prepare(
          `INSERT INTO stack_trigger_stacks (id, name, integration_id, repo_key, doc, created_at, updated_at)
           VALUES ('s-old', 'old', 'int-1', 'int-1/PRJ/infra', ?, '2024-01-01', '2024-01-01')`,
        )
        .run(
          JSON.stringify({
            repository: { projectKey: 'PRJ', slug: 'infra' },
            branch: 'main',
            projectRoot: '',
            additionalProjectGlobs: [],
            triggerOnTags: false,
            allowForks: false,
            labels: [],
          }),
        );
      old.close();
      const store = openSqliteStore(path);
      try {
        expect(await store.stacks.get('s-old')).to.include({ name: 'old', prComments: false, enabled: true });
      } finally {
        await store.close();
      }
    });

    it('keeps its tables beside another service in the same file, migrations recorded per service', () => {
      const path = join(dir, 'shared.db');
      const other = new Database(path);
      // The other service records its migrations through the same shared runner.
      migrate(other, 'integration', [
        { version: 1, name: 'x', sql: 'CREATE TABLE integration_integrations (id TEXT)' },
      ]);
      other.close();
      const store = openSqliteStore(path);
      const again = openSqliteStore(path);
      void again.close();
      void store.close();
      const db = new Database(path, { readonly: true });
      const rows = db.prepare('SELECT service, version FROM schema_migrations ORDER BY service').all();
      const tables = (
        db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as {
          name: string;
        }[]
      ).map((t) => t.name);
      const mode = db.pragma('journal_mode', { simple: true });
      db.close();
      expect(rows).to.deep.equal([
        { service: 'integration', version: 1 },
        { service: 'stack-trigger', version: 1 },
        { service: 'stack-trigger', version: 2 },
        { service: 'stack-trigger', version: 3 },
        { service: 'stack-trigger', version: 4 },
        { service: 'stack-trigger', version: 5 },
        { service: 'stack-trigger', version: 6 },
        { service: 'stack-trigger', version: 7 },
        { service: 'stack-trigger', version: 8 },
      ]);
      expect(
        tables
          .filter((t) => t !== 'schema_migrations' && t !== 'integration_integrations')
          .every((t) => t.startsWith('stack_trigger_')),
      ).to.be.true;
      expect(mode).to.equal('wal');
    });
  });

  it('points each MongoDB run at a database of its own, whatever database MONGO_URL names', () => {
    expect(withDatabase('mongodb://127.0.0.1:27017', 't1')).to.equal('mongodb://127.0.0.1:27017/t1');
    expect(withDatabase('mongodb://127.0.0.1:27017/', 't1')).to.equal('mongodb://127.0.0.1:27017/t1');
    expect(withDatabase('mongodb://u:p@h1:1,h2:2/stacklink-test?replicaSet=rs0', 't1')).to.equal(
      'mongodb://u:p@h1:1,h2:2/t1?replicaSet=rs0',
    );
    expect(withDatabase('mongodb+srv://db.example/x?tls=true', 't1')).to.equal(
      'mongodb+srv://db.example/t1?tls=true',
    );
    expect(() => withDatabase('http://127.0.0.1', 't1')).to.throw(/MONGO_URL/);
  });

  describeMongoStore('', storeContract);
});
