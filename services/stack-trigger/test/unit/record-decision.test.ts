import { expect } from 'chai';
import { decodeCursor, encodeCursor } from '../../src/domain/list-deliveries';
import type { Run } from '../../src/domain/model';
import { buildDeliveryDecision, createRecordDecision } from '../../src/domain/record-decision';
import { untouchedDetail } from '../../src/domain/untouched-detail';
import type { DeliveryDecision } from '../../src/domain/delivery-history';
import type { DeliveryHistoryPort } from '../../src/domain/ports';
import { files, prEvent, pushEvent } from '../support/events';

const run = (overrides: Partial<Run> = {}): Run => ({
  id: 'r-1',
  stackId: 's-1',
  type: 'tracked',
  commit: 'a'.repeat(40),
  ref: 'refs/heads/main',
  state: 'QUEUED',
  version: 1,
  sequence: 1,
  trigger: { kind: 'push', eventId: 'e-1', deliveryId: 'd-1' },
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  ...overrides,
});

const nothing = { created: [], existing: [], canceled: [], retried: [], overCap: [], skipped: [] };
const decidedAt = new Date('2026-01-01T00:00:01.000Z');

describe('buildDeliveryDecision', () => {
  const event = { ...pushEvent(), id: 'e-1', deliveryId: 'd-1' };

  it('counts a run this same event created before a crash as run-created, not existing-run', () => {
    const d = buildDeliveryDecision(event, { ...nothing, existing: [run()] }, { decidedAt });
    expect(d.stacks).to.deep.equal([{ stackId: 's-1', outcome: 'run-created', runId: 'r-1' }]);
  });

  it('counts a run another event created as existing-run, and says which', () => {
    const other = run({ trigger: { kind: 'push', eventId: 'e-0', deliveryId: 'd-0' } });
    const d = buildDeliveryDecision(event, { ...nothing, existing: [other] }, { decidedAt });
    expect(d.stacks).to.have.length(1);
    expect(d.stacks[0]).to.include({ stackId: 's-1', outcome: 'existing-run', runId: 'r-1' });
    expect(d.stacks[0]!.detail).to.contain('r-1');
  });

  it('records skipped, over-cap, canceled and retried stacks with their reasons, and the runs it named', () => {
    const d = buildDeliveryDecision(
      event,
      {
        created: [],
        existing: [],
        canceled: [run({ id: 'r-2', stackId: 's-2', note: 'superseded by commit b' })],
        retried: [run({ id: 'r-3', stackId: 's-3' })],
        overCap: [
          {
            stackId: 's-4',
            type: 'tracked',
            commit: 'c'.repeat(40),
            ref: 'refs/heads/main',
            trigger: { kind: 'push' },
          },
        ],
        skipped: [
          { stackId: 's-5', reason: 'refused', detail: 'Bitbucket does not show the commit on main' },
        ],
        ignored: 'nothing',
      },
      { decidedAt, redeliveryOf: 'e-0', bitbucketCalls: ['GET changes'] },
    );
    expect(d.stacks.map((s) => [s.stackId, s.outcome, s.reason])).to.deep.equal([
      ['s-3', 'run-retried', undefined],
      ['s-2', 'run-canceled', undefined],
      ['s-4', 'skipped', 'over-cap'],
      ['s-5', 'skipped', 'refused'],
    ]);
    expect(d.stacks[1]!.detail).to.equal('superseded by commit b');
    expect(d.runIds.sort()).to.deep.equal(['r-2', 'r-3']);
    expect(d).to.include({ redeliveryOf: 'e-0', ignored: 'nothing', eventId: 'e-1', deliveryId: 'd-1' });
    expect(d.bitbucketCalls).to.deep.equal(['GET changes']);
    expect(d.event).to.equal(event);
  });

  it('summarizes a pull request event in one line', () => {
    const d = buildDeliveryDecision(prEvent('pull_request.opened'), nothing, { decidedAt });
    expect(d.summary).to.match(
      /^pull_request\.opened on PRJ\/infra pull request #\d+ ".*": refs\/heads\/feature/,
    );
  });
});

describe('createRecordDecision', () => {
  it('saves the decision and counts each stack by outcome and reason', async () => {
    const saved: DeliveryDecision[] = [];
    const counted: [string, string | undefined][] = [];
    const history = {
      saveDecision: async (d: DeliveryDecision) => void saved.push(d),
    } as DeliveryHistoryPort;
    const record = createRecordDecision({
      history,
      metrics: {
        runsCreated: () => undefined,
        runsOverCap: () => undefined,
        unconfirmed: () => undefined,
        runsCanceled: () => undefined,
        stackDecided: (outcome, reason) => void counted.push([outcome, reason]),
      },
    });
    await record(pushEvent(), {
      ...nothing,
      skipped: [{ stackId: 's', reason: 'files-untouched', detail: 'x' }],
    });
    expect(saved).to.have.length(1);
    expect(counted).to.deep.equal([['skipped', 'files-untouched']]);
  });

  it('fails when the decision cannot be stored, so the event is not acked', async () => {
    const history = {
      saveDecision: async () => {
        throw new Error('store down');
      },
    } as unknown as DeliveryHistoryPort;
    const record = createRecordDecision({
      history,
      metrics: {
        runsCreated: () => undefined,
        runsOverCap: () => undefined,
        runsCanceled: () => undefined,
        unconfirmed: () => undefined,
      },
    });
    let failed: unknown;
    await record(pushEvent(), nothing).catch((err: unknown) => (failed = err));
    expect(String(failed)).to.contain('store down');
  });
});

describe('untouchedDetail', () => {
  it('names the root, the globs and the first changed files, capped', () => {
    const detail = untouchedDetail(
      { projectRoot: './stacks/network/', additionalProjectGlobs: ['modules/net/**'] },
      files('a.md', 'b.md', 'c.md', 'd.md', 'e.md', 'f.md', 'g.md'),
      'refs/heads/main',
    );
    expect(detail).to.equal(
      'refs/heads/main: no file under stacks/network or "modules/net/**" changed; changed: a.md, b.md, c.md, d.md, e.md (+2 more)',
    );
  });

  it('says when nothing changed at all', () => {
    expect(untouchedDetail({ projectRoot: 'x', additionalProjectGlobs: [] }, files())).to.equal(
      'no file under x changed; no file changed',
    );
  });
});

describe('delivery cursors', () => {
  it('give back the position they were made from', () => {
    const position = { receivedAt: '2026-01-01T00:00:00.000Z', id: 'record:abc' };
    expect(decodeCursor(encodeCursor(position))).to.deep.equal(position);
  });

  it('refuse anything else with an error naming the cursor', () => {
    for (const bad of [
      '',
      'abc',
      Buffer.from('{}').toString('base64url'),
      Buffer.from('["no-date","x"]').toString('base64url'),
    ]) {
      expect(() => decodeCursor(bad)).to.throw(/cursor/);
    }
  });
});
