import { expect } from 'chai';
import { startSimulator, type BitbucketSimulator } from '../../src';

/** The simulator's REST surface seen raw, as Bitbucket answers it. */
describe('simulator REST behaviour', () => {
  let sim: BitbucketSimulator;

  beforeEach(async () => {
    sim = await startSimulator();
    sim.addUser({ name: 'ci', token: 'read-token', permission: 'read' });
    sim.addRepository({ project: 'PRJ', slug: 'infra' });
  });

  afterEach(() => sim.close());

  const get = (path: string, token?: string) =>
    fetch(`${sim.url}${path}`, token ? { headers: { Authorization: `Bearer ${token}` } } : {});

  it('answers a wrong token with 401 and Bitbucket’s error body', async () => {
    const res = await get('/rest/api/1.0/projects', 'nope');
    expect(res.status).to.equal(401);
    expect(await res.json()).to.deep.equal({
      errors: [
        {
          context: null,
          message: 'Authentication failed. Please check your credentials and try again.',
          exceptionName: 'com.atlassian.bitbucket.auth.IncorrectPasswordAuthenticationException',
        },
      ],
    });
  });

  it('answers anonymous requests for private resources with 401, but serves application-properties', async () => {
    expect((await get('/rest/api/1.0/projects/PRJ/repos/infra')).status).to.equal(401);
    const props = await get('/rest/api/1.0/application-properties');
    expect(props.status).to.equal(200);
    expect(await props.json()).to.include({ displayName: 'Bitbucket' });
  });

  it('names the authenticated user in X-AUSERNAME on /rest/capabilities, and nobody when anonymous', async () => {
    expect((await get('/rest/capabilities', 'read-token')).headers.get('x-ausername')).to.equal('ci');
    expect((await get('/rest/capabilities')).headers.get('x-ausername')).to.equal(null);
  });

  it('pages with its small default page size even when a larger limit is asked for', async () => {
    for (const key of ['A', 'B', 'C', 'D']) sim.addProject({ key });
    const body = (await (await get('/rest/api/1.0/projects?limit=100', 'read-token')).json()) as Record<
      string,
      unknown
    >;
    expect(body).to.include({ size: 3, limit: 3, isLastPage: false, start: 0, nextPageStart: 3 });
  });

  it('refuses writes without X-Atlassian-Token: no-check (XSRF protection)', async () => {
    const res = await fetch(`${sim.url}/rest/build-status/1.0/commits/abc`, {
      method: 'POST',
      headers: { Authorization: 'Bearer read-token', 'Content-Type': 'application/json' },
      body: JSON.stringify({ key: 'k', state: 'SUCCESSFUL', url: 'https://x' }),
    });
    expect(res.status).to.equal(403);
    expect(sim.recorded.statuses).to.have.length(0);
  });

  it('answers an unknown resource with an HTML 404, like the servlet container in front of Bitbucket', async () => {
    const res = await get('/rest/api/1.0/nothing-here', 'read-token');
    expect(res.status).to.equal(404);
    expect(res.headers.get('content-type')).to.match(/^text\/html/);
  });

  it('drives scenarios over HTTP under /_sim for curl walkthroughs', async () => {
    const res = await fetch(`${sim.url}/_sim/push`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ project: 'PRJ', repo: 'infra', branch: 'main', files: ['main.tf'] }),
    });
    expect(res.status).to.equal(200);
    const { commit } = (await res.json()) as { commit: string };
    expect(commit).to.match(/^[0-9a-f]{40}$/);
    const bad = await fetch(`${sim.url}/_sim/push`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{}',
    });
    expect(bad.status).to.equal(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).to.include(
      '"project" is required',
    );
  });
});
