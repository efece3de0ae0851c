/**
 * Address syntax per RFC 5321 (the SMTP envelope grammar, which is what a mail server will
 * accept), extended by RFC 6531 (UTF-8 local parts and domains). RFC 5322 allows more
 * (comments, folding white space, obsolete forms, general domain literals) but no SMTP
 * server accepts those in RCPT TO, so they are reported as `rfc5322_only:*` failures
 * rather than silently accepted.
 *
 * A hand-written scanner instead of a regular expression: it runs once per event on the
 * hot path, gives a precise reason for each failure, and counts octets as it goes.
 */
import { isIPv6 } from 'node:net';
import { domainToASCII } from 'node:url';

export type SyntaxFailureReason = 'invalid_syntax' | 'invalid_domain';

export interface ParsedAddress {
  ok: true;
  /** Local part as written (case preserved: RFC 5321 §2.4 makes it case-sensitive). */
  local: string;
  /** Domain lower-cased, in the form the user wrote it (U-labels kept). */
  domain: string;
  /** The domain as DNS needs it: A-labels (RFC 5890), or the literal for address literals. */
  asciiDomain: string;
  /** `local@domain` after trimming, NFC and lower-casing the domain. */
  normalized: string;
  /** The local part holds UTF-8, so delivery needs the SMTPUTF8 extension (RFC 6531 §3.3). */
  smtputf8: boolean;
  /** The domain is `[IPv4]` or `[IPv6:…]` (RFC 5321 §4.1.3): no DNS lookup applies. */
  addressLiteral: boolean;
}

export interface SyntaxFailure {
  ok: false;
  reason: SyntaxFailureReason;
  /** Machine-readable cause, e.g. `local_too_long`, `rfc5322_only:comment`. */
  detail: string;
  normalized: string;
}

export type SyntaxResult = ParsedAddress | SyntaxFailure;

/** RFC 5321 §4.5.3.1.1. */
export const MAX_LOCAL_OCTETS = 64;
/** RFC 5321 §4.5.3.1.2. */
export const MAX_DOMAIN_OCTETS = 255;
/** RFC 5321 §4.5.3.1.3 path limit of 256 octets minus the angle brackets (RFC 3696 erratum 1690). */
export const MAX_ADDRESS_OCTETS = 254;
/** RFC 1035 §2.3.4. */
export const MAX_LABEL_OCTETS = 63;

const CH_QUOTE = 0x22;
const CH_DOT = 0x2e;
const CH_AT = 0x40;
const CH_BACKSLASH = 0x5c;
const CH_HYPHEN = 0x2d;

/** atext of RFC 5322 §3.2.3 (ASCII part), indexed by char code. */
const ATEXT = new Uint8Array(128);
for (const c of "!#$%&'*+-/=?^_`{|}~") ATEXT[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) ATEXT[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) ATEXT[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) ATEXT[c] = 1;

/** Letters, digits and hyphen: the LDH rule of RFC 5321 §4.1.2 sub-domain. */
const LDH = new Uint8Array(128);
LDH[CH_HYPHEN] = 1;
for (let c = 0x30; c <= 0x39; c++) LDH[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) LDH[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) LDH[c] = 1;

/** UTS #46 is costly next to the rest of the scan and a few IDN domains carry most traffic. */
const idnCache = new Map<string, string>();
const IDN_CACHE_LIMIT = 10_000;

function toAsciiCached(domain: string): string {
  let ascii = idnCache.get(domain);
  if (ascii === undefined) {
    ascii = domainToASCII(domain);
    if (idnCache.size >= IDN_CACHE_LIMIT) idnCache.delete(idnCache.keys().next().value as string);
    idnCache.set(domain, ascii);
  }
  return ascii;
}

function fail(reason: SyntaxFailureReason, detail: string, normalized: string): SyntaxFailure {
  return { ok: false, reason, detail, normalized };
}

/** Octets of one UTF-16 code unit once encoded as UTF-8 (a surrogate pair counts 2 + 2). */
function utf8Octets(code: number): number {
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
function isLoneSurrogate(s: string, i: number, code: number): boolean {
  if (code < 0xd800 || code > 0xdfff) return false;
  if (code <= 0xdbff) {
    const next = s.charCodeAt(i + 1);
    return !(next >= 0xdc00 && next <= 0xdfff);
  }
  const prev = i > 0 ? s.charCodeAt(i - 1) : 0;
  return !(prev >= 0xd800 && prev <= 0xdbff);
}

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0d || code === 0x0a;
}

/** Why a character that may not appear in an unquoted local part is there. */
function localCharDetail(code: number): string {
  if (code === 0x28 || code === 0x29) return 'rfc5322_only:comment';
  if (isSpace(code)) return 'rfc5322_only:folding_white_space';
  if (code === 0x3c || code === 0x3e) return 'rfc5322_only:name_addr';
  if (code === CH_QUOTE) return 'rfc5322_only:obs_local_part';
  return 'local_invalid_char';
}

/** Validates `addr` and returns its parts or the first rule it breaks. */
export function parseAddress(input: string): SyntaxResult {
  let s = input;
  const n0 = s.length;
  if (n0 > 0 && (s.charCodeAt(0) <= 0x20 || s.charCodeAt(n0 - 1) <= 0x20 || s.charCodeAt(n0 - 1) === 0xa0))
    s = s.trim();
  let ascii = true;
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) >= 0x80) {
      ascii = false;
      break;
    }
  }
  // NFC only when needed: pure ASCII is already NFC, and normalize() allocates.
  if (!ascii) s = s.normalize('NFC');
  const n = s.length;
  if (n === 0) return fail('invalid_syntax', 'empty', s);

  // ---- local part: Dot-string or Quoted-string (RFC 5321 §4.1.2) ----
  let i = 0;
  let localOctets = 0;
  let smtputf8 = false;
  if (s.charCodeAt(0) === CH_QUOTE) {
    i = 1;
    let closed = false;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c === CH_QUOTE) {
        closed = true;
        i++;
        break;
      }
      if (c === CH_BACKSLASH) {
        const next = i + 1 < n ? s.charCodeAt(i + 1) : -1;
        // quoted-pairSMTP = %d92 %d32-126; anything else is RFC 5322's obs-qp.
        if (next < 0x20 || next > 0x7e) return fail('invalid_syntax', 'rfc5322_only:obs_quoted_pair', s);
        localOctets += 2;
        i += 2;
        continue;
      }
      if (c >= 0x80) {
        if (isLoneSurrogate(s, i, c)) return fail('invalid_syntax', 'lone_surrogate', s);
        smtputf8 = true; // RFC 6531 §3.3 adds UTF8-non-ascii to qtextSMTP
      } else if (c < 0x20 || c === 0x7f) {
        return fail('invalid_syntax', c === 0x09 ? 'rfc5322_only:folding_white_space' : 'quoted_invalid_char', s);
      }
      localOctets += utf8Octets(c);
      i++;
    }
    if (!closed) return fail('invalid_syntax', 'quoted_unterminated', s);
    localOctets += 2;
    if (i >= n) return fail('invalid_syntax', 'missing_at', s);
    const after = s.charCodeAt(i);
    if (after === CH_DOT) return fail('invalid_syntax', 'rfc5322_only:obs_local_part', s);
    if (after !== CH_AT) return fail('invalid_syntax', localCharDetail(after), s);
  } else {
    let prevDot = true; // a leading dot is an empty atom
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c === CH_AT) break;
      if (c === CH_DOT) {
        if (prevDot) return fail('invalid_syntax', i === 0 ? 'local_leading_dot' : 'local_consecutive_dots', s);
        prevDot = true;
      } else if (c >= 0x80) {
        if (isLoneSurrogate(s, i, c)) return fail('invalid_syntax', 'lone_surrogate', s);
        smtputf8 = true; // RFC 6531 §3.3 adds UTF8-non-ascii to atext
        prevDot = false;
      } else if (ATEXT[c] === 1) {
        prevDot = false;
      } else {
        return fail('invalid_syntax', localCharDetail(c), s);
      }
      localOctets += utf8Octets(c);
      i++;
    }
    if (i >= n) return fail('invalid_syntax', 'missing_at', s);
    if (i === 0) return fail('invalid_syntax', 'local_empty', s);
    if (prevDot) return fail('invalid_syntax', 'local_trailing_dot', s);
  }
  const at = i;
  if (localOctets > MAX_LOCAL_OCTETS) return fail('invalid_syntax', 'local_too_long', s);

  // ---- domain: Domain or address-literal (RFC 5321 §4.1.2, §4.1.3) ----
  const start = at + 1;
  if (start >= n) return fail('invalid_syntax', 'domain_empty', s);
  const local = s.slice(0, at);
  if (s.charCodeAt(start) === 0x5b) return parseAddressLiteral(s, local, start, localOctets, smtputf8);

  let hasUpper = false;
  let domainAscii = true;
  for (let j = start; j < n; j++) {
    const c = s.charCodeAt(j);
    if (c >= 0x80) {
      domainAscii = false;
    } else if (c === CH_DOT || LDH[c] === 1) {
      if (c >= 0x41 && c <= 0x5a) hasUpper = true;
    } else if (c === CH_AT) {
      return fail('invalid_syntax', 'multiple_at', s);
    } else if (c === 0x28 || c === 0x29) {
      return fail('invalid_syntax', 'rfc5322_only:comment', s);
    } else if (isSpace(c)) {
      return fail('invalid_syntax', 'rfc5322_only:folding_white_space', s);
    } else {
      return fail('invalid_domain', 'domain_invalid_char', s);
    }
  }
  let domain = s.slice(start);
  let normalized = s;
  if (hasUpper || !domainAscii) {
    domain = domain.toLowerCase();
    normalized = `${local}@${domain}`;
  }

  let asciiDomain = domain;
  if (!domainAscii) {
    // UTS #46 processing (WHATWG URL) maps and checks U-labels and returns A-labels, or '' if invalid.
    asciiDomain = toAsciiCached(domain);
    if (asciiDomain === '') return fail('invalid_domain', 'idn_invalid', normalized);
  }
  const domainDetail = checkHostname(asciiDomain, domainAscii);
  if (domainDetail !== null) return fail('invalid_domain', domainDetail, normalized);
  if (localOctets + 1 + asciiDomain.length > MAX_ADDRESS_OCTETS) {
    return fail('invalid_syntax', 'address_too_long', normalized);
  }
  return { ok: true, local, domain, asciiDomain, normalized, smtputf8, addressLiteral: false };
}

/**
 * The LDH hostname rules on an ASCII domain: labels of 1–63 octets, no hyphen at either
 * end, at least two labels (RFC 5321 §2.3.5: only fully-qualified names), and a TLD that
 * is not all digits (RFC 3696 §2), so `user@1.2.3.4` is not mistaken for a host name.
 */
function checkHostname(d: string, checkPunycode: boolean): string | null {
  const n = d.length;
  if (n > MAX_DOMAIN_OCTETS) return 'domain_too_long';
  let labelStart = 0;
  let labels = 0;
  let lastLabelNumeric = true;
  for (let j = 0; j <= n; j++) {
    const c = j < n ? d.charCodeAt(j) : CH_DOT;
    if (c !== CH_DOT) {
      if (c < 0x30 || c > 0x39) lastLabelNumeric = false;
      continue;
    }
    const len = j - labelStart;
    if (len === 0) return j === n ? 'domain_trailing_dot' : j === 0 ? 'domain_leading_dot' : 'domain_empty_label';
    if (len > MAX_LABEL_OCTETS) return 'label_too_long';
    if (d.charCodeAt(labelStart) === CH_HYPHEN || d.charCodeAt(j - 1) === CH_HYPHEN) return 'label_hyphen_edge';
    // An ASCII `xn--` label must itself be valid Punycode (RFC 5891 §5.4).
    if (
      checkPunycode &&
      len > 4 &&
      d.charCodeAt(labelStart + 2) === CH_HYPHEN &&
      d.charCodeAt(labelStart + 3) === CH_HYPHEN &&
      (d.charCodeAt(labelStart) | 0x20) === 0x78 &&
      (d.charCodeAt(labelStart + 1) | 0x20) === 0x6e &&
      domainToASCII(d.slice(labelStart, j)) === ''
    ) {
      return 'idn_invalid';
    }
    labels++;
    if (j < n) lastLabelNumeric = true;
    labelStart = j + 1;
  }
  if (labels < 2) return 'domain_not_fully_qualified';
  if (lastLabelNumeric) return 'tld_numeric';
  return null;
}

function parseAddressLiteral(
  s: string,
  local: string,
  start: number,
  localOctets: number,
  smtputf8: boolean,
): SyntaxResult {
  const n = s.length;
  if (s.charCodeAt(n - 1) !== 0x5d) return fail('invalid_domain', 'address_literal_unterminated', s);
  const inner = s.slice(start + 1, n - 1);
  let literal: string;
  if (inner.length > 5 && inner.slice(0, 5).toLowerCase() === 'ipv6:') {
    const ip = inner.slice(5);
    if (!isIPv6(ip)) return fail('invalid_domain', 'address_literal_invalid_ipv6', s);
    literal = `[IPv6:${ip.toLowerCase()}]`;
  } else if (isDottedQuad(inner)) {
    literal = `[${inner}]`;
  } else if (isDigitsAndDots(inner)) {
    return fail('invalid_domain', 'address_literal_invalid_ipv4', s);
  } else if (inner.indexOf(':') > 0) {
    // General-address-literal: no tag other than IPv6 has been registered (RFC 5321 §4.1.3).
    return fail('invalid_domain', 'address_literal_unknown_tag', s);
  } else {
    return fail('invalid_syntax', 'rfc5322_only:domain_literal', s);
  }
  if (localOctets + 1 + literal.length > MAX_ADDRESS_OCTETS) return fail('invalid_syntax', 'address_too_long', s);
  const normalized = `${local}@${literal}`;
  return { ok: true, local, domain: literal, asciiDomain: literal, normalized, smtputf8, addressLiteral: true };
}

/** IPv4-address-literal = Snum 3("." Snum), Snum = 1*3DIGIT of value 0–255 (RFC 5321 §4.1.3). */
function isDottedQuad(t: string): boolean {
  let parts = 0;
  let digits = 0;
  let value = 0;
  for (let j = 0; j <= t.length; j++) {
    const c = j < t.length ? t.charCodeAt(j) : CH_DOT;
    if (c === CH_DOT) {
      if (digits === 0 || value > 255) return false;
      parts++;
      digits = 0;
      value = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (++digits > 3) return false;
      value = value * 10 + (c - 0x30);
    } else {
      return false;
    }
  }
  return parts === 4;
}

function isDigitsAndDots(t: string): boolean {
  for (let j = 0; j < t.length; j++) {
    const c = t.charCodeAt(j);
    if (c !== CH_DOT && (c < 0x30 || c > 0x39)) return false;
  }
  return t.length > 0;
}
