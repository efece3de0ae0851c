/**
 * Text that came from another server (SMTP replies, DNS names) is data: before it goes
 * into a result's `checks[].detail` or a span attribute it loses control characters
 * (C0, C1, DEL, so also CR and LF), bidirectional overrides and line separators, and is
 * capped. Every function here is linear in its input.
 */

// C0 and C1 controls and DEL; ALM, LRM/RLM, LRE…RLO, LRI…PDI; line and paragraph separators.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]+/g;

/** `text` with unsafe characters replaced by one space, runs of spaces collapsed, at most `max` characters. */
export function cleanText(text: string, max: number): string {
  // Cap before the replaces, so a huge input costs no more than a small one.
  const head = text.length > max * 4 ? text.slice(0, max * 4) : text;
  const clean = head.replace(UNSAFE, ' ').replace(/ {2,}/g, ' ').trim();
  if (clean.length <= max) return clean;
  // Do not cut a surrogate pair in half.
  let end = max;
  const code = clean.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return `${clean.slice(0, end)}…`;
}

/**
 * Replaces every whitespace-separated word that contains `@` by `<redacted>`: reply texts
 * often echo the recipient. One pass over the text (the old regular expression backtracked
 * quadratically on a long line without spaces).
 */
export function redactAddresses(text: string): string {
  let out = '';
  let start = 0;
  for (let i = 0; i <= text.length; i++) {
    if (i === text.length || text.charCodeAt(i) === 0x20) {
      const word = text.slice(start, i);
      out += word.includes('@') ? '<redacted>' : word;
      if (i < text.length) out += ' ';
      start = i + 1;
    }
  }
  return out;
}
