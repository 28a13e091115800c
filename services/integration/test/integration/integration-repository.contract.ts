import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { isAppError } from '@stacklink/errors';
import type { IntegrationRecord, IntegrationRepositoryPort } from '../../src/domain/ports';

export interface ContractSubject {
  repository: IntegrationRepositoryPort;
  /** Removes what the suite created and closes the repository. */
  dispose(): Promise<void>;
}

let sequence = 0;

export function sampleRecord(overrides: Partial<IntegrationRecord> = {}): IntegrationRecord {
  sequence += 1;
  const createdAt = new Date(Date.UTC(2030, 0, 1, 0, 0, sequence)).toISOString();
  return {
    id: randomUUID(),
    name: `integration-${sequence}-${randomUUID().slice(0, 8)}`,
    apiHost: 'https://bitbucket.example.test/bitbucket',
    userFacingHost: 'https://git.example.test/bitbucket',
    username: 'stacklink-bot',
    description: 'the main server',
    labels: ['prod', 'eu'],
    tls: { caCertificate: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' },
    secrets: { accessToken: 'v1:aaaa0000:iv:tag:ct-token', webhookSecret: 'v1:aaaa0000:iv:tag:ct-secret' },
    revision: 1,
    createdAt,
    updatedAt: createdAt,
    ...overrides,
  };
}

async function expectNameTaken(action: Promise<unknown>): Promise<void> {
  try {
    await action;
  } catch (err) {
    expect(isAppError(err) && err.code, 'error code').to.equal('INTEGRATION.NAME_TAKEN');
    expect((err as { status?: number }).status).to.equal(409);
    return;
  }
  expect.fail('expected INTEGRATION.NAME_TAKEN');
}

/**
 * One behaviour for every store (docs/architecture.md §3): each adapter runs this suite. Repositories return
 * plain objects equal to what was written, enforce unique names, and update only the revision they were
 * given.
 */
export function describeIntegrationRepositoryContract(
  label: string,
  open: () => Promise<ContractSubject>,
): void {
  describe(`integration repository contract: ${label}`, () => {
    let subject: ContractSubject;
    let repository: IntegrationRepositoryPort;

    beforeEach(async () => {
      subject = await open();
      repository = subject.repository;
    });
    afterEach(async () => subject.dispose());

    it('returns what was inserted, field for field, as a plain object', async () => {
      const record = sampleRecord({
        secrets: {
          accessToken: 'v1:a:b:c:d',
          webhookSecret: 'v1:a:b:c:e',
          previousWebhookSecret: 'v1:a:b:c:f',
        },
        previousWebhookSecretValidUntil: '2030-01-02T00:00:00.000Z',
      });
      await repository.insert(record);
      const found = await repository.findById(record.id);
      expect(found).to.deep.equal(record);
      expect(Object.getPrototypeOf(found)).to.equal(Object.prototype);
    });

    it('leaves optional fields absent when they were not set', async () => {
      const record = sampleRecord({ labels: [], tls: {} });
      delete record.description;
      await repository.insert(record);
      const found = await repository.findById(record.id);
      expect(found).to.deep.equal(record);
      expect(found).to.not.have.property('description');
      expect(found).to.not.have.property('previousWebhookSecretValidUntil');
      expect(found!.secrets).to.not.have.property('previousWebhookSecret');
      expect(found).to.not.have.property('oauth');
      expect(found!.tls).to.deep.equal({});
    });

    it('keeps an OAuth client (its sealed secret beside the others) and drops it when an update leaves it out', async () => {
      const record = sampleRecord({
        oauth: { clientId: 'client-1' },
        secrets: { accessToken: 'v1:a:b:c:d', webhookSecret: 'v1:a:b:c:e', oauthClientSecret: 'v1:a:b:c:g' },
      });
      await repository.insert(record);
      expect(await repository.findById(record.id)).to.deep.equal(record);
      const { oauth: _oauth, ...rest } = record;
      const without: IntegrationRecord = {
        ...rest,
        secrets: { accessToken: record.secrets.accessToken, webhookSecret: record.secrets.webhookSecret },
        revision: 2,
      };
      expect(await repository.update(without, 1)).to.equal(true);
      const found = await repository.findById(record.id);
      expect(found).to.deep.equal(without);
      expect(found).to.not.have.property('oauth');
      expect(found!.secrets).to.not.have.property('oauthClientSecret');
    });

    it('answers undefined for an id it does not hold', async () => {
      expect(await repository.findById(randomUUID())).to.equal(undefined);
    });

    it('refuses a second integration with the same name and keeps the first unchanged', async () => {
      const first = sampleRecord();
      await repository.insert(first);
      await expectNameTaken(repository.insert(sampleRecord({ name: first.name })));
      expect(await repository.count()).to.equal(1);
      expect(await repository.findById(first.id)).to.deep.equal(first);
    });

    it('lists every integration oldest first', async () => {
      const older = sampleRecord({ createdAt: '2030-01-01T00:00:00.000Z' });
      const newer = sampleRecord({ createdAt: '2030-06-01T00:00:00.000Z' });
      const tieA = sampleRecord({
        id: '00000000-0000-4000-8000-00000000000a',
        createdAt: '2030-03-01T00:00:00.000Z',
      });
      const tieB = sampleRecord({
        id: '00000000-0000-4000-8000-00000000000b',
        createdAt: '2030-03-01T00:00:00.000Z',
      });
      for (const r of [newer, tieB, older, tieA]) await repository.insert(r);
      const listed = await repository.list();
      expect(listed.map((r) => r.id)).to.deep.equal([older.id, tieA.id, tieB.id, newer.id]);
      expect(listed[0]).to.deep.equal(older);
    });

    it('replaces an integration when the expected revision matches, adding and removing optional fields', async () => {
      const record = sampleRecord();
      await repository.insert(record);
      const next: IntegrationRecord = {
        ...record,
        username: 'other-bot',
        labels: ['staging'],
        tls: {},
        secrets: { ...record.secrets, previousWebhookSecret: 'v1:a:b:c:old' },
        previousWebhookSecretValidUntil: '2030-02-01T00:00:00.000Z',
        revision: 2,
        updatedAt: '2030-01-05T00:00:00.000Z',
      };
      delete next.description;
      expect(await repository.update(next, 1)).to.equal(true);
      expect(await repository.findById(record.id)).to.deep.equal(next);
    });

    it('does not write over a newer revision and reports it', async () => {
      const record = sampleRecord();
      await repository.insert(record);
      expect(await repository.update({ ...record, username: 'first-writer', revision: 2 }, 1)).to.equal(true);
      expect(await repository.update({ ...record, username: 'late-writer', revision: 2 }, 1)).to.equal(false);
      const stored = await repository.findById(record.id);
      expect(stored!.username).to.equal('first-writer');
      expect(stored!.revision).to.equal(2);
    });

    it('reports an update of an integration that does not exist and creates nothing', async () => {
      expect(await repository.update(sampleRecord({ revision: 2 }), 1)).to.equal(false);
      expect(await repository.count()).to.equal(0);
    });

    it('deletes an integration once', async () => {
      const record = sampleRecord();
      await repository.insert(record);
      expect(await repository.delete(record.id)).to.equal(true);
      expect(await repository.delete(record.id)).to.equal(false);
      expect(await repository.findById(record.id)).to.equal(undefined);
      expect(await repository.count()).to.equal(0);
    });

    it('frees a deleted integration’s name for a new one', async () => {
      const record = sampleRecord();
      await repository.insert(record);
      await repository.delete(record.id);
      await repository.insert(sampleRecord({ name: record.name }));
      expect(await repository.count()).to.equal(1);
    });

    it('counts integrations', async () => {
      for (let i = 0; i < 3; i += 1) await repository.insert(sampleRecord());
      expect(await repository.count()).to.equal(3);
    });

    it('hands out copies: changing a returned object changes nothing stored', async () => {
      const record = sampleRecord();
      await repository.insert(record);
      const found = (await repository.findById(record.id))!;
      found.labels.push('mutated');
      found.secrets.accessToken = 'changed';
      expect(await repository.findById(record.id)).to.deep.equal(record);
    });

    it('is ready while open', async () => {
      expect(await repository.isReady()).to.equal(true);
    });
  });
}
