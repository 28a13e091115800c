import { expect } from 'chai';
import {
  authorizationUrl,
  codeChallengeOf,
  createCodeVerifier,
  exchangeAuthorizationCode,
  refreshAccessToken,
  repositoryAccess,
  type OAuthClientConfig,
} from '@stacklink/bitbucket';
import { startSimulator, type BitbucketSimulator } from '../../src';

const REDIRECT = 'https://stacklink.example.test/auth/bitbucket/i-1/callback';

/**
 * The OAuth 2.0 helpers of @stacklink/bitbucket against the simulator's provider (Bitbucket DC 8.x,
 * authorization code with PKCE S256): what "sign in with Bitbucket" relies on, refusals included.
 */
describe('OAuth 2.0: the client helpers against the simulated Bitbucket', () => {
  let sim: BitbucketSimulator;
  let config: OAuthClientConfig;

  before(async () => {
    sim = await startSimulator();
    sim.addUser({ name: 'alice', token: 'alice-password', permission: 'licensed' });
    sim.addUser({ name: 'svc', token: 'svc-token', permission: 'admin' });
    sim.addProject({ key: 'DEMO' });
    sim.addRepository({ project: 'DEMO', slug: 'infra' });
    sim.addRepository({ project: 'DEMO', slug: 'secret' });
    sim.setRepositoryPermission({ project: 'DEMO', repo: 'infra', user: 'alice', permission: 'REPO_READ' });
    const client = sim.addOAuthClient({ name: 'Stacklink', redirectUri: REDIRECT });
    config = { authorizeBaseUrl: sim.url, apiBaseUrl: sim.url, redirectUri: REDIRECT, ...client };
  });
  after(() => sim.close());

  /** The consent form posted as alice would; answers the redirect's query. */
  async function consent(
    state: string,
    challenge: string,
    password = 'alice-password',
  ): Promise<URLSearchParams> {
    const asked = new URL(authorizationUrl(config, { state, codeChallenge: challenge }));
    const page = await fetch(asked);
    expect(page.status).to.equal(200);
    const res = await fetch(`${sim.url}/rest/oauth2/latest/authorize`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        ...Object.fromEntries(asked.searchParams),
        username: 'alice',
        password,
        decision: 'allow',
      }).toString(),
    });
    if (res.status !== 302) return new URLSearchParams({ status: String(res.status) });
    const location = new URL(res.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).to.equal(REDIRECT);
    return location.searchParams;
  }

  it('makes a 43-character verifier whose S256 challenge is RFC 7636’s example for its example verifier', () => {
    expect(createCodeVerifier()).to.match(/^[A-Za-z0-9_-]{43}$/);
    expect(createCodeVerifier()).not.to.equal(createCodeVerifier());
    // RFC 7636 Appendix B.
    expect(codeChallengeOf('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).to.equal(
      'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    );
  });

  it('signs alice in: the code comes back with the state, and her token reads what she may read and nothing else', async () => {
    const verifier = createCodeVerifier();
    const back = await consent('state-1', codeChallengeOf(verifier));
    expect(back.get('state')).to.equal('state-1');
    const tokens = await exchangeAuthorizationCode(config, {
      code: back.get('code')!,
      codeVerifier: verifier,
    });
    expect(tokens.scope).to.equal('REPO_READ');
    expect(tokens.expiresAt).to.be.greaterThan(Date.now());
    const ask = (slug: string) =>
      repositoryAccess({ baseUrl: sim.url, accessToken: tokens.accessToken, projectKey: 'DEMO', slug });
    expect(await ask('infra')).to.equal('read');
    expect(await ask('secret')).to.equal('denied');
    expect(await ask('missing')).to.equal('denied');
    sim.setRepositoryPermission({ project: 'DEMO', repo: 'infra', user: 'alice', permission: undefined });
    expect(await ask('infra')).to.equal('denied');
    sim.setRepositoryPermission({ project: 'DEMO', repo: 'infra', user: 'alice', permission: 'REPO_READ' });
  });

  it('refuses a wrong PKCE verifier with invalid_grant, and the code is spent by the attempt', async () => {
    const verifier = createCodeVerifier();
    const back = await consent('state-2', codeChallengeOf(verifier));
    const wrong = exchangeAuthorizationCode(config, {
      code: back.get('code')!,
      codeVerifier: createCodeVerifier(),
    });
    await expectRefusal(wrong, 'invalid_grant');
    await expectRefusal(
      exchangeAuthorizationCode(config, { code: back.get('code')!, codeVerifier: verifier }),
      'invalid_grant',
    );
  });

  it('refuses a replayed code and revokes the token the first use bought', async () => {
    const verifier = createCodeVerifier();
    const back = await consent('state-3', codeChallengeOf(verifier));
    const grant = { code: back.get('code')!, codeVerifier: verifier };
    const first = await exchangeAuthorizationCode(config, grant);
    await expectRefusal(exchangeAuthorizationCode(config, grant), 'invalid_grant');
    expect(
      await repositoryAccess({
        baseUrl: sim.url,
        accessToken: first.accessToken,
        projectKey: 'DEMO',
        slug: 'infra',
      }),
    ).to.equal('unauthenticated');
  });

  it('refuses a wrong client secret with invalid_client', async () => {
    const verifier = createCodeVerifier();
    const back = await consent('state-4', codeChallengeOf(verifier));
    await expectRefusal(
      exchangeAuthorizationCode(
        { ...config, clientSecret: 'not-the-secret' },
        { code: back.get('code')!, codeVerifier: verifier },
      ),
      'invalid_client',
    );
  });

  it('refreshes an expired token (the refresh token rotates; the spent one is refused)', async () => {
    const verifier = createCodeVerifier();
    const back = await consent('state-5', codeChallengeOf(verifier));
    const tokens = await exchangeAuthorizationCode(config, {
      code: back.get('code')!,
      codeVerifier: verifier,
    });
    sim.expireOAuthTokens('alice');
    const ask = (accessToken: string) =>
      repositoryAccess({ baseUrl: sim.url, accessToken, projectKey: 'DEMO', slug: 'infra' });
    expect(await ask(tokens.accessToken)).to.equal('unauthenticated');
    const fresh = await refreshAccessToken(config, tokens.refreshToken!);
    expect(fresh.refreshToken).not.to.equal(tokens.refreshToken);
    expect(await ask(fresh.accessToken)).to.equal('read');
    await expectRefusal(refreshAccessToken(config, tokens.refreshToken!), 'invalid_grant');
  });

  it('shows a page, and redirects nowhere, for a redirect URL other than the registered one', async () => {
    const url = new URL(
      authorizationUrl(
        { ...config, redirectUri: 'https://evil.example.test/cb' },
        {
          state: 's',
          codeChallenge: codeChallengeOf(createCodeVerifier()),
        },
      ),
    );
    const res = await fetch(url, { redirect: 'manual' });
    expect(res.status).to.equal(400);
    expect(res.headers.get('location')).to.equal(null);
    expect(await res.text()).to.contain('redirect_uri');
  });

  it('asks again, with no code, when the password is wrong', async () => {
    const back = await consent('state-6', codeChallengeOf(createCodeVerifier()), 'wrong');
    expect(back.get('status')).to.equal('401');
  });
});

async function expectRefusal(promise: Promise<unknown>, error: string): Promise<void> {
  try {
    await promise;
  } catch (err) {
    expect((err as { code?: string }).code).to.equal('BITBUCKET.OAUTH_REFUSED');
    expect((err as { details?: { error?: string } }).details?.error).to.equal(error);
    return;
  }
  expect.fail(`expected ${error}`);
}
