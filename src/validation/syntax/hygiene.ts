/**
 * Input hygiene before the grammar: Unicode white space and a BOM at the ends are trimmed,
 * and characters that make one address display as another are refused inside it.
 */
/**
 * Characters refused inside an address, whatever the grammar would say: C0/C1 controls and
 * DEL, format characters (Cf: zero-width space and joiners, BOM, soft hyphen, bidi marks
 * and overrides), private use, noncharacters, and white space other than the ASCII space
 * (which only a quoted local part may hold). A tab is left to the grammar, which refuses
 * it everywhere as RFC 5322 folding white space. ZWJ/ZWNJ are let through here: a domain may
 * need them where RFC 5892 CONTEXTJ allows (UTS #46 CheckJoiners decides), a local part
 * never (refused by its scanner).
 */
export const UNSAFE_INSIDE =
  /[^\P{Cc}\t]|[\p{Co}\p{Noncharacter_Code_Point}\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]|[^\P{Cf}\u200c\u200d]/u;
export const EDGE_SPACE = /^[\p{White_Space}\ufeff]+|[\p{White_Space}\ufeff]+$/gu;

/** The detail for a character UNSAFE_INSIDE matched. */
export function unsafeDetail(ch: string): string {
  const c = ch.codePointAt(0) as number;
  if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return 'control_character';
  if (c === 0x061c || c === 0x200e || c === 0x200f || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069))
    return 'bidi_control';
  if (/\p{Cf}/u.test(ch)) return 'format_character';
  if (/\p{Co}/u.test(ch)) return 'private_use_character';
  if (/\p{Noncharacter_Code_Point}/u.test(ch)) return 'noncharacter';
  return 'white_space_character';
}

/** A character at an end that may be white space or a BOM, so the trimming regex is worth running. */
export function isEdgeCandidate(code: number): boolean {
  return code <= 0x20 || code >= 0x80;
}
