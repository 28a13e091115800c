import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { credentialsAnswerSchema } from '@stacklink/contracts';
import { createAesGcmSecretCipher } from '../../src/adapters/aes-gcm-secret-cipher';
import { createSqliteIntegrationRepository } from '../../src/adapters/sqlite/sqlite-integration-repository';
import { createReencryptSecrets } from '../../src/domain/reencrypt-secrets';
import { newMasterKey } from '../support/keys';
import { integrationInput, startService } from '../support/start-service';
import { createTempDir } from '../support/temp-dir';

const run = promisify(execFile);
/** dist/test/integration → dist/src/reencrypt.js */
const REENCRYPT = resolve(__dirname, '..', '..', 'src', 'reencrypt.js');

interface Created {
  id: string;
  token: string;
  secret: string;
}

async function seed(storePath: string, masterKey: string, count: number): Promise<Created[]> {
  const service = await startService({ storePath, masterKey });
  try {
    const created: Created[] = [];
    for (let i = 0; i < count; i += 1) {
      const input = integrationInput();
      const body = (await service.admin('POST', '/integrations', input)).body;
      created.push({ id: body.id, token: input.accessToken as string, secret: body.webhook.secret });
    }
    return created;
  } finally {
    await service.close();
  }
}

describe('master key rotation', () => {
  let dir: ReturnType<typeof createTempDir>;
  let storePath: string;
  beforeEach(() => {
    dir = createTempDir('keys');
    storePath = join(dir.path, 'store.db');
  });
  afterEach(() => dir.remove());

  it('reads values sealed with a key listed in PREVIOUS_MASTER_KEYS, and not without it', async () => {
    const oldKey = newMasterKey();
    const [a] = await seed(storePath, oldKey, 1);
    const rotated = await startService({
      storePath,
      masterKey: newMasterKey(),
      previousMasterKeys: [oldKey],
    });
    try {
      const credentials = await rotated.internal('GET', `/integrations/${a!.id}/credentials`);
      expect(credentials.status).to.equal(200);
      expect(credentials.body.accessToken).to.equal(a!.token);
      // Exactly what stack-trigger reads (@stacklink/contracts), with no field the contract does not name.
      expect(credentialsAnswerSchema.validate(credentials.body, { convert: false }).error).to.equal(
        undefined,
      );
    } finally {
      await rotated.close();
    }
    const forgotten = await startService({ storePath, masterKey: newMasterKey() });
    try {
      const res = await forgotten.internal('GET', `/integrations/${a!.id}/webhook-secrets`);
      expect(res.status).to.equal(500);
      expect(res.body.error.code).to.equal('SECRETS.UNDECRYPTABLE');
      expect(res.text).to.not.contain(a!.secret);
    } finally {
      await forgotten.close();
    }
  });

  it('re-encrypts every value under the current key with the documented command, idempotently, printing counts only', async () => {
    const oldKey = newMasterKey();
    const newKey = newMasterKey();
    const created = await seed(storePath, oldKey, 3);
    // One integration also has a previous webhook secret: three values there.
    const service = await startService({ storePath, masterKey: oldKey });
    await service.admin('POST', `/integrations/${created[0]!.id}/webhook-secret/rotate`);
    const latest = (await service.internal('GET', `/integrations/${created[0]!.id}/webhook-secrets`)).body
      .secrets;
    await service.close();

    const env = {
      ...process.env,
      STORE_URL: `sqlite:${storePath}`,
      MASTER_KEY: newKey,
      PREVIOUS_MASTER_KEYS: oldKey,
    };
    const first = await run(process.execPath, [REENCRYPT], { env });
    const report = JSON.parse(first.stdout.trim()) as Record<string, unknown>;
    expect(report).to.deep.equal({
      reencrypt: 'done',
      integrations: 3,
      values: 7,
      reencrypted: 7,
      alreadyCurrent: 0,
    });
    for (const value of [...created.flatMap((c) => [c.token, c.secret]), newKey, oldKey]) {
      expect(first.stdout + first.stderr).to.not.contain(value);
    }

    const second = await run(process.execPath, [REENCRYPT], { env });
    expect(JSON.parse(second.stdout.trim())).to.deep.include({ reencrypted: 0, alreadyCurrent: 7 });

    // The old key can now be dropped.
    const after = await startService({ storePath, masterKey: newKey });
    try {
      for (const c of created) {
        const credentials = await after.internal('GET', `/integrations/${c.id}/credentials`);
        expect(credentials.body.accessToken).to.equal(c.token);
      }
      const secrets = await after.internal('GET', `/integrations/${created[0]!.id}/webhook-secrets`);
      expect(secrets.body.secrets).to.deep.equal(latest);
    } finally {
      await after.close();
    }
  });

  it('the command stops with exit code 1 and names the variable when MASTER_KEY is missing', async () => {
    try {
      await run(process.execPath, [REENCRYPT], {
        env: { PATH: process.env.PATH, STORE_URL: `sqlite:${storePath}` },
      });
      expect.fail('reencrypt succeeded without MASTER_KEY');
    } catch (err) {
      const e = err as { code?: number; stderr?: string };
      expect(e.code).to.equal(1);
      expect(e.stderr).to.contain('MASTER_KEY');
    }
  });

  it('re-encryption fails loudly on a value it cannot decrypt instead of skipping it', async () => {
    await seed(storePath, newMasterKey(), 1);
    const repository = createSqliteIntegrationRepository(storePath);
    try {
      let failure: unknown;
      await createReencryptSecrets({
        repository,
        cipher: createAesGcmSecretCipher({ masterKey: newMasterKey() }),
      })().catch((err: unknown) => {
        failure = err;
      });
      expect((failure as { code?: string }).code).to.equal('SECRETS.UNDECRYPTABLE');
    } finally {
      await repository.close();
    }
  });
});

describe('ciphertexts bound to their record and field', () => {
  let dir: ReturnType<typeof createTempDir>;
  let storePath: string;
  const masterKey = newMasterKey();
  beforeEach(() => {
    dir = createTempDir('moved');
    storePath = join(dir.path, 'store.db');
  });
  afterEach(() => dir.remove());

  function moveInStore(sql: string, ...params: string[]): void {
    const db = new Database(storePath);
    db.prepare(sql).run(...params);
    db.close();
  }

  it('a token ciphertext copied onto another integration fails to decrypt there', async () => {
    const [a, b] = await seed(storePath, masterKey, 2);
    moveInStore(
      `UPDATE integration_integrations SET access_token_enc =
        (SELECT access_token_enc FROM integration_integrations WHERE id = ?) WHERE id = ?`,
      a!.id,
      b!.id,
    );
    const service = await startService({ storePath, masterKey });
    try {
      const moved = await service.internal('GET', `/integrations/${b!.id}/credentials`);
      expect(moved.status).to.equal(500);
      expect(moved.body.error.code).to.equal('SECRETS.UNDECRYPTABLE');
      expect(moved.text).to.not.contain(a!.token);
      const untouched = await service.internal('GET', `/integrations/${a!.id}/credentials`);
      expect(untouched.body.accessToken).to.equal(a!.token);
    } finally {
      await service.close();
    }
  });

  it('a token ciphertext copied onto the webhook secret field of the same integration fails to decrypt', async () => {
    const [a] = await seed(storePath, masterKey, 1);
    moveInStore(
      'UPDATE integration_integrations SET webhook_secret_enc = access_token_enc WHERE id = ?',
      a!.id,
    );
    const service = await startService({ storePath, masterKey });
    try {
      const res = await service.internal('GET', `/integrations/${a!.id}/webhook-secrets`);
      expect(res.status).to.equal(500);
      expect(res.body.error.code).to.equal('SECRETS.UNDECRYPTABLE');
      expect(res.text).to.not.contain(a!.token);
    } finally {
      await service.close();
    }
  });
});
