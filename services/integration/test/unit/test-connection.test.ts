import { expect } from 'chai';
import { AppError } from '@stacklink/errors';
import { createSilentLogger } from '@stacklink/logger';
import { createAesGcmSecretCipher } from '../../src/adapters/aes-gcm-secret-cipher';
import { createSqliteIntegrationRepository } from '../../src/adapters/sqlite/sqlite-integration-repository';
import type { BitbucketPort, IntegrationDeps } from '../../src/domain/ports';
import { createTestConnection } from '../../src/domain/test-connection';
import { createFakeClock } from '../support/fake-clock';
import { newMasterKey } from '../support/keys';

const working: BitbucketPort = {
  getServerVersion: async () => '8.19.1',
  checkCredentials: async () => ({ username: 'Bot' }),
  listProjects: async () => [{ key: 'OPS', name: 'Ops' }],
  buildStatusApi: async () => 'repository',
  listRepositories: async () => ({ values: [], start: 0, limit: 25, isLastPage: true }),
};

describe('testConnection (rules of the report)', () => {
  let deps: IntegrationDeps;
  let outcomes: string[];
  let port: BitbucketPort;
  const id = 'int-1';

  beforeEach(async () => {
    outcomes = [];
    port = { ...working };
    const cipher = createAesGcmSecretCipher({ masterKey: newMasterKey() });
    const repository = createSqliteIntegrationRepository(':memory:');
    await repository.insert({
      id,
      name: 'bb',
      apiHost: 'https://bb.example.com',
      userFacingHost: 'https://bb.example.com',
      username: 'bot',
      labels: [],
      tls: {},
      secrets: {
        accessToken: cipher.encrypt('token-value', { recordId: id, field: 'accessToken' }),
        webhookSecret: cipher.encrypt('secret-value', { recordId: id, field: 'webhookSecret' }),
      },
      revision: 1,
      createdAt: '2030-01-01T00:00:00.000Z',
      updatedAt: '2030-01-01T00:00:00.000Z',
    });
    deps = {
      repository,
      cipher,
      events: { publish: async () => undefined },
      stackUsage: { stacksUsing: async () => [], disableStacksUsing: async () => [] },
      bitbucket: () => port,
      clock: createFakeClock(),
      metrics: { connectionTested: (o) => outcomes.push(o), eventPublishFailed: () => undefined },
      logger: createSilentLogger(),
      registerSecret: () => undefined,
      publicWebhookBaseUrl: 'https://hooks.example.com',
      webhookSecretGraceSeconds: 60,
    };
  });

  it('lists the five checks in order, all passing, with the server version', async () => {
    const report = await createTestConnection(deps)(id);
    expect(report.ok).to.equal(true);
    expect(report.serverVersion).to.equal('8.19.1');
    expect(report.checks.map((c) => [c.name, c.ok])).to.deep.equal([
      ['reachability', true],
      ['bitbucket', true],
      ['credentials', true],
      ['permissions', true],
      ['build_status_api', true],
    ]);
    expect(outcomes).to.deep.equal(['ok']);
  });

  it('when the token is refused, keeps the version, marks later checks as skipped', async () => {
    port.checkCredentials = async () => {
      throw new AppError('BITBUCKET.UNAUTHORIZED', 'no', { details: { status: 401 } });
    };
    const report = await createTestConnection(deps)(id);
    expect(report.ok).to.equal(false);
    expect(report.serverVersion).to.equal('8.19.1');
    expect(report.checks.map((c) => [c.name, c.ok, c.skipped ?? false])).to.deep.equal([
      ['reachability', true, false],
      ['bitbucket', true, false],
      ['credentials', false, false],
      ['permissions', false, true],
      ['build_status_api', false, true],
    ]);
    expect(report.checks[3]!.message).to.match(/Not checked: credentials failed first/);
    expect(outcomes).to.deep.equal(['unauthorized']);
  });

  it('when nothing answers, fails reachability and has no version', async () => {
    port.getServerVersion = async () => {
      throw new AppError('BITBUCKET.UNREACHABLE', 'x', { details: { cause: 'ECONNREFUSED' } });
    };
    const report = await createTestConnection(deps)(id);
    expect(report).to.not.have.property('serverVersion');
    expect(report.checks[0]).to.deep.include({ name: 'reachability', ok: false });
    expect(report.checks.slice(1).every((c) => c.skipped === true)).to.equal(true);
  });

  it('when something else answers, passes reachability and fails the bitbucket check', async () => {
    port.getServerVersion = async () => {
      throw new AppError('BITBUCKET.NOT_BITBUCKET', 'x');
    };
    const report = await createTestConnection(deps)(id);
    expect(report.checks.slice(0, 2).map((c) => [c.name, c.ok])).to.deep.equal([
      ['reachability', true],
      ['bitbucket', false],
    ]);
  });

  it('when the token belongs to another user, says whose it is', async () => {
    port.checkCredentials = async () => ({ username: 'alice' });
    const report = await createTestConnection(deps)(id);
    expect(report.ok).to.equal(false);
    expect(report.checks[2]).to.deep.include({ name: 'credentials', ok: false });
    expect(report.checks[2]!.message).to.match(/belongs to the Bitbucket user alice, not to bot/);
  });

  it('when the token sees no project, fails permissions with what to grant', async () => {
    port.listProjects = async () => [];
    const report = await createTestConnection(deps)(id);
    expect(report.checks[3]).to.deep.include({ name: 'permissions', ok: false });
    expect(report.checks[3]!.message).to.match(/sees no project.*read permission/);
    expect(outcomes).to.deep.equal(['no_projects']);
  });

  it('when only the legacy build status API exists, passes and says so', async () => {
    port.buildStatusApi = async () => 'legacy';
    const report = await createTestConnection(deps)(id);
    expect(report.ok).to.equal(true);
    expect(report.checks[4]).to.deep.include({ name: 'build_status_api', ok: true });
    expect(report.checks[4]!.message).to.match(/too old for the repository-scoped build status API.*legacy/);
    expect(outcomes).to.deep.equal(['ok_legacy_build_status']);
  });
});
