/** Address literals (RFC 5321 §4.1.3): `[IPv4]` and `[IPv6:…]`, in their canonical form. */
import { CH_BACKSLASH, CH_DOT, isDigitsAndDots, isSpace } from './chars.js';
import { fail, MAX_ADDRESS_OCTETS, type SyntaxResult } from './result.js';

export function parseAddressLiteral(
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
