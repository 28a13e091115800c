import { expect } from 'chai';
import { integrationInput, startService, type RunningService } from '../support/start-service';

describe('probes and metrics', () => {
  let service: RunningService;
  beforeEach(async () => {
    service = await startService();
  });
  afterEach(async () => service.close());

  it('is ready when the store and RabbitMQ are up', async () => {
    const res = await service.call('GET', '/readyz');
    expect(res.status).to.equal(200);
    expect(res.body.checks).to.deep.equal({ store: 'up', rabbitmq: 'up' });
  });

  it('is not ready once the broker connection is closed, naming it', async () => {
    await service.bus!.close();
    const res = await service.call('GET', '/readyz');
    expect(res.status).to.equal(503);
    expect(res.body.checks).to.deep.equal({ store: 'up', rabbitmq: 'down' });
  });

  it('is not ready once the store is closed, naming it', async () => {
    await service.repository.close();
    const res = await service.call('GET', '/readyz');
    expect(res.status).to.equal(503);
    expect(res.body.checks.store).to.equal('down');
  });

  it('answers /healthz without a token', async () => {
    expect((await service.call('GET', '/healthz')).status).to.equal(200);
  });

  it('reports the number of integrations in the store', async () => {
    await service.admin('POST', '/integrations', integrationInput());
    await service.admin('POST', '/integrations', integrationInput());
    const metrics = (await service.call('GET', '/metrics')).text;
    expect(metrics).to.match(/^stacklink_integrations 2$/m);
  });
});
