import { expect } from 'chai';
import {
  INTERNAL_TOKEN,
  integrationInput,
  startService,
  type RunningService,
} from '../support/start-service';

describe('deleting an integration', () => {
  let service: RunningService;
  let id: string;
  beforeEach(async () => {
    service = await startService();
    id = (await service.admin('POST', '/integrations', integrationInput())).body.id;
  });
  afterEach(async () => service.close());

  it('asks stack-trigger with the internal token which stacks use it', async () => {
    await service.admin('DELETE', `/integrations/${id}`);
    expect(service.stackTrigger.requests).to.deep.equal([
      {
        method: 'GET',
        path: `/internal/v1/stacks?integrationId=${id}`,
        authorization: `Bearer ${INTERNAL_TOKEN}`,
      },
    ]);
  });

  it('when stacks use it, answers 409 naming the stacks and deletes nothing', async () => {
    service.stackTrigger.stacks.set(id, [
      { id: 'stk-1', name: 'network-prod' },
      { id: 'stk-2', name: 'dns' },
    ]);
    const res = await service.admin('DELETE', `/integrations/${id}`);
    expect(res.status).to.equal(409);
    expect(res.body.error.code).to.equal('INTEGRATION.IN_USE');
    expect(res.body.error.message).to.contain('network-prod (stk-1)').and.contain('dns (stk-2)');
    expect(res.body.error.details.stacks).to.deep.equal([
      { id: 'stk-1', name: 'network-prod' },
      { id: 'stk-2', name: 'dns' },
    ]);
    expect(await service.repository.findById(id)).to.not.equal(undefined);
  });

  it('with ?force=true, asks stack-trigger to disable its stacks, then deletes it', async () => {
    service.stackTrigger.stacks.set(id, [{ id: 'stk-1', name: 'network-prod' }]);
    const res = await service.admin('DELETE', `/integrations/${id}?force=true`);
    expect(res.status).to.equal(204);
    expect(service.stackTrigger.requests).to.deep.equal([
      {
        method: 'POST',
        path: `/internal/v1/stacks/disable?integrationId=${id}`,
        authorization: `Bearer ${INTERNAL_TOKEN}`,
      },
    ]);
    expect(await service.repository.findById(id)).to.equal(undefined);
  });

  it('when stack-trigger cannot be reached, answers 503 and deletes nothing', async () => {
    await service.stackTrigger.close();
    const res = await service.admin('DELETE', `/integrations/${id}`);
    expect(res.status).to.equal(503);
    expect(res.body.error.code).to.equal('STACK_TRIGGER.UNAVAILABLE');
    expect(res.body.error.message).to.contain('nothing was deleted');
    expect(await service.repository.findById(id)).to.not.equal(undefined);
  });

  it('when stack-trigger cannot be reached, ?force=true still deletes', async () => {
    await service.stackTrigger.close();
    const res = await service.admin('DELETE', `/integrations/${id}?force=true`);
    expect(res.status).to.equal(204);
    expect(await service.repository.findById(id)).to.equal(undefined);
  });

  it('answers 404 for an integration that does not exist, without asking stack-trigger', async () => {
    const res = await service.admin('DELETE', '/integrations/00000000-0000-4000-8000-000000000000');
    expect(res.status).to.equal(404);
    expect(service.stackTrigger.requests).to.deep.equal([]);
  });
});
