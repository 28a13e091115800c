import { existsSync, readFileSync } from 'node:fs';
import { expect } from 'chai';
import { createCapturingLogger } from '@stacklink/logger';
import { closedPort } from '../support/network';
import { integrationInput, startService, type RunningService } from '../support/start-service';

/** The SQLite database and its write-ahead log, as bytes (the WAL holds recent pages in full). */
function storeBytes(storePath: string): Buffer {
  const parts = [storePath, `${storePath}-wal`, `${storePath}-shm`, `${storePath}-journal`]
    .filter((p) => existsSync(p))
    .map((p) => readFileSync(p));
  return Buffer.concat(parts);
}

function contains(haystack: Buffer, needle: string): boolean {
  return haystack.includes(Buffer.from(needle, 'utf8')) || haystack.includes(Buffer.from(needle, 'utf16le'));
}

describe('secrets at rest and in logs', () => {
  let service: RunningService;
  const capture = createCapturingLogger('integration');
  const tokens: string[] = [];
  const webhookSecrets: string[] = [];
  let id: string;

  before(async () => {
    service = await startService({ logger: capture.logger });
    // A full life: create, read, change the token, rotate, serve internally, test, fail validation.
    const input = integrationInput({ apiHost: `http://127.0.0.1:${await closedPort()}` });
    tokens.push(input.accessToken as string);
    const created = (await service.admin('POST', '/integrations', input)).body;
    id = created.id;
    webhookSecrets.push(created.webhook.secret as string);
    await service.admin('GET', `/integrations/${id}`);
    const replacement = `BBDC-second-token-${Date.now()}-abcdefgh`;
    tokens.push(replacement);
    await service.admin('PATCH', `/integrations/${id}`, { accessToken: replacement });
    const rotated = (await service.admin('POST', `/integrations/${id}/webhook-secret/rotate`)).body;
    webhookSecrets.push(rotated.webhook.secret as string);
    await service.internal('GET', `/integrations/${id}/webhook-secrets`);
    await service.internal('GET', `/integrations/${id}/credentials`);
    await service.admin('POST', `/integrations/${id}/test`);
    await service.admin('GET', `/integrations/${id}/repositories`);
    const badToken = `${replacement}-with space`;
    tokens.push(badToken);
    await service.admin('POST', '/integrations', integrationInput({ accessToken: badToken }));
    await service.admin('POST', '/integrations', { ...input, accessToken: `${replacement}-dup` });
    tokens.push(`${replacement}-dup`);
  });
  after(async () => service.close());

  it('keeps the integration readable through the internal API (so the scan below is meaningful)', async () => {
    const credentials = await service.internal('GET', `/integrations/${id}/credentials`);
    expect(credentials.body.accessToken).to.equal(tokens[1]);
    const secrets = await service.internal('GET', `/integrations/${id}/webhook-secrets`);
    expect((secrets.body.secrets as { value: string }[]).map((s) => s.value)).to.deep.equal([
      webhookSecrets[1],
      webhookSecrets[0],
    ]);
  });

  it('the SQLite file (with its WAL) holds no plaintext token or webhook secret', () => {
    expect(existsSync(`${service.storePath}-wal`), 'WAL file exists').to.equal(true);
    const bytes = storeBytes(service.storePath);
    expect(bytes.length).to.be.greaterThan(0);
    expect(contains(bytes, 'stacklink-bot'), 'the scan sees plaintext fields').to.equal(true);
    for (const value of [...tokens, ...webhookSecrets]) {
      expect(contains(bytes, value), `store contains ${value.slice(0, 6)}…`).to.equal(false);
    }
    expect(bytes.toString('latin1')).to.match(/v1:[0-9a-f]{8}:/);
  });

  it('the captured logs contain neither the tokens nor the webhook secrets', () => {
    const text = capture.text();
    expect(capture.lines.length).to.be.greaterThan(3);
    expect(text).to.contain(id);
    for (const value of [...tokens, ...webhookSecrets]) {
      expect(text, `logs contain ${value.slice(0, 6)}…`).to.not.contain(value);
    }
  });
});
