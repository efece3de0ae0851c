/**
 * Dominic Sayers' is_email test set (test/fixtures/isemail, BSD 3-Clause) against our
 * syntax policy: RFC 5321 envelope addresses are accepted, everything RFC 5322 allows
 * beyond them (comments, folding white space, obsolete forms, general domain literals) is
 * refused, as is every error. Where we differ from is_email the vector is listed below with
 * the policy that decides it; the README's "Syntax policy" section lists the same ones.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAddress } from '../../src/validation/syntax.js';

interface IsEmailVector {
  id: string;
  address: string;
  category: string;
  diagnosis: string;
}

function decodeXmlText(t: string): string {
  return (
    t
      .replace(/&#x([0-9a-fA-F]+);/g, (_m, h: string) => String.fromCodePoint(Number.parseInt(h, 16)))
      .replace(/&#(\d+);/g, (_m, d: string) => String.fromCodePoint(Number(d)))
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&apos;/g, "'")
      .replace(/&amp;/g, '&')
      // The set's note 1: U+2400 + n stands for the ASCII control n (XML cannot hold NUL).
      .replace(/[\u2400-\u241f]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0x2400))
  );
}

function loadVectors(): IsEmailVector[] {
  const xml = readFileSync(fileURLToPath(new URL('../fixtures/isemail/tests.xml', import.meta.url)), 'utf8');
  const out: IsEmailVector[] = [];
  for (const m of xml.matchAll(/<test id="(\d+)">([\s\S]*?)<\/test>/g)) {
    const body = m[2]!;
    const address = /<address>([\s\S]*?)<\/address>/.exec(body)?.[1] ?? '';
    out.push({
      id: m[1]!,
      address: decodeXmlText(address),
      category: /<category>(\w+)<\/category>/.exec(body)![1]!,
      diagnosis: /<diagnosis>(\w+)<\/diagnosis>/.exec(body)![1]!,
    });
  }
  return out;
}

/** Categories whose addresses an SMTP server takes in RCPT TO (is_email: valid, maybe with a warning). */
const ACCEPTED_CATEGORIES = new Set(['ISEMAIL_VALID_CATEGORY', 'ISEMAIL_DNSWARN', 'ISEMAIL_RFC5321']);

/** Every vector where our outcome differs from is_email's category, with what we say and why. */
const DEVIATIONS: Record<string, { ours: string; why: string }> = {
  '5': {
    ours: 'domain_not_fully_qualified',
    why: 'a bare TLD (`test@io`): RFC 5321 §2.3.5 wants fully-qualified names',
  },
  '166': { ours: 'domain_not_fully_qualified', why: 'a bare TLD (`test@org`), as #5' },
  '23': { ours: 'tld_numeric', why: 'an all-digit last label (`iana.123`) is no TLD (RFC 3696 §2)' },
  '24': {
    ours: 'tld_numeric',
    why: '`test@255.255.255.255`: an IPv4 address outside brackets; inet_aton would make it a host',
  },
  '157': { ours: 'ok', why: 'white space at the ends is trimmed (pasted input), not read as folding white space' },
  '158': { ours: 'ok', why: 'as #157, trailing' },
};

function outcome(address: string): string {
  const r = parseAddress(address);
  return r.ok ? 'ok' : r.detail;
}

const vectors = loadVectors();

describe('isemail test vectors (Dominic Sayers, BSD 3-Clause)', () => {
  it('reads the whole set', () => {
    expect(vectors.length).toBe(164);
  });

  it.each(vectors)('#$id $diagnosis', (v) => {
    const ours = outcome(v.address);
    const deviation = DEVIATIONS[v.id];
    if (deviation !== undefined) {
      expect(ours, deviation.why).toBe(deviation.ours);
      return;
    }
    if (ACCEPTED_CATEGORIES.has(v.category)) {
      expect(ours, JSON.stringify(v.address)).toBe('ok');
    } else {
      expect(ours, JSON.stringify(v.address)).not.toBe('ok');
    }
    // An error in is_email is not an RFC 5322 form: the detail must not say it is one.
    if (v.category === 'ISEMAIL_ERR') expect(ours).not.toMatch(/^rfc5322_only:/);
  });

  it('the README lists every deviation kept, and no other vector', () => {
    const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
    const start = readme.indexOf('### Syntax policy and the isemail test set');
    expect(start).toBeGreaterThan(0);
    const section = readme.slice(start, readme.indexOf('\n#', start + 10));
    const listed = [...section.matchAll(/#(\d+) `/g)].map((m) => m[1]!);
    expect(listed.sort()).toEqual(Object.keys(DEVIATIONS).sort());
  });

  it('lists exactly the vectors that differ', () => {
    const differing = vectors
      .filter((v) => (outcome(v.address) === 'ok') !== ACCEPTED_CATEGORIES.has(v.category))
      .map((v) => v.id);
    expect(differing.sort()).toEqual(Object.keys(DEVIATIONS).sort());
  });
});
