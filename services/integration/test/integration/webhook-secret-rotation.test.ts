import { expect } from 'chai';
import { webhookSecretsAnswerSchema } from '@stacklink/contracts';
import { integrationInput, startService, type RunningService } from '../support/start-service';

describe('webhook secret rotation', () => {
  let service: RunningService;
  afterEach(async () => service.close());

  async function create(): Promise<{ id: string; secret: string }> {
    const body = (await service.admin('POST', '/integrations', integrationInput())).body;
    return { id: body.id, secret: body.webhook.secret };
  }

  it('answers the new secret and when the old one stops being accepted (24 h by default)', async () => {
    service = await startService();
    const { id, secret: old } = await create();
    const res = await service.admin('POST', `/integrations/${id}/webhook-secret/rotate`);
    expect(res.status).to.equal(200);
    expect(res.body.webhook.endpoint).to.match(new RegExp(`/webhooks/bitbucket-dc/${id}$`));
    expect(res.body.webhook.secret)
      .to.match(/^[0-9a-f]{64}$/)
      .and.not.equal(old);
    const expected = new Date(service.clock.now().getTime() + 86_400_000).toISOString();
    expect(res.body.previousSecretValidUntil).to.equal(expected);
  });

  it('serves the old secret after the new one during the grace period, and not after it', async () => {
    service = await startService({ graceSeconds: 3600 });
    const { id, secret: old } = await create();
    const rotated = (await service.admin('POST', `/integrations/${id}/webhook-secret/rotate`)).body;
    const validUntil = rotated.previousSecretValidUntil as string;

    const during = await service.internal('GET', `/integrations/${id}/webhook-secrets`);
    expect(during.body).to.deep.equal({
      secrets: [{ value: rotated.webhook.secret }, { value: old, validUntil }],
    });
    // Exactly what gateways read (@stacklink/contracts), with no field the contract does not name.
    expect(webhookSecretsAnswerSchema.validate(during.body, { convert: false }).error).to.equal(undefined);
    expect(
      (await service.admin('GET', `/integrations/${id}`)).body.webhook.previousSecretValidUntil,
    ).to.equal(validUntil);

    service.clock.advance(3600_000 - 1);
    const lastMoment = await service.internal('GET', `/integrations/${id}/webhook-secrets`);
    expect((lastMoment.body.secrets as { value: string }[]).map((s) => s.value)).to.deep.equal([
      rotated.webhook.secret,
      old,
    ]);

    service.clock.advance(1);
    const after = await service.internal('GET', `/integrations/${id}/webhook-secrets`);
    expect(after.body).to.deep.equal({ secrets: [{ value: rotated.webhook.secret }] });
    expect((await service.admin('GET', `/integrations/${id}`)).body.webhook).to.not.have.property(
      'previousSecretValidUntil',
    );
  });

  it('keeps one previous secret: rotating twice retires the oldest at once', async () => {
    service = await startService();
    const { id, secret: first } = await create();
    const second = (await service.admin('POST', `/integrations/${id}/webhook-secret/rotate`)).body.webhook
      .secret;
    service.clock.advance(1000);
    const third = (await service.admin('POST', `/integrations/${id}/webhook-secret/rotate`)).body.webhook
      .secret;
    const answer = await service.internal('GET', `/integrations/${id}/webhook-secrets`);
    const served = (answer.body.secrets as { value: string }[]).map((s) => s.value);
    expect(served).to.deep.equal([third, second]);
    expect(served).to.not.include(first);
  });

  it('with a grace period of 0, serves only the new secret at once', async () => {
    service = await startService({ graceSeconds: 0 });
    const { id } = await create();
    const rotated = (await service.admin('POST', `/integrations/${id}/webhook-secret/rotate`)).body;
    const served = await service.internal('GET', `/integrations/${id}/webhook-secrets`);
    expect(served.body).to.deep.equal({ secrets: [{ value: rotated.webhook.secret }] });
  });

  it('answers 404 when rotating the secret of an unknown integration', async () => {
    service = await startService();
    const res = await service.admin('POST', '/integrations/nope/webhook-secret/rotate');
    expect(res.status).to.equal(404);
  });
});
