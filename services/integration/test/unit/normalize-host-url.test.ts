import { expect } from 'chai';
import { normalizeHostUrl } from '../../src/domain/normalize-host-url';

describe('normalizeHostUrl', () => {
  const accepted: [string, string][] = [
    ['https://bitbucket.example.com', 'https://bitbucket.example.com'],
    ['https://bitbucket.example.com/', 'https://bitbucket.example.com'],
    ['https://bitbucket.example.com/bitbucket', 'https://bitbucket.example.com/bitbucket'],
    ['https://bitbucket.example.com/bitbucket///', 'https://bitbucket.example.com/bitbucket'],
    ['http://10.0.0.5:7990/', 'http://10.0.0.5:7990'],
    ['  HTTPS://Bitbucket.Example.com:8443/scm/  ', 'https://bitbucket.example.com:8443/scm'],
    ['https://bitbucket.example.com:443/', 'https://bitbucket.example.com'],
  ];
  for (const [input, expected] of accepted) {
    it(`accepts ${JSON.stringify(input)} as ${expected}`, () => {
      expect(normalizeHostUrl(input)).to.deep.equal({ ok: true, value: expected });
    });
  }

  const refused: [string, RegExp][] = [
    ['bitbucket.example.com', /absolute http/],
    ['ftp://bitbucket.example.com', /absolute http/],
    ['/bitbucket', /absolute http/],
    ['https://user:pass@bitbucket.example.com', /credentials/],
    ['https://user@bitbucket.example.com', /credentials/],
    ['https://bitbucket.example.com/?a=1', /query/],
    ['https://bitbucket.example.com/?', /query/],
    ['https://bitbucket.example.com/#top', /fragment/],
    ['https://', /valid|host/],
    ['https://exa mple.com', /valid/],
  ];
  for (const [input, reason] of refused) {
    it(`refuses ${JSON.stringify(input)} saying why`, () => {
      const result = normalizeHostUrl(input);
      expect(result.ok).to.equal(false);
      expect(result.ok ? '' : result.reason).to.match(reason);
    });
  }
});
