import { expect } from 'chai';
import { AppError } from '@stacklink/errors';
import { explainBitbucketError, type CheckName } from '../../src/domain/explain-bitbucket-error';

/** Errors shaped like libs/bitbucket's: the code, and Node's low-level code in details.cause. */
function clientError(code: string, cause?: string, status?: number): AppError {
  return new AppError(code, `client says ${code}`, {
    details: { messages: [], exceptionNames: [], method: 'GET', path: '/rest/x', cause, status },
  });
}

const ctx = { apiHost: 'https://bitbucket.example.com:8443/bitbucket', username: 'bot' };

describe('explainBitbucketError', () => {
  const table: {
    when: string;
    err: unknown;
    during?: CheckName;
    check: CheckName;
    outcome: string;
    advice: RegExp;
  }[] = [
    {
      when: 'the host name does not resolve',
      err: clientError('BITBUCKET.UNREACHABLE', 'ENOTFOUND'),
      check: 'reachability',
      outcome: 'dns',
      advice: /bitbucket\.example\.com does not resolve \(DNS/,
    },
    {
      when: 'the connection is refused',
      err: clientError('BITBUCKET.UNREACHABLE', 'ECONNREFUSED'),
      check: 'reachability',
      outcome: 'connection_refused',
      advice: /bitbucket\.example\.com:8443 \(connection refused\)\. Check the port/,
    },
    {
      when: 'the connection times out',
      err: clientError('BITBUCKET.UNREACHABLE', 'ECONNABORTED'),
      check: 'reachability',
      outcome: 'timeout',
      advice: /did not answer in time.*firewall/,
    },
    {
      when: 'the certificate is self-signed',
      err: clientError('BITBUCKET.TLS', 'DEPTH_ZERO_SELF_SIGNED_CERT'),
      check: 'reachability',
      outcome: 'tls',
      advice: /TLS failure.*set the CA certificate \(tls\.caCertificate\) to your Bitbucket's CA/,
    },
    {
      when: 'the certificate is for another name',
      err: clientError('BITBUCKET.TLS', 'ERR_TLS_CERT_ALTNAME_INVALID'),
      check: 'reachability',
      outcome: 'tls',
      advice: /not issued for that name/,
    },
    {
      when: 'something other than Bitbucket answers',
      err: clientError('BITBUCKET.NOT_BITBUCKET', undefined, 200),
      check: 'bitbucket',
      outcome: 'not_bitbucket',
      advice: /not the Bitbucket Data Center REST API.*context path/,
    },
    {
      when: 'the URL redirects',
      err: clientError('BITBUCKET.REDIRECTED', undefined, 302),
      check: 'bitbucket',
      outcome: 'redirected',
      advice: /redirects/,
    },
    {
      when: 'the token is wrong or expired',
      err: clientError('BITBUCKET.UNAUTHORIZED', undefined, 401),
      during: 'credentials',
      check: 'credentials',
      outcome: 'unauthorized',
      advice:
        /rejected the access token of bot \(401\).*wrong, expired or revoked.*Create a new HTTP access token/,
    },
    {
      when: 'the token lacks a permission while listing projects',
      err: clientError('BITBUCKET.FORBIDDEN', undefined, 403),
      during: 'permissions',
      check: 'permissions',
      outcome: 'forbidden',
      advice: /403.*Repository read/,
    },
    {
      when: 'Bitbucket rate limits',
      err: clientError('BITBUCKET.RATE_LIMITED', undefined, 429),
      during: 'permissions',
      check: 'permissions',
      outcome: 'rate_limited',
      advice: /429.*Try again/,
    },
    {
      when: 'Bitbucket fails with 5xx',
      err: clientError('BITBUCKET.SERVER_ERROR', undefined, 503),
      during: 'bitbucket',
      check: 'bitbucket',
      outcome: 'server_error',
      advice: /server error.*try again later/,
    },
    {
      when: 'something unexpected is thrown',
      err: new Error('boom'),
      during: 'build_status_api',
      check: 'build_status_api',
      outcome: 'unexpected',
      advice: /boom/,
    },
  ];

  for (const row of table) {
    it(`when ${row.when}, it fails the ${row.check} check as ${row.outcome} with advice`, () => {
      const explanation = explainBitbucketError(row.err, { ...ctx, during: row.during ?? 'bitbucket' });
      expect(explanation.check).to.equal(row.check);
      expect(explanation.outcome).to.equal(row.outcome);
      expect(explanation.message).to.match(row.advice);
    });
  }

  it('finds the low-level code on a cause chain when details do not carry it', () => {
    const err = new AppError('BITBUCKET.UNREACHABLE', 'x', {
      cause: Object.assign(new Error('getaddrinfo'), { code: 'EAI_AGAIN' }),
    });
    expect(explainBitbucketError(err, { ...ctx, during: 'bitbucket' }).outcome).to.equal('dns');
  });
});
