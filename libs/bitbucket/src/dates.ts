/**
 * Bitbucket sends dates as epoch milliseconds (Server 5.x–9.x REST and webhooks) or as ISO-8601
 * strings (webhook `date`, DC 10.x commit timestamps, some PR fields) — see docs/architecture.md §6.
 */
const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/;

/** True when `value` is something {@link parseBitbucketDate} accepts. */
export function isBitbucketDate(value: unknown): value is number | string {
  return tryParseBitbucketDate(value) !== undefined;
}

/** Parses epoch milliseconds (number or digit string) or an ISO-8601 string; throws on anything else. */
export function parseBitbucketDate(value: number | string): Date {
  const date = tryParseBitbucketDate(value);
  if (date === undefined) throw new TypeError(`not a Bitbucket date: ${JSON.stringify(value)}`);
  return date;
}

function tryParseBitbucketDate(value: unknown): Date | undefined {
  if (typeof value === 'number') return fromEpochMs(value);
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (/^\d{1,16}$/.test(text)) return fromEpochMs(Number(text));
  const m = ISO_8601.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', zone = 'Z'] = m;
  const ms = frac.padEnd(3, '0').slice(0, 3);
  const offset = zone === 'Z' ? 'Z' : normaliseOffset(zone);
  const date = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}.${ms}${offset}`);
  if (Number.isNaN(date.getTime())) return undefined;
  // Date rolls 2021-02-30 over to March; a real Bitbucket date never needs that.
  const check = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (check.getUTCMonth() !== Number(mo) - 1 || check.getUTCDate() !== Number(d)) return undefined;
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined;
  return date;
}

function normaliseOffset(zone: string): string {
  const sign = zone[0];
  const digits = zone.slice(1).replace(':', '');
  const hours = digits.slice(0, 2);
  const minutes = digits.slice(2, 4) || '00';
  return `${sign}${hours}:${minutes}`;
}

function fromEpochMs(ms: number): Date | undefined {
  if (!Number.isFinite(ms) || !Number.isInteger(ms) || ms < 0) return undefined;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? undefined : date;
}
