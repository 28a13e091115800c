import { expect } from 'chai';
import { openEventStream, waitFor, type EventStreamReader, type ServerSentEvent } from '@stacklink/testing';
import { ADMIN, line, RunLogsHarness } from '../support/run-logs-harness';

const chunkSeqs = (events: ServerSentEvent[]) =>
  events.filter((e) => e.event === 'chunk').map((e) => (JSON.parse(e.data) as { seq: number }).seq);

describe('run log stream (GET /api/v1/runs/{id}/logs/stream)', function () {
  this.timeout(20_000);
  let h: RunLogsHarness;
  const readers: EventStreamReader[] = [];

  const follow = async (
    runId: string,
    options: { replica?: number; query?: string; lastEventId?: string } = {},
  ) => {
    const reader = await openEventStream(
      `${h.url(options.replica)}/api/v1/runs/${runId}/logs/stream${options.query ?? ''}`,
      {
        headers: {
          authorization: `Bearer ${ADMIN}`,
          ...(options.lastEventId === undefined ? {} : { 'last-event-id': options.lastEventId }),
        },
      },
    );
    readers.push(reader);
    return reader;
  };

  afterEach(async () => {
    for (const r of readers.splice(0)) r.close();
    await h.close();
  });

  describe('across two API replicas, polling too slowly to matter (Redis pub/sub carries it)', () => {
    beforeEach(async () => {
      h = await RunLogsHarness.start(2, { pollMs: 60_000 });
    });

    it('shows chunks posted to the other replica while it streams, in order, with each state, then end', async () => {
      const run = await h.newRun();
      const stream = await follow(run.id, { replica: 1 });
      expect(stream.status).to.equal(200);
      expect(stream.headers.get('content-type')).to.match(/^text\/event-stream/);
      await stream.waitForEvent((e) => e.event === 'state', { message: 'the current state' });

      await h.report(run.id, 'RUNNING', 0);
      await stream.waitForEvent((e) => e.event === 'state' && e.data.includes('RUNNING'), {
        message: 'RUNNING',
      });
      for (const seq of [0, 1, 2]) {
        await h.postChunks(run.id, [line(seq)], 0);
        await stream.waitForEvent((e) => e.event === 'chunk' && e.id === String(seq), {
          message: `chunk ${seq} while RUNNING`,
        });
      }
      await h.postChunks(run.id, [line(3), line(4)], 0);
      await h.report(run.id, 'FINISHED', 0);
      const end = await stream.waitForEvent((e) => e.event === 'end', { message: 'end' });
      await stream.ended;

      expect(JSON.parse(end.data)).to.deep.equal({ state: 'FINISHED' });
      expect(chunkSeqs(stream.events)).to.deep.equal([0, 1, 2, 3, 4]);
      expect(JSON.parse(stream.events.find((e) => e.id === '3')!.data)).to.deep.equal(line(3));
      expect(
        stream.events
          .filter((e) => e.event === 'state')
          .map((e) => (JSON.parse(e.data) as { state: string }).state),
      ).to.deep.equal(['QUEUED', 'RUNNING', 'FINISHED']);
      expect(stream.events.at(-1)?.event).to.equal('end');
    });

    it('resumes after Last-Event-ID on reconnect, without repeating a chunk', async () => {
      const run = await h.newRun();
      await h.report(run.id, 'RUNNING');
      await h.postChunks(run.id, [line(0), line(1), line(2)]);
      const first = await follow(run.id);
      await first.waitForEvent((e) => e.id === '2', { message: 'chunk 2' });
      first.close();

      await h.postChunks(run.id, [line(3), line(4)]);
      // The URL still says after=0, as a browser's EventSource would keep it; Last-Event-ID wins.
      const again = await follow(run.id, { query: '?after=0', lastEventId: '2', replica: 1 });
      await again.waitForEvent((e) => e.id === '4', { message: 'chunk 4 after reconnecting' });
      await h.postChunks(run.id, [line(5)], 1);
      await again.waitForEvent((e) => e.id === '5', { message: 'chunk 5 after reconnecting' });

      expect(chunkSeqs(again.events)).to.deep.equal([3, 4, 5]);
    });

    it('answers a bad Last-Event-ID or after 400 naming it', async () => {
      const run = await h.newRun();
      const header = await follow(run.id, { lastEventId: 'abc' });
      const query = await follow(run.id, { query: '?after=x' });
      expect([header.status, query.status]).to.deep.equal([400, 400]);
      const res = await fetch(`${h.url()}/api/v1/runs/${run.id}/logs/stream`, {
        headers: { authorization: `Bearer ${ADMIN}`, 'last-event-id': '-3' },
      });
      const body = (await res.json()) as { error: { details: { fields: { field: string }[] } } };
      expect(body.error.details.fields.map((f) => f.field)).to.deep.equal(['Last-Event-ID']);
    });

    it('sends a finished run’s whole log, then end, and closes', async () => {
      const run = await h.newRun();
      await h.report(run.id, 'RUNNING');
      await h.postChunks(run.id, [line(0), line(1)]);
      await h.report(run.id, 'FAILED');
      const stream = await follow(run.id);
      await stream.ended;

      expect(stream.events.map((e) => e.event)).to.deep.equal(['chunk', 'chunk', 'state', 'end']);
      expect(JSON.parse(stream.events.at(-1)!.data)).to.deep.equal({ state: 'FAILED' });
    });
  });

  describe('when no announcement comes (chunks written without one: Redis lost, another writer)', () => {
    beforeEach(async () => {
      h = await RunLogsHarness.start(1, { pollMs: 100, heartbeatMs: 100 });
    });

    it('finds them by polling the store, and keeps an idle stream open with heartbeats', async () => {
      const run = await h.newRun();
      const stream = await follow(run.id);
      await h.store.logs.append(run.id, [line(0), line(1)], { maxBytes: 1024, marker: 'cut' });
      await stream.waitForEvent((e) => e.id === '1', { message: 'chunks found by the poll' });
      await waitFor(() => stream.comments.includes('heartbeat'), { message: 'a heartbeat' });

      await h.store.runs.transition(run.id, ['QUEUED'], 'CANCELED');
      await stream.waitForEvent((e) => e.event === 'end', { message: 'end found by the poll' });
      expect(chunkSeqs(stream.events)).to.deep.equal([0, 1]);
    });
  });
});
