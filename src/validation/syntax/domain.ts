/**
 * Domains: UTS #46 (tr46) for the two forms of an IDN, cached, and the LDH host name rules
 * on the A-label form.
 */
import { createRequire } from 'node:module';
import type * as Tr46 from 'tr46';
import { CH_DOT, CH_HYPHEN, isDigitsAndDots, LDH } from './chars.js';
import { MAX_DOMAIN_OCTETS, MAX_LABEL_OCTETS } from './result.js';

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

/**
 * tr46, loaded at the first domain that needs it: its mapping table is ~1 MB of heap that a
 * stream of plain LDH domains never touches.
 */
let tr46: typeof Tr46 | undefined;
const loadTr46 = (): typeof Tr46 => (tr46 ??= createRequire(import.meta.url)('tr46') as typeof Tr46);

/** The two forms of a domain, or the detail of why UTS #46 refuses it. */
export type IdnForms = { ascii: string; unicode: string } | { error: string };

/** UTS #46 is costly next to the rest of the scan and a few IDN domains carry most traffic. */
const idnCache = new Map<string, IdnForms>();
const IDN_CACHE_LIMIT = 10_000;

export function idnFormsCached(domain: string): IdnForms {
  let forms = idnCache.get(domain);
  if (forms === undefined) {
    forms = idnForms(domain);
    if (idnCache.size >= IDN_CACHE_LIMIT) idnCache.delete(idnCache.keys().next().value as string);
    idnCache.set(domain, forms);
  }
  return forms;
}

function idnForms(domain: string): IdnForms {
  const { toASCII, toUnicode } = loadTr46();
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
 * The LDH hostname rules on an ASCII domain: labels of 1–63 octets, no hyphen at either
 * end, at least two labels (RFC 5321 §2.3.5: only fully-qualified names), and a last label
 * that starts with a letter (every TLD does; `xn--` ones too). Without that rule
 * `user@1.2.3.4`, `u@127.0x1` or `u@169.0xfea9fe` would pass as host names, and a resolver
 * built on inet_aton reads them as 127.0.0.1 and 169.254.169.254.
 */
export function checkHostname(d: string): string | null {
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
