import { expect } from 'chai';
import type { RunLogPage } from '@stacklink/contracts';
import { ADMIN, line, RUNNER, RunLogsHarness, type Answer } from '../support/run-logs-harness';

type Page = RunLogPage & Answer;

describe('run logs API (docs/architecture.md §4, "Run logs")', function () {
  this.timeout(15_000);
  let h: RunLogsHarness;
  let clockOffsetMs = 0;

  beforeEach(async () => {
    clockOffsetMs = 0;
    h = await RunLogsHarness.start(1, {
      maxBytes: 1024,
      graceSeconds: 60,
      clock: { now: () => new Date(Date.now() + clockOffsetMs) },
    });
  });
  afterEach(async () => {
    await h.close();
  });

  const page = async (runId: string, query = '') =>
    (await h.call<Page>('GET', `/runs/${runId}/logs${query}`)).body;

  it('stores a runner’s chunks and answers a retry of them 200 without storing them twice', async () => {
    const run = await h.newRun();
    const first = await h.postChunks(run.id, [line(0), line(1)]);
    const retry = await h.postChunks(run.id, [line(0), line(1)]);

    expect(first).to.deep.equal({ status: 200, body: { stored: 2, nextSeq: 2, truncated: false } });
    expect(retry).to.deep.equal({ status: 200, body: { stored: 0, nextSeq: 2, truncated: false } });
    expect((await page(run.id)).chunks).to.deep.equal([line(0), line(1)]);
  });

  it('puts chunks that arrive out of order back in seq order', async () => {
    const run = await h.newRun();
    await h.postChunks(run.id, [line(3), line(4)]);
    const late = await h.postChunks(run.id, [line(0), line(1), line(2)]);

    expect(late.body).to.deep.equal({ stored: 3, nextSeq: 5, truncated: false });
    expect((await page(run.id)).chunks.map((c) => c.seq)).to.deep.equal([0, 1, 2, 3, 4]);
  });

  it('stops at RUN_LOG_MAX_BYTES with a visible truncated marker and answers later chunks 200 truncated', async () => {
    const run = await h.newRun();
    const big = 'x'.repeat(600);
    const cut = await h.postChunks(run.id, [line(0, big), line(1, big), line(2, 'more')]);
    const after = await h.postChunks(run.id, [line(3, 'ignored')]);

    expect(cut).to.deep.equal({ status: 200, body: { stored: 1, nextSeq: 2, truncated: true } });
    expect(after).to.deep.equal({ status: 200, body: { stored: 0, nextSeq: 2, truncated: true } });
    const log = await page(run.id);
    expect(log.truncated).to.equal(true);
    expect(log.chunks.map((c) => [c.seq, c.stream, c.text])).to.deep.equal([
      [0, 'stdout', big],
      [1, 'system', '… log truncated at 1 KiB (RUN_LOG_MAX_BYTES) …'],
    ]);
  });

  it('answers bad chunks 400 naming the field, and stores nothing', async () => {
    const run = await h.newRun();
    const cases: [unknown, string][] = [
      [{}, 'chunks'],
      [{ chunks: [] }, 'chunks'],
      [{ chunks: [{ ...line(0), seq: -1 }] }, 'chunks.0.seq'],
      [{ chunks: [{ ...line(0), seq: 1.5 }] }, 'chunks.0.seq'],
      [{ chunks: [{ ...line(0), stream: 'stdin' }] }, 'chunks.0.stream'],
      [{ chunks: [{ ...line(0), text: 'é'.repeat(40 * 1024) }] }, 'chunks.0.text'],
      [{ chunks: [{ ...line(0), at: 'yesterday' }] }, 'chunks.0.at'],
      [{ chunks: [line(0), { ...line(1), extra: true }] }, 'chunks.1.extra'],
      [{ chunks: Array.from({ length: 501 }, (_, i) => line(i, '')) }, 'chunks'],
    ];
    for (const [body, field] of cases) {
      const res = await h.call('POST', `/runs/${run.id}/logs`, body, { token: RUNNER });
      expect([res.status, res.body.error?.code], field).to.deep.equal([400, 'VALIDATION.FAILED']);
      expect(
        res.body.error?.details?.fields?.map((f) => f.field),
        JSON.stringify(body).slice(0, 80),
      ).to.include(field);
    }
    const unordered = await h.postChunks(run.id, [line(1), line(0)]);
    expect(unordered.status).to.equal(400);
    expect(unordered.body.error?.message).to.include(
      '"chunks[1].seq" must be greater than the seq of the chunk before it',
    );
    const query = await h.call('GET', `/runs/${run.id}/logs?after=-1&limit=1001`);
    expect(query.body.error?.details?.fields?.map((f) => f.field)).to.deep.equal(['after', 'limit']);
    expect((await page(run.id)).chunks).to.deep.equal([]);
  });

  it('answers 404 RUN.NOT_FOUND for a run it does not know, on every log route', async () => {
    expect((await h.postChunks('no-such-run', [line(0)])).body.error?.code).to.equal('RUN.NOT_FOUND');
    const read = await h.call('GET', '/runs/no-such-run/logs');
    const stream = await h.call('GET', '/runs/no-such-run/logs/stream');
    expect([read.status, read.body.error?.code]).to.deep.equal([404, 'RUN.NOT_FOUND']);
    expect([stream.status, stream.body.error?.code]).to.deep.equal([404, 'RUN.NOT_FOUND']);
  });

  it('takes chunks within RUN_LOG_GRACE_SECONDS of the run’s end, then answers 409 LOGS.RUN_CLOSED', async () => {
    const run = await h.newRun();
    await h.report(run.id, 'RUNNING');
    await h.report(run.id, 'FINISHED');
    expect((await h.postChunks(run.id, [line(0)])).status).to.equal(200);

    clockOffsetMs = 61_000;
    const closed = await h.postChunks(run.id, [line(1)]);
    expect([closed.status, closed.body.error?.code]).to.deep.equal([409, 'LOGS.RUN_CLOSED']);
    expect((await page(run.id)).chunks.map((c) => c.seq)).to.deep.equal([0]);
  });

  it('lets a runner token post chunks but not read them; without a token nothing at all', async () => {
    const run = await h.newRun();
    const anonymous = await h.call('POST', `/runs/${run.id}/logs`, { chunks: [line(0)] }, { token: null });
    expect([anonymous.status, anonymous.body.error?.code]).to.deep.equal([401, 'AUTH.UNAUTHORIZED']);
    expect((await h.call('GET', `/runs/${run.id}/logs`, undefined, { token: null })).status).to.equal(401);
    for (const path of [`/runs/${run.id}/logs`, `/runs/${run.id}/logs/stream`, '/runs']) {
      const res = await h.call('GET', path, undefined, { token: RUNNER });
      expect([res.status, res.body.error?.code], path).to.deep.equal([403, 'AUTH.FORBIDDEN']);
    }
    expect(
      (await h.call('POST', `/runs/${run.id}/logs`, { chunks: [line(0)] }, { token: ADMIN })).status,
    ).to.equal(200);
    expect((await page(run.id)).chunks).to.have.length(1);
  });

  it('pages the log with after and limit, and says complete once the run is final and all is read', async () => {
    const run = await h.newRun();
    await h.report(run.id, 'RUNNING');
    await h.postChunks(
      run.id,
      [0, 1, 2, 3, 4].map((seq) => line(seq)),
    );

    const first = await page(run.id, '?limit=2');
    expect(first).to.deep.include({ runId: run.id, nextAfter: 1, truncated: false, complete: false });
    expect(first.chunks.map((c) => c.seq)).to.deep.equal([0, 1]);
    const rest = await page(run.id, `?after=${first.nextAfter}`);
    expect(rest.chunks.map((c) => c.seq)).to.deep.equal([2, 3, 4]);
    expect(rest).to.include({ nextAfter: 4, complete: false });

    await h.report(run.id, 'FINISHED');
    expect(await page(run.id, '?after=2&limit=1')).to.include({ nextAfter: 3, complete: false });
    expect(await page(run.id, '?after=3')).to.include({ nextAfter: 4, complete: true });
    expect(await page(run.id, '?after=4')).to.deep.include({ chunks: [], nextAfter: 4, complete: true });
    expect(await page((await h.newRun()).id)).to.deep.include({
      chunks: [],
      nextAfter: null,
      complete: false,
    });
  });

  it('lists runs newest first with a cursor, filtered by stack and state, and shows one with its timeline', async () => {
    const runs = [await h.newRun(), await h.newRun(), await h.newRun()];
    await h.report(runs[1]!.id, 'RUNNING');
    const first = await h.call<{ runs: { id: string }[]; next: string | null }>('GET', '/runs?limit=2');
    const second = await h.call<{ runs: { id: string }[]; next: string | null }>(
      'GET',
      `/runs?limit=2&before=${first.body.next}`,
    );
    expect([...first.body.runs, ...second.body.runs].map((r) => r.id)).to.have.members(runs.map((r) => r.id));
    expect(second.body.next).to.equal(null);
    const running = await h.call<{ runs: { id: string }[] }>('GET', '/runs?state=RUNNING');
    expect(running.body.runs.map((r) => r.id)).to.deep.equal([runs[1]!.id]);
    const ofStack = await h.call<{ runs: { id: string }[] }>('GET', `/runs?stackId=${runs[2]!.stackId}`);
    expect(ofStack.body.runs.map((r) => r.id)).to.deep.equal([runs[2]!.id]);
    const bad = await h.call('GET', '/runs?state=DONE&limit=0&before=nonsense');
    expect(bad.body.error?.details?.fields?.map((f) => f.field)).to.deep.equal(['state', 'limit']);
    const badCursor = await h.call('GET', '/runs?before=nonsense');
    expect(badCursor.body.error?.details?.fields?.map((f) => f.field)).to.deep.equal(['before']);

    const shown = await h.call('GET', `/runs/${runs[1]!.id}`);
    expect(shown.body).to.deep.include({
      trigger: { kind: 'push', eventId: 'e-1', deliveryId: 'd-1', commit: 'a'.repeat(40), branch: 'main' },
      links: {},
    });
    expect((shown.body.transitions as { state: string }[]).map((t) => t.state)).to.deep.equal([
      'QUEUED',
      'RUNNING',
    ]);
    expect(shown.body.stack).to.include({ id: runs[1]!.stackId });
  });
});
