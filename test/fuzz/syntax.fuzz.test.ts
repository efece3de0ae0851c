/**
 * Property-based tests of the address syntax checker: no input makes it throw, and whatever
 * it accepts respects the RFC 5321 length limits in octets, is a fixed point of its own
 * normalization, and is a domain DNS can be asked about.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_ADDRESS_OCTETS,
  MAX_DOMAIN_OCTETS,
  MAX_LABEL_OCTETS,
  MAX_LOCAL_OCTETS,
  parseAddress,
  type SyntaxResult,
} from '../../src/validation/syntax.js';

const RUNS = Number(process.env.FC_RUNS ?? 300);

const octets = (s: string) => Buffer.byteLength(s, 'utf8');

/** Any UTF-16 code unit, lone surrogates included, weighted towards what the scanner branches on. */
const anyUnit = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('a', 'Z', '9', '-', '_', '+', '.', '@', '"', '\\', '[', ']', ':', ' ') },
  { weight: 2, arbitrary: fc.constantFrom('(', ')', '<', '>', ',', ';', '\t', '\r', '\n', '\u00a0', '\u0000') },
  { weight: 2, arbitrary: fc.constantFrom('é', 'ß', 'ü', '日', '本', 'İ', 'ﬁ', 'Ⅸ', '\u0301', '\u200d', '。', '．') },
  { weight: 1, arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: fc.constantFrom('😀', '𝔸', '🇩🇪') },
);

/** Pieces that make long, nearly valid addresses likely: the limits are where the bugs live. */
const cleanUnit = fc.constantFrom('a', 'b', 'x', '0', '7', '_', '+', '-');
/** Lengths drawn uniformly: fast-check's default sizes stay far below 64 octets. */
const exactly = (unit: fc.Arbitrary<string>, min: number, max: number) =>
  fc.integer({ min, max }).chain((n) => fc.string({ unit, minLength: n, maxLength: n }));
const atom = fc.oneof(
  { weight: 6, arbitrary: exactly(cleanUnit, 1, 66) },
  { weight: 2, arbitrary: exactly(fc.constantFrom('é', 'ü', '日', '😀', 'a'), 1, 34) },
  { weight: 1, arbitrary: fc.string({ unit: anyUnit, minLength: 1, maxLength: 10 }) },
);
const ldhLabel = fc
  .tuple(
    fc.constantFrom('a', 'q', '0'),
    exactly(fc.constantFrom('a', 'z', '0', '-'), 0, 63),
    fc.constantFrom('a', 'z', '9'),
  )
  .map(([a, b, c]) => `${a}${b}${c}`);
const label = fc.oneof(
  { weight: 6, arbitrary: ldhLabel },
  {
    weight: 1,
    arbitrary: fc.constantFrom('xn--bcher-kva', 'xn--', 'xn--zz', 'bücher', 'ＥＸＡＭＰＬＥ', '日本', '123'),
  },
  { weight: 1, arbitrary: fc.string({ unit: anyUnit, minLength: 1, maxLength: 8 }) },
);
const local = fc.oneof(
  { weight: 4, arbitrary: fc.array(atom, { minLength: 1, maxLength: 3 }).map((a) => a.join('.')) },
  { weight: 1, arbitrary: fc.string({ unit: anyUnit, maxLength: 70 }).map((s) => `"${s}"`) },
);
const domain = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .tuple(fc.array(label, { minLength: 1, maxLength: 5 }), fc.constantFrom('com', 'de', 'xn--p1ai', '日本', 'a1'))
      .map(([labels, tld]) => [...labels, tld].join('.')),
  },
  {
    weight: 1,
    arbitrary: fc
      .oneof(
        fc.ipV4(),
        fc.ipV6().map((ip) => `IPv6:${ip}`),
        fc.string({ unit: anyUnit }),
      )
      .map((s) => `[${s}]`),
  },
);
const structured = fc
  .tuple(
    fc.constantFrom('', '', '', ' ', '\t', '\n'),
    local,
    fc.constantFrom('@', '@', '@', '@', '@', '@@', ''),
    domain,
    fc.constantFrom('', '', '', ' ', '.'),
  )
  .map((parts) => parts.join(''));

function checkAccepted(input: string, r: SyntaxResult): void {
  if (!r.ok) {
    expect(['invalid_syntax', 'invalid_domain']).toContain(r.reason);
    expect(r.detail.length).toBeGreaterThan(0);
    return;
  }
  expect(r.normalized).toBe(`${r.local}@${r.domain}`);
  // RFC 5321 §4.5.3.1: the limits are in octets of what goes on the wire.
  expect(octets(r.local), input).toBeLessThanOrEqual(MAX_LOCAL_OCTETS);
  expect(octets(r.asciiDomain), input).toBeLessThanOrEqual(MAX_DOMAIN_OCTETS);
  expect(octets(r.local) + 1 + octets(r.asciiDomain), input).toBeLessThanOrEqual(MAX_ADDRESS_OCTETS);
  // What SMTP and DNS will be given has to be encodable: no lone surrogates anywhere.
  expect(Buffer.from(r.normalized, 'utf8').toString('utf8'), input).toBe(r.normalized);
  // The DNS form is ASCII, with labels DNS can carry.
  expect(/^[\x21-\x7e]+$/.test(r.asciiDomain), r.asciiDomain).toBe(true);
  if (!r.addressLiteral) {
    for (const l of r.asciiDomain.split('.')) {
      expect(l.length).toBeGreaterThan(0);
      expect(l.length).toBeLessThanOrEqual(MAX_LABEL_OCTETS);
    }
  }
  expect(r.smtputf8).toBe([...r.local].some((ch) => ch.charCodeAt(0) >= 0x80));
  // Normalizing is idempotent: the normalized form parses to itself.
  const again = parseAddress(r.normalized);
  expect(again.ok, r.normalized).toBe(true);
  if (again.ok) expect(again.normalized).toBe(r.normalized);
}

describe('parseAddress under arbitrary input (fast-check)', () => {
  it('never throws on arbitrary UTF-16 strings, lone surrogates included', () => {
    fc.assert(
      fc.property(fc.string({ unit: anyUnit, maxLength: 300 }), (s) => checkAccepted(s, parseAddress(s))),
      { numRuns: RUNS * 3 },
    );
  });

  it('accepts only addresses within the RFC 5321 octet limits, near and past them', () => {
    fc.assert(
      fc.property(structured, (s) => checkAccepted(s, parseAddress(s))),
      { numRuns: RUNS * 3 },
    );
  });

  it('accepts what fast-check considers a valid address, within the limits', () => {
    fc.assert(
      fc.property(fc.emailAddress(), (s) => {
        const r = parseAddress(s);
        checkAccepted(s, r);
        // fast-check generates RFC 5322 dot-atoms with LDH domains, all valid for SMTP, but
        // its lengths go past RFC 5321's, its TLDs may be numeric or single-label-free, and its
        // labels may have hyphens in the third and fourth places (`ab--c`), which UTS #46
        // CheckHyphens reserves (RFC 5891 §4.2.3.1): refused as label_reserved_hyphens.
        if (octets(s) <= MAX_ADDRESS_OCTETS && octets(s.slice(0, s.lastIndexOf('@'))) <= MAX_LOCAL_OCTETS) {
          const tld = s.slice(s.lastIndexOf('.') + 1);
          const reservedHyphens = /(^|\.)[^.]{2}--/.test(s.slice(s.lastIndexOf('@') + 1));
          if (!/^\d+$/.test(tld) && !reservedHyphens) expect(r.ok, s).toBe(true);
        }
      }),
      { numRuns: RUNS },
    );
  });
});
