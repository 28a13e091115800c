import { expect } from 'chai';
import { startSimulator, type BitbucketSimulator } from '@stacklink/bitbucket-simulator';
import { closedPort } from '../support/network';
import { integrationInput, startService, type RunningService } from '../support/start-service';

const TOKEN = 'BBDC-repositories-token-0123456789';

describe('GET /integrations/{id}/repositories', () => {
  let service: RunningService;
  let sim: BitbucketSimulator;
  let id: string;

  before(async () => {
    sim = await startSimulator({ port: 0, pageSize: 3 });
    sim.addUser({ name: 'stacklink-bot', token: TOKEN });
    sim.addProject({ key: 'OPS', name: 'Operations' });
    sim.addProject({ key: 'WEB', name: 'Web' });
    for (const slug of ['network', 'dns', 'vpc-core', 'vpc-edge'])
      sim.addRepository({ project: 'OPS', slug });
    for (const slug of ['frontend', 'cdn-vpc']) sim.addRepository({ project: 'WEB', slug });
    service = await startService();
    id = (
      await service.admin(
        'POST',
        '/integrations',
        integrationInput({
          apiHost: sim.url,
          accessToken: TOKEN,
          userFacingHost: 'https://git.example.test/bb/',
        }),
      )
    ).body.id;
  });
  after(async () => {
    await service.close();
    await sim.close();
  });

  it('lists repositories a page at a time, with links on the user-facing host', async () => {
    const first = await service.admin('GET', `/integrations/${id}/repositories?limit=3`);
    expect(first.status).to.equal(200);
    expect(first.body.values).to.have.length(3);
    expect(first.body.isLastPage).to.equal(false);
    expect(first.body.nextPageStart).to.equal(3);
    expect(first.body.values[0]).to.deep.include({
      projectKey: 'OPS',
      slug: 'network',
      projectName: 'Operations',
    });
    expect(first.body.values[0].url).to.equal(
      'https://git.example.test/bb/projects/OPS/repos/network/browse',
    );

    const second = await service.admin('GET', `/integrations/${id}/repositories?limit=3&start=3`);
    expect(second.body.isLastPage).to.equal(true);
    expect(second.body).to.not.have.property('nextPageStart');
    const all = [...first.body.values, ...second.body.values].map((r: { slug: string }) => r.slug);
    expect(all).to.have.members(['network', 'dns', 'vpc-core', 'vpc-edge', 'frontend', 'cdn-vpc']);
  });

  it('filters by project', async () => {
    const res = await service.admin('GET', `/integrations/${id}/repositories?project=WEB`);
    expect(res.status).to.equal(200);
    expect((res.body.values as { slug: string }[]).map((r) => r.slug)).to.have.members([
      'frontend',
      'cdn-vpc',
    ]);
  });

  it('filters by part of the name', async () => {
    const res = await service.admin('GET', `/integrations/${id}/repositories?filter=vpc`);
    expect((res.body.values as { slug: string }[]).map((r) => r.slug)).to.have.members([
      'vpc-core',
      'vpc-edge',
      'cdn-vpc',
    ]);
  });

  it('filters by project and name together', async () => {
    const res = await service.admin('GET', `/integrations/${id}/repositories?project=OPS&filter=VPC`);
    expect((res.body.values as { slug: string }[]).map((r) => r.slug)).to.have.members([
      'vpc-core',
      'vpc-edge',
    ]);
  });

  it('answers 404 naming the project when it does not exist', async () => {
    const res = await service.admin('GET', `/integrations/${id}/repositories?project=NOPE`);
    expect(res.status).to.equal(404);
    expect(res.body.error.details.fields[0].field).to.equal('project');
  });

  it('answers 502 with the connection advice when Bitbucket cannot be reached', async () => {
    const port = await closedPort();
    const other = (
      await service.admin('POST', '/integrations', integrationInput({ apiHost: `http://127.0.0.1:${port}` }))
    ).body.id;
    const res = await service.admin('GET', `/integrations/${other}/repositories`);
    expect(res.status).to.equal(502);
    expect(res.body.error.code).to.equal('INTEGRATION.BITBUCKET_FAILED');
    expect(res.body.error.message).to.match(/connection refused/);
  });

  it('answers 502, not 401, when Bitbucket refuses the token', async () => {
    const other = (
      await service.admin(
        'POST',
        '/integrations',
        integrationInput({ apiHost: sim.url, accessToken: 'BBDC-wrong-000000' }),
      )
    ).body.id;
    const res = await service.admin('GET', `/integrations/${other}/repositories`);
    expect(res.status).to.equal(502);
    expect(res.body.error.message).to.match(/401/);
  });
});
