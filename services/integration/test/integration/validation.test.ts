import { expect } from 'chai';
import {
  ADMIN_TOKEN,
  integrationInput,
  startService,
  type ApiAnswer,
  type RunningService,
} from '../support/start-service';

const PEM_GARBAGE = '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n';

describe('request validation', () => {
  let service: RunningService;
  before(async () => {
    service = await startService();
  });
  after(async () => service.close());

  function fieldsOf(res: ApiAnswer): string[] {
    const fields = res.body?.error?.details?.fields as { field: string }[] | undefined;
    return (fields ?? []).map((f) => f.field);
  }

  describe('POST /integrations', () => {
    const cases: {
      when: string;
      change: (body: Record<string, unknown>) => void;
      field: string;
      says?: RegExp;
    }[] = [
      { when: 'name is missing', change: (b) => delete b.name, field: 'name' },
      { when: 'name is empty', change: (b) => (b.name = '   '), field: 'name' },
      { when: 'name is too long', change: (b) => (b.name = 'x'.repeat(101)), field: 'name' },
      { when: 'apiHost is missing', change: (b) => delete b.apiHost, field: 'apiHost' },
      {
        when: 'apiHost is not absolute',
        change: (b) => (b.apiHost = 'bitbucket.example.com'),
        field: 'apiHost',
        says: /"apiHost" must be an absolute http/,
      },
      {
        when: 'apiHost has another scheme',
        change: (b) => (b.apiHost = 'ssh://bitbucket.example.com:7999'),
        field: 'apiHost',
      },
      {
        when: 'apiHost carries credentials',
        change: (b) => (b.apiHost = 'https://bot:pw@bitbucket.example.com'),
        field: 'apiHost',
        says: /"apiHost" must not contain credentials/,
      },
      {
        when: 'apiHost has a query',
        change: (b) => (b.apiHost = 'https://bitbucket.example.com/?x=1'),
        field: 'apiHost',
        says: /query/,
      },
      {
        when: 'apiHost has a fragment',
        change: (b) => (b.apiHost = 'https://bitbucket.example.com/#x'),
        field: 'apiHost',
        says: /fragment/,
      },
      {
        when: 'userFacingHost has a query',
        change: (b) => (b.userFacingHost = 'https://git.example.com/?a=b'),
        field: 'userFacingHost',
        says: /"userFacingHost" must not contain a query/,
      },
      { when: 'userFacingHost is missing', change: (b) => delete b.userFacingHost, field: 'userFacingHost' },
      { when: 'username is missing', change: (b) => delete b.username, field: 'username' },
      { when: 'accessToken is missing', change: (b) => delete b.accessToken, field: 'accessToken' },
      { when: 'accessToken is empty', change: (b) => (b.accessToken = ''), field: 'accessToken' },
      { when: 'accessToken is a number', change: (b) => (b.accessToken = 12345678), field: 'accessToken' },
      { when: 'labels is not a list', change: (b) => (b.labels = 'prod'), field: 'labels' },
      { when: 'a label has spaces', change: (b) => (b.labels = ['ok', 'not ok']), field: 'labels.1' },
      { when: 'labels repeat', change: (b) => (b.labels = ['a', 'a']), field: 'labels.1' },
      {
        when: 'tls.caCertificate is not PEM',
        change: (b) => (b.tls = { caCertificate: 'hello' }),
        field: 'tls.caCertificate',
        says: /PEM/,
      },
      {
        when: 'tls.caCertificate cannot be parsed',
        change: (b) => (b.tls = { caCertificate: PEM_GARBAGE }),
        field: 'tls.caCertificate',
      },
      {
        when: 'tls has an unknown setting',
        change: (b) => (b.tls = { insecure: true }),
        field: 'tls.insecure',
      },
      {
        when: 'description is too long',
        change: (b) => (b.description = 'd'.repeat(1001)),
        field: 'description',
      },
      { when: 'an unknown field is sent', change: (b) => (b.webhookSecret = 'mine'), field: 'webhookSecret' },
    ];

    for (const c of cases) {
      it(`when ${c.when}, it answers 400 naming ${c.field} and stores nothing`, async () => {
        const body = integrationInput();
        c.change(body);
        const res = await service.admin('POST', '/integrations', body);
        expect(res.status).to.equal(400);
        expect(res.body.error.code).to.equal('VALIDATION.FAILED');
        expect(fieldsOf(res)).to.include(c.field);
        expect(res.body.error.message).to.contain(c.field.split('.')[0]);
        if (c.says) expect(res.body.error.message).to.match(c.says);
        expect(await service.repository.count()).to.equal(0);
      });
    }

    it('names every bad field at once', async () => {
      const res = await service.admin('POST', '/integrations', { name: 'x', apiHost: 'nope' });
      expect(res.status).to.equal(400);
      expect(fieldsOf(res)).to.include.members(['apiHost', 'userFacingHost', 'username', 'accessToken']);
    });

    it('does not repeat a malformed access token in the error', async () => {
      const token = 'BBDC-has a space-0123456789';
      const res = await service.admin('POST', '/integrations', integrationInput({ accessToken: token }));
      expect(res.status).to.equal(400);
      expect(fieldsOf(res)).to.deep.equal(['accessToken']);
      expect(res.text).to.not.contain('has a space');
    });

    it('answers 400 to a body that is not JSON and stores nothing', async () => {
      const res = await fetch(`${service.url}/api/v1/integrations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: '{"name": ',
      });
      expect(res.status).to.equal(400);
      expect(await service.repository.count()).to.equal(0);
    });

    it('answers 400 naming the body when there is none', async () => {
      const res = await service.admin('POST', '/integrations');
      expect(res.status).to.equal(400);
      expect(fieldsOf(res)).to.deep.equal(['(body)']);
      expect(await service.repository.count()).to.equal(0);
    });

    it('answers 400 to a JSON array and stores nothing', async () => {
      const res = await service.admin('POST', '/integrations', [integrationInput()]);
      expect(res.status).to.equal(400);
      expect(await service.repository.count()).to.equal(0);
    });
  });

  describe('PATCH /integrations/{id}', () => {
    let id: string;
    before(async () => {
      id = (await service.admin('POST', '/integrations', integrationInput())).body.id;
    });
    after(async () => {
      await service.admin('DELETE', `/integrations/${id}?force=true`);
    });

    const cases: { when: string; body: unknown; field: string }[] = [
      {
        when: 'apiHost carries credentials',
        body: { apiHost: 'https://a:b@bb.example.com' },
        field: 'apiHost',
      },
      { when: 'userFacingHost is not a URL', body: { userFacingHost: 'git' }, field: 'userFacingHost' },
      { when: 'accessToken is empty', body: { accessToken: '' }, field: 'accessToken' },
      { when: 'username is empty', body: { username: '' }, field: 'username' },
      { when: 'labels is not a list', body: { labels: {} }, field: 'labels' },
      { when: 'an unknown field is sent', body: { id: 'other' }, field: 'id' },
      { when: 'the body changes nothing', body: {}, field: '(body)' },
    ];
    for (const c of cases) {
      it(`when ${c.when}, it answers 400 naming ${c.field} and changes nothing`, async () => {
        const before = await service.repository.findById(id);
        const res = await service.admin('PATCH', `/integrations/${id}`, c.body);
        expect(res.status).to.equal(400);
        expect(fieldsOf(res)).to.include(c.field);
        expect(await service.repository.findById(id)).to.deep.equal(before);
      });
    }
  });

  describe('GET /integrations/{id}/repositories', () => {
    const cases: { query: string; field: string }[] = [
      { query: 'limit=0', field: 'limit' },
      { query: 'limit=1000', field: 'limit' },
      { query: 'start=-1', field: 'start' },
      { query: 'project=a%20b', field: 'project' },
      { query: 'sort=name', field: 'sort' },
    ];
    for (const c of cases) {
      it(`answers 400 naming ${c.field} for ?${c.query}`, async () => {
        const res = await service.admin('GET', `/integrations/any/repositories?${c.query}`);
        expect(res.status).to.equal(400);
        expect(fieldsOf(res)).to.include(c.field);
      });
    }
  });

  it('normalizes hosts: keeps the context path, drops trailing slashes', async () => {
    const res = await service.admin(
      'POST',
      '/integrations',
      integrationInput({
        apiHost: 'HTTPS://BB.Example.com:8443/context/path//',
        userFacingHost: 'https://git.example.com/',
      }),
    );
    expect(res.status).to.equal(201);
    expect(res.body.apiHost).to.equal('https://bb.example.com:8443/context/path');
    expect(res.body.userFacingHost).to.equal('https://git.example.com');
    await service.admin('DELETE', `/integrations/${res.body.id}?force=true`);
  });
});
