/** Character classes and code-unit helpers shared by the address scanners. Linear, allocation-free. */
export const CH_QUOTE = 0x22;
export const CH_DOT = 0x2e;
export const CH_AT = 0x40;
export const CH_BACKSLASH = 0x5c;
export const CH_HYPHEN = 0x2d;

/** atext of RFC 5322 §3.2.3 (ASCII part), indexed by char code. */
export const ATEXT = new Uint8Array(128);
for (const c of "!#$%&'*+-/=?^_`{|}~") ATEXT[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) ATEXT[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) ATEXT[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) ATEXT[c] = 1;

/** Letters, digits and hyphen: the LDH rule of RFC 5321 §4.1.2 sub-domain. */
export const LDH = new Uint8Array(128);
LDH[CH_HYPHEN] = 1;
for (let c = 0x30; c <= 0x39; c++) LDH[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) LDH[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) LDH[c] = 1;

/** Octets of one UTF-16 code unit once encoded as UTF-8 (a surrogate pair counts 2 + 2). */
export function utf8Octets(code: number): number {
  if (code < 0x80) return 1;
  if (code < 0x800) return 2;
  if (code >= 0xd800 && code <= 0xdfff) return 2;
  return 3;
}

/**
 * A surrogate that is not half of a proper pair. UTF-8 cannot carry one (an encoder writes
 * U+FFFD instead, 3 octets where `utf8Octets` counted 2), so the address that would be sent
 * is not the one that was checked.
 */
export function isLoneSurrogate(s: string, i: number, code: number): boolean {
  if (code < 0xd800 || code > 0xdfff) return false;
  if (code <= 0xdbff) {
    const next = s.charCodeAt(i + 1);
    return !(next >= 0xdc00 && next <= 0xdfff);
  }
  const prev = i > 0 ? s.charCodeAt(i - 1) : 0;
  return !(prev >= 0xd800 && prev <= 0xdbff);
}

export function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0d || code === 0x0a;
}

export function isDigitsAndDots(t: string): boolean {
  for (let j = 0; j < t.length; j++) {
    const c = t.charCodeAt(j);
    if (c !== CH_DOT && (c < 0x30 || c > 0x39)) return false;
  }
  return t.length > 0;
}
