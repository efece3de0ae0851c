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
 */
import { toASCII, toUnicode } from 'tr46';

export type SyntaxFailureReason = 'invalid_syntax' | 'invalid_domain';

export interface ParsedAddress {
  ok: true;
  /** Local part as written (case preserved: RFC 5321 §2.4 makes it case-sensitive). */
  local: string;
  /** The domain for display: lower-case NFC U-labels (UTS #46 ToUnicode), or the literal. */
  domain: string;
  /** The domain as DNS needs it: lower-case A-labels (RFC 5890), or the literal for address literals. */
  asciiDomain: string;
  /** `local@domain` for display: trimmed, NFC, domain in U-labels. */
  normalized: string;
  /** `local@asciiDomain`, the one form per mailbox for machines (joins, deduplication). */
  canonical: string;
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

/**
 * UTS #46 with every check IDNA2008 asks of a registrable name: STD3 ASCII rules (LDH only,
 * so fullwidth punctuation that maps to `_` fails), CheckHyphens, CheckBidi (RFC 5893),
 * CheckJoiners (RFC 5892 CONTEXTJ) and nontransitional processing (ß stays ß). Label and
 * domain lengths are checked afterwards on the A-labels, with details of their own.
 */
const UTS46 = {
  useSTD3ASCIIRules: true,
  checkHyphens: true,
  checkBidi: true,
  checkJoiners: true,
  transitionalProcessing: false,
  verifyDNSLength: false,
} as const;

/** The two forms of a domain, or the detail of why UTS #46 refuses it. */
type IdnForms = { ascii: string; unicode: string } | { error: string };

/** UTS #46 is costly next to the rest of the scan and a few IDN domains carry most traffic. */
const idnCache = new Map<string, IdnForms>();
const IDN_CACHE_LIMIT = 10_000;

function idnFormsCached(domain: string): IdnForms {
  let forms = idnCache.get(domain);
  if (forms === undefined) {
    forms = idnForms(domain);
    if (idnCache.size >= IDN_CACHE_LIMIT) idnCache.delete(idnCache.keys().next().value as string);
    idnCache.set(domain, forms);
  }
  return forms;
}

function idnForms(domain: string): IdnForms {
  const ascii = toASCII(domain, UTS46);
  const unicode = ascii === null ? null : toUnicode(ascii, UTS46);
  if (ascii !== null && unicode !== null && !unicode.error) return { ascii, unicode: unicode.domain };
  // Say why where it is plain: an ASCII character no host name may hold once mapped
  // (`ex＿ample` → `ex_ample`), or a reserved `??--` label; else the IDNA rules failed.
  const mapped = toUnicode(domain, { ...UTS46, useSTD3ASCIIRules: false }).domain;
  for (let j = 0; j < mapped.length; j++) {
    const c = mapped.charCodeAt(j);
    if (c < 0x80 && c !== CH_DOT && LDH[c] !== 1) return { error: 'domain_invalid_char' };
  }
  for (const label of mapped.split('.')) {
    if (label.length >= 4 && label[2] === '-' && label[3] === '-' && !label.startsWith('xn--')) {
      return { error: 'label_reserved_hyphens' };
    }
  }
  return { error: 'idn_invalid' };
}

/**
 * Characters refused inside an address, whatever the grammar would say: C0/C1 controls and
 * DEL, format characters (Cf: zero-width space and joiners, BOM, soft hyphen, bidi marks
 * and overrides), private use, noncharacters, and white space other than the ASCII space
 * (which only a quoted local part may hold). A tab is left to the grammar, which refuses
 * it everywhere as RFC 5322 folding white space. ZWJ/ZWNJ are let through here: a domain may
 * need them where RFC 5892 CONTEXTJ allows (UTS #46 CheckJoiners decides), a local part
 * never (refused by its scanner).
 */
const UNSAFE_INSIDE =
  /[^\P{Cc}\t]|[\p{Co}\p{Noncharacter_Code_Point}\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]|[^\P{Cf}\u200c\u200d]/u;
const EDGE_SPACE = /^[\p{White_Space}\ufeff]+|[\p{White_Space}\ufeff]+$/gu;

/** The detail for a character UNSAFE_INSIDE matched. */
function unsafeDetail(ch: string): string {
  const c = ch.codePointAt(0) as number;
  if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return 'control_character';
  if (c === 0x061c || c === 0x200e || c === 0x200f || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069))
    return 'bidi_control';
  if (/\p{Cf}/u.test(ch)) return 'format_character';
  if (/\p{Co}/u.test(ch)) return 'private_use_character';
  if (/\p{Noncharacter_Code_Point}/u.test(ch)) return 'noncharacter';
  return 'white_space_character';
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

/** A character at an end that may be white space or a BOM, so the trimming regex is worth running. */
function isEdgeCandidate(code: number): boolean {
  return code <= 0x20 || code >= 0x80;
}

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0d || code === 0x0a;
}

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
  let domain = s.slice(start);
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
  const normalized = domain === s.slice(start) ? s : `${local}@${domain}`;
  const domainDetail = checkHostname(asciiDomain);
  if (domainDetail !== null) return fail('invalid_domain', domainDetail, normalized);
  if (localOctets + 1 + asciiDomain.length > MAX_ADDRESS_OCTETS) {
    return fail('invalid_syntax', 'address_too_long', normalized);
  }
  const canonical = asciiDomain === domain ? normalized : `${local}@${asciiDomain}`;
  return { ok: true, local, domain, asciiDomain, normalized, canonical, smtputf8, addressLiteral: false };
}

/**
 * The LDH hostname rules on an ASCII domain: labels of 1–63 octets, no hyphen at either
 * end, at least two labels (RFC 5321 §2.3.5: only fully-qualified names), and a last label
 * that starts with a letter (every TLD does; `xn--` ones too). Without that rule
 * `user@1.2.3.4`, `u@127.0x1` or `u@169.0xfea9fe` would pass as host names, and a resolver
 * built on inet_aton reads them as 127.0.0.1 and 169.254.169.254.
 */
function checkHostname(d: string): string | null {
  const n = d.length;
  if (n > MAX_DOMAIN_OCTETS) return 'domain_too_long';
  let labelStart = 0;
  let labels = 0;
  for (let j = 0; j <= n; j++) {
    const c = j < n ? d.charCodeAt(j) : CH_DOT;
    if (c !== CH_DOT) continue;
    const len = j - labelStart;
    if (len === 0) return j === n ? 'domain_trailing_dot' : j === 0 ? 'domain_leading_dot' : 'domain_empty_label';
    if (len > MAX_LABEL_OCTETS) return 'label_too_long';
    if (d.charCodeAt(labelStart) === CH_HYPHEN || d.charCodeAt(j - 1) === CH_HYPHEN) return 'label_hyphen_edge';
    labels++;
    if (j < n) labelStart = j + 1;
  }
  if (labels < 2) return 'domain_not_fully_qualified';
  const first = d.charCodeAt(labelStart) | 0x20;
  if (first < 0x61 || first > 0x7a) return isDigitsAndDots(d.slice(labelStart)) ? 'tld_numeric' : 'tld_leading_digit';
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
  let close = -1;
  for (let j = start + 1; j < n; j++) {
    const c = s.charCodeAt(j);
    if (c === CH_BACKSLASH) {
      // RFC 5322 obs-dtext (quoted-pair); nothing in RFC 5321.
      if (j + 1 >= n || j + 2 >= n) return fail('invalid_domain', 'address_literal_unterminated', s);
      return fail('invalid_syntax', 'rfc5322_only:obs_dtext', s);
    }
    if (c === 0x5b) return fail('invalid_domain', 'address_literal_invalid_char', s);
    if (c === 0x5d) {
      close = j;
      break;
    }
  }
  if (close < 0) return fail('invalid_domain', 'address_literal_unterminated', s);
  if (close !== n - 1) {
    const c = s.charCodeAt(close + 1);
    return fail('invalid_syntax', c === 0x28 || isSpace(c) ? 'rfc5322_only:comment' : 'text_after_address_literal', s);
  }
  const inner = s.slice(start + 1, n - 1);
  let literal: string;
  if (inner.length > 5 && inner.slice(0, 5).toLowerCase() === 'ipv6:') {
    const ip = inner.slice(5);
    if (!isRfc5321Ipv6(ip)) return fail('invalid_domain', 'address_literal_invalid_ipv6', s);
    literal = `[IPv6:${ip.toLowerCase()}]`;
  } else if (isDottedQuad(inner)) {
    // Snum is decimal (RFC 5321 §4.1.3): `010` is ten, written without the zero.
    literal = `[${inner
      .split('.')
      .map((p) => String(Number(p)))
      .join('.')}]`;
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
  return {
    ok: true,
    local,
    domain: literal,
    asciiDomain: literal,
    normalized,
    canonical: normalized,
    smtputf8,
    addressLiteral: true,
  };
}

/**
 * IPv6-addr of RFC 5321 §4.1.3, stricter than RFC 4291 text forms: 8 groups in full; with
 * `::`, at most 6 groups besides it (so `::` stands for at least two); with a trailing
 * IPv4 address, 6 groups in full or at most 4 besides `::`. No zone identifiers
 * (`%eth0`), which have no meaning outside the host that wrote them.
 */
function isRfc5321Ipv6(ip: string): boolean {
  let body = ip;
  let maxGroups = 8;
  const lastColon = ip.lastIndexOf(':');
  if (ip.indexOf('.', lastColon) > lastColon) {
    if (!isDottedQuad(ip.slice(lastColon + 1))) return false;
    // Keep the colon(s) before the IPv4 part as the end of the hex part (`::1.2.3.4`).
    body = ip.slice(0, lastColon + 1);
    if (!body.endsWith('::')) body = body.slice(0, -1);
    maxGroups = 6;
  }
  const gap = body.indexOf('::');
  if (gap >= 0) {
    if (body.indexOf('::', gap + 1) >= 0) return false;
    const parts = [body.slice(0, gap), body.slice(gap + 2)].filter((p) => p !== '');
    let groups = 0;
    for (const p of parts) {
      const g = p.split(':');
      if (!g.every(isHex16)) return false;
      groups += g.length;
    }
    return groups <= maxGroups - 2;
  }
  const g = body.split(':');
  return g.length === maxGroups && g.every(isHex16);
}

function isHex16(g: string): boolean {
  return /^[0-9a-fA-F]{1,4}$/.test(g);
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
