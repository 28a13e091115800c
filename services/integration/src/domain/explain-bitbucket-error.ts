import { networkFailureOf, type NetworkFailure } from '@stacklink/bitbucket';
import { isAppError } from '@stacklink/errors';

export type CheckName = 'reachability' | 'bitbucket' | 'credentials' | 'permissions' | 'build_status_api';

export interface Explanation {
  /** The check this failure belongs to (a network failure belongs to reachability whatever was tried). */
  check: CheckName;
  /** A short machine word for metrics and tests: `dns`, `connection_refused`, `tls`, `unauthorized`… */
  outcome: string;
  /** What happened and what to change, in words an operator can act on. */
  message: string;
}

export interface ExplainContext {
  apiHost: string;
  username: string;
  /** The check that was running when the error came. */
  during: CheckName;
}

/**
 * Turns a Bitbucket client error (AppError BITBUCKET.*) into advice an operator can act on. Pure: the
 * low-level reason (ENOTFOUND, ECONNREFUSED, certificate codes) is read from the error's `details` or
 * its `cause` chain, where the client keeps it, and classified by libs/bitbucket.
 */
export function explainBitbucketError(err: unknown, ctx: ExplainContext): Explanation {
  const code = isAppError(err) ? err.code : 'UNKNOWN';
  const lowLevel = lowLevelCodes(err);
  const target = describeTarget(ctx.apiHost);
  // What the codes mean is libs/bitbucket's one classification; this only words it.
  const failures = new Set(lowLevel.map(networkFailureOf));
  const has = (failure: NetworkFailure): boolean => failures.has(failure);

  switch (code) {
    case 'BITBUCKET.UNREACHABLE':
      if (has('dns'))
        return reach(
          'dns',
          `The host name ${target.host} does not resolve (DNS lookup failed). Check the API host URL for typos, and that the DNS servers of the machine running Stacklink know this name.`,
        );
      if (has('connection_refused'))
        return reach(
          'connection_refused',
          `Nothing accepts connections at ${target.hostPort} (connection refused). Check the port in the API host URL, that Bitbucket is running, and that no firewall rejects connections from Stacklink.`,
        );
      if (has('timeout'))
        return reach(
          'timeout',
          `${target.hostPort} did not answer in time. A firewall or proxy may be dropping the traffic, or Bitbucket is overloaded; check that the machine running Stacklink can reach this address.`,
        );
      if (has('unroutable'))
        return reach(
          'unroutable',
          `There is no network route to ${target.hostPort}. Check the API host URL and the network between Stacklink and Bitbucket (VPN, routing, firewall).`,
        );
      if (has('connection_reset'))
        return reach(
          'connection_reset',
          `The connection to ${target.hostPort} was closed before Bitbucket answered. A proxy or firewall may be cutting it, or the URL uses http:// for an https:// port (or the other way round).`,
        );
      return reach(
        'unreachable',
        `Stacklink cannot connect to ${target.hostPort}. Check the API host URL and that the machine running Stacklink can reach it.`,
      );
    case 'BITBUCKET.TLS':
      if (has('tls_hostname'))
        return reach(
          'tls',
          `TLS failure: the certificate of ${target.host} is not issued for that name. Use the host name the certificate was issued for in the API host URL.`,
        );
      if (has('tls_expired'))
        return reach(
          'tls',
          `TLS failure: the certificate of ${target.host} has expired or is not yet valid. Ask the Bitbucket administrator to renew it.`,
        );
      return reach(
        'tls',
        `TLS failure: Stacklink does not trust the certificate of ${target.host}. If Bitbucket uses a self-signed certificate or one from a private CA, set the CA certificate (tls.caCertificate) to your Bitbucket's CA, in PEM form.`,
      );
    case 'BITBUCKET.REDIRECTED':
      return {
        check: 'bitbucket',
        outcome: 'redirected',
        message: `${ctx.apiHost} redirects Stacklink elsewhere instead of answering. Set the API host URL to the address Bitbucket itself uses (its base URL, with https:// and the context path if any), not to a proxy or login page that redirects.`,
      };
    case 'BITBUCKET.NOT_BITBUCKET':
      return {
        check: 'bitbucket',
        outcome: 'not_bitbucket',
        message: `Something answers at ${ctx.apiHost}, but it is not the Bitbucket Data Center REST API. Check the API host URL, including the context path if Bitbucket runs under one (for example https://${target.host}/bitbucket), and that no proxy or login page sits in front of it.`,
      };
    case 'BITBUCKET.NOT_FOUND':
      if (ctx.during === 'reachability' || ctx.during === 'bitbucket')
        return {
          check: 'bitbucket',
          outcome: 'not_bitbucket',
          message: `${ctx.apiHost} answers, but Bitbucket's REST API is not there (404). Check the context path of the API host URL (for example https://${target.host}/bitbucket).`,
        };
      return {
        check: ctx.during,
        outcome: 'not_found',
        message: `Bitbucket answered 404 for a resource Stacklink needs. Check that the token of ${ctx.username} can read it.`,
      };
    case 'BITBUCKET.UNAUTHORIZED':
      return {
        check: 'credentials',
        outcome: 'unauthorized',
        message: `Bitbucket rejected the access token of ${ctx.username} (401): it is wrong, expired or revoked, or belongs to another user. Create a new HTTP access token in Bitbucket (Manage account → HTTP access tokens) with at least Repository read permission, and save it in this integration.`,
      };
    case 'BITBUCKET.FORBIDDEN':
      return {
        check: ctx.during === 'permissions' ? 'permissions' : 'credentials',
        outcome: 'forbidden',
        message: `Bitbucket accepted the token of ${ctx.username} but refused the request (403). Give the token at least Repository read permission and the user read access to the projects Stacklink should use.`,
      };
    case 'BITBUCKET.RATE_LIMITED':
      return {
        check: ctx.during,
        outcome: 'rate_limited',
        message: `Bitbucket is rate limiting ${ctx.username} (429). Try again in a minute, or ask the Bitbucket administrator to raise the limit for the Stacklink user.`,
      };
    case 'BITBUCKET.SERVER_ERROR':
      return {
        check: ctx.during === 'reachability' ? 'bitbucket' : ctx.during,
        outcome: 'server_error',
        message: `Bitbucket at ${ctx.apiHost} answered with a server error. It may be starting up or unhealthy; try again later, or look at Bitbucket's logs.`,
      };
    default:
      return {
        check: ctx.during,
        outcome: 'unexpected',
        message: `The check failed unexpectedly: ${err instanceof Error ? err.message : String(err)}`,
      };
  }
}

function reach(outcome: string, message: string): Explanation {
  return { check: 'reachability', outcome, message };
}

function describeTarget(apiHost: string): { host: string; hostPort: string } {
  try {
    const url = new URL(apiHost);
    const port = url.port || (url.protocol === 'https:' ? '443' : '80');
    return { host: url.hostname, hostPort: `${url.hostname}:${port}` };
  } catch {
    return { host: apiHost, hostPort: apiHost };
  }
}

/**
 * Node's low-level codes found on the error: libs/bitbucket keeps it in `details.cause`
 * (ECONNREFUSED, DEPTH_ZERO_SELF_SIGNED_CERT…); errors from elsewhere carry `code` along their causes.
 */
function lowLevelCodes(err: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = err;
  for (let depth = 0; depth < 6 && typeof current === 'object' && current !== null; depth += 1) {
    const o = current as { code?: unknown; details?: unknown; cause?: unknown; name?: unknown };
    if (typeof o.code === 'string') codes.push(o.code.toUpperCase());
    if (o.name === 'TimeoutError' || o.name === 'AbortError') codes.push('TIMEOUT');
    const cause = (o.details as { cause?: unknown } | undefined)?.cause;
    if (typeof cause === 'string') codes.push(cause.toUpperCase());
    current = o.cause;
  }
  return codes;
}
