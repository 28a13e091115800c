/** Bitbucket refuses pull-request comments longer than this many characters (UTF-16 code units). */
export const MAX_COMMENT_LENGTH = 32_768;

/**
 * Splits `text` into parts of at most `max` characters, preferring line breaks, then spaces, and
 * never cutting a surrogate pair in half.
 */
export function splitCommentText(text: string, max = MAX_COMMENT_LENGTH): string[] {
  if (max < 2) throw new RangeError('max must be at least 2');
  const parts: string[] = [];
  let rest = text;
  while (rest.length > max) {
    let cut = rest.lastIndexOf('\n', max - 1) + 1;
    if (cut < max / 2) cut = rest.lastIndexOf(' ', max - 1) + 1;
    if (cut < max / 2) cut = max;
    const code = rest.charCodeAt(cut - 1);
    if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
    parts.push(rest.slice(0, cut));
    rest = rest.slice(cut);
  }
  parts.push(rest);
  return parts;
}
