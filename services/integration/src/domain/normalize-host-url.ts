export type HostUrlResult = { ok: true; value: string } | { ok: false; reason: string };

/**
 * Validates and normalizes `apiHost` / `userFacingHost`: an absolute http(s) URL without credentials,
 * query or fragment. The context path is kept (Bitbucket is often served under `/bitbucket`) and
 * trailing slashes are removed, so `https://bb.example.com/bitbucket/` and `…/bitbucket` are one host
 * and paths can be appended with a single `/`.
 */
export function normalizeHostUrl(input: string): HostUrlResult {
  const text = input.trim();
  if (!/^https?:\/\//i.test(text))
    return { ok: false, reason: 'must be an absolute http:// or https:// URL' };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, reason: 'must be a valid absolute http:// or https:// URL' };
  }
  if (url.hostname === '') return { ok: false, reason: 'must name a host' };
  if (url.username !== '' || url.password !== '' || /^https?:\/\/[^/]*@/i.test(text)) {
    return {
      ok: false,
      reason: 'must not contain credentials; put the username and access token in their own fields',
    };
  }
  if (url.search !== '' || text.includes('?'))
    return { ok: false, reason: 'must not contain a query string' };
  if (url.hash !== '' || text.includes('#')) return { ok: false, reason: 'must not contain a fragment' };
  const path = url.pathname.replace(/\/+$/, '');
  return { ok: true, value: `${url.protocol}//${url.host}${path}` };
}
