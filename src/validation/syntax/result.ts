/** What parseAddress answers, and the RFC 5321 length limits it checks. */
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

export function fail(reason: SyntaxFailureReason, detail: string, normalized: string): SyntaxFailure {
  return { ok: false, reason, detail, normalized };
}
