/**
 * Address syntax per RFC 5321 (the SMTP envelope grammar, which is what a mail server will
 * accept), extended by RFC 6531 (UTF-8 local parts and domains). RFC 5322 allows more
 * (comments, folding white space, obsolete forms, general domain literals) but no SMTP
 * server accepts those in RCPT TO, so they are reported as `rfc5322_only:*` failures
 * rather than silently accepted.
 *
 * A hand-written scanner instead of a regular expression: it runs once per event on the
 * hot path, gives a precise reason for each failure, and counts octets as it goes.
 *
 * Input hygiene comes first: Unicode white space and a BOM at the ends are trimmed (CSV
 * exports and copy-paste carry them); CR or LF anywhere is refused (`crlf`: header and
 * command injection); controls, format characters (zero-width, BOM, soft hyphen), bidi
 * controls, noncharacters, private-use characters and white space other than the ASCII
 * space inside the address are refused with a detail naming the kind, as they make one
 * address display as another. Domains go through UTS #46 (`tr46`: STD3 rules,
 * CheckHyphens, CheckBidi, CheckJoiners, nontransitional), so a domain has one form for
 * machines (lower-case A-labels) and one for display (NFC U-labels).
 *
 * This file holds the scanner of the local part; its parts live in syntax/: hygiene.ts
 * (trimming, refused characters), domain.ts (UTS #46, host name rules), literal.ts (address
 * literals), chars.ts (character classes), result.ts (the result types and length limits).
 */
import {
  ATEXT,
  CH_AT,
  CH_BACKSLASH,
  CH_DOT,
  CH_QUOTE,
  isLoneSurrogate,
  isSpace,
  LDH,
  utf8Octets,
} from './syntax/chars.js';
import { checkHostname, idnFormsCached } from './syntax/domain.js';
import { EDGE_SPACE, isEdgeCandidate, UNSAFE_INSIDE, unsafeDetail } from './syntax/hygiene.js';
import { parseAddressLiteral } from './syntax/literal.js';
import { fail, MAX_ADDRESS_OCTETS, MAX_LOCAL_OCTETS, type SyntaxResult } from './syntax/result.js';

export {
  MAX_ADDRESS_OCTETS,
  MAX_DOMAIN_OCTETS,
  MAX_LABEL_OCTETS,
  MAX_LOCAL_OCTETS,
  type ParsedAddress,
  type SyntaxFailure,
  type SyntaxFailureReason,
  type SyntaxResult,
} from './syntax/result.js';

/**
 * Why a character that may not appear in an unquoted local part is at `i`. A detail says
 * `rfc5322_only:*` only where RFC 5322 would take the construct (a comment next to a dot,
 * the `@` or an end; white space next to one; a quoted string joined by dots); text that
 * neither grammar allows gets a detail of its own.
 */
function localCharDetail(s: string, i: number): string {
  const code = s.charCodeAt(i);
  if (s.charCodeAt(s.length - 1) === 0x3e && s.indexOf('<') >= 0) return 'rfc5322_only:name_addr';
  if (code === 0x28) return commentDetail(s, i);
  if (code === 0x29) return 'comment_unopened';
  if (isSpace(code)) return spaceDetail(s, i);
  if (code === 0x3c || code === 0x3e) return 'rfc5322_only:name_addr';
  if (code === CH_QUOTE)
    return i > 0 && s.charCodeAt(i - 1) === CH_DOT ? 'rfc5322_only:obs_local_part' : 'quote_inside_atom';
  return 'local_invalid_char';
}

/** Characters next to which RFC 5322 allows CFWS in an address. */
function isCfwsNeighbour(code: number): boolean {
  return code === CH_DOT || code === CH_AT || code === 0x28 || code === 0x29 || code === 0x20 || Number.isNaN(code);
}

/** A comment starting at `i`: closed and next to a dot, `@` or an end, it is RFC 5322 CFWS. */
function commentDetail(s: string, i: number): string {
  let depth = 0;
  let j = i;
  for (; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (c === CH_BACKSLASH) j++;
    else if (c === 0x28) depth++;
    else if (c === 0x29 && --depth === 0) break;
  }
  if (depth > 0) return 'comment_unclosed';
  const before = i > 0 ? s.charCodeAt(i - 1) : Number.NaN;
  const after = s.charCodeAt(j + 1);
  return isCfwsNeighbour(before) || isCfwsNeighbour(after) ? 'rfc5322_only:comment' : 'comment_inside_atom';
}

/** White space at `i`: next to a dot, `@`, a comment or an end it is RFC 5322 (obsolete) FWS. */
function spaceDetail(s: string, i: number): string {
  let b = i - 1;
  while (b >= 0 && isSpace(s.charCodeAt(b))) b--;
  let a = i + 1;
  while (a < s.length && isSpace(s.charCodeAt(a))) a++;
  const before = b >= 0 ? s.charCodeAt(b) : Number.NaN;
  return isCfwsNeighbour(before) || isCfwsNeighbour(s.charCodeAt(a))
    ? 'rfc5322_only:folding_white_space'
    : 'white_space_inside_atom';
}

/** Validates `addr` and returns its parts or the first rule it breaks. */
export function parseAddress(input: string): SyntaxResult {
  let s = input;
  const n0 = s.length;
  let ascii = true;
  let control = false;
  for (let i = 0; i < n0; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) ascii = false;
    else if (c < 0x20 || c === 0x7f) control = true;
  }
  // CR or LF anywhere, even at the ends: a line break in an address is an injection attempt
  // or a broken export, never typing.
  if (control && (s.indexOf('\r') >= 0 || s.indexOf('\n') >= 0)) return fail('invalid_syntax', 'crlf', s.trim());
  if (n0 > 0 && (isEdgeCandidate(s.charCodeAt(0)) || isEdgeCandidate(s.charCodeAt(n0 - 1)))) {
    s = s.replace(EDGE_SPACE, '');
  }
  if (!ascii || control) {
    const bad = UNSAFE_INSIDE.exec(s);
    if (bad !== null) return fail('invalid_syntax', unsafeDetail(bad[0]), s);
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
        // RFC 5322's obs-qp quotes controls; nothing quotes a non-ASCII character.
        if (next < 0x20 || next === 0x7f) return fail('invalid_syntax', 'rfc5322_only:obs_quoted_pair', s);
        if (next > 0x7e) return fail('invalid_syntax', next < 0 ? 'quoted_unterminated' : 'quoted_pair_invalid', s);
        localOctets += 2;
        i += 2;
        continue;
      }
      if (c >= 0x80) {
        if (isLoneSurrogate(s, i, c)) return fail('invalid_syntax', 'lone_surrogate', s);
        if (c === 0x200c || c === 0x200d) return fail('invalid_syntax', 'format_character', s);
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
    if (after === CH_QUOTE) return fail('invalid_syntax', 'quote_inside_atom', s);
    if (after !== CH_AT && after !== 0x28 && !isSpace(after) && after !== 0x3c) {
      return fail('invalid_syntax', 'text_after_quoted_string', s);
    }
    if (after !== CH_AT) return fail('invalid_syntax', localCharDetail(s, i), s);
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
        if (c === 0x200c || c === 0x200d) return fail('invalid_syntax', 'format_character', s);
        smtputf8 = true; // RFC 6531 §3.3 adds UTF8-non-ascii to atext
        prevDot = false;
      } else if (ATEXT[c] === 1) {
        prevDot = false;
      } else {
        return fail('invalid_syntax', localCharDetail(s, i), s);
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
      return fail('invalid_syntax', c === 0x28 ? commentDetail(s, j) : 'comment_unopened', s);
    } else if (isSpace(c)) {
      return fail('invalid_syntax', spaceDetail(s, j), s);
    } else {
      return fail('invalid_domain', 'domain_invalid_char', s);
    }
  }
  const written = s.slice(start);
  let domain = written;
  if (hasUpper || !domainAscii) domain = domain.toLowerCase();
  let asciiDomain = domain;
  // UTS #46 for every domain that is not plain LDH: U-labels, and ASCII with `--` (an
  // `xn--` A-label must decode to a valid U-label, RFC 5891 §5.4; other `??--` labels are
  // reserved, CheckHyphens).
  if (!domainAscii || domain.indexOf('--') >= 0) {
    const forms = idnFormsCached(domain);
    if ('error' in forms) return fail('invalid_domain', forms.error, `${local}@${domain}`);
    asciiDomain = forms.ascii;
    domain = forms.unicode;
  }
  const normalized = domain === written ? s : `${local}@${domain}`;
  const domainDetail = checkHostname(asciiDomain);
  if (domainDetail !== null) return fail('invalid_domain', domainDetail, normalized);
  if (localOctets + 1 + asciiDomain.length > MAX_ADDRESS_OCTETS) {
    return fail('invalid_syntax', 'address_too_long', normalized);
  }
  const canonical = asciiDomain === domain ? normalized : `${local}@${asciiDomain}`;
  return { ok: true, local, domain, asciiDomain, normalized, canonical, smtputf8, addressLiteral: false };
}
