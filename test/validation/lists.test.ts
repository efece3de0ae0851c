import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { boundedDamerau, EmailLists, loadEmailLists, readDomainListFile } from '../../src/validation/lists.js';

describe('packaged lists', () => {
  const lists = loadEmailLists();

  it('loads the union of both disposable packages and the other lists', () => {
    const sizes = lists.sizes;
    // mailchecker alone has ~56k and disposable-email-domains-js ~9k; the union is larger than either.
    expect(sizes.disposable).toBeGreaterThan(56_000);
    expect(sizes.free).toBeGreaterThan(1_000);
    expect(sizes.roles).toBeGreaterThan(100);
  });

  it('flags disposable domains, including their subdomains', () => {
    expect(lists.domainFacts('mailinator.com').disposable).toBe(true);
    expect(lists.domainFacts('inbox.mailinator.com').disposable).toBe(true);
    expect(lists.domainFacts('10minutemail.com').disposable).toBe(true);
    expect(lists.domainFacts('gmail.com').disposable).toBe(false);
    expect(lists.domainFacts('com').disposable).toBe(false);
  });

  it('flags free providers', () => {
    expect(lists.domainFacts('gmail.com').free).toBe(true);
    expect(lists.domainFacts('yahoo.com').free).toBe(true);
    expect(lists.domainFacts('example-corp-internal.com').free).toBe(false);
  });

  it('flags role accounts, ignoring case and sub-address tags', () => {
    expect(lists.isRole('admin')).toBe(true);
    expect(lists.isRole('Support')).toBe(true);
    expect(lists.isRole('sales+eu')).toBe(true);
    expect(lists.isRole('jane.doe')).toBe(false);
  });

  it.each([
    ['gmial.com', 'gmail.com'],
    ['gmail.con', 'gmail.com'],
    ['hotmial.com', 'hotmail.com'],
    ['yaho.com', 'yahoo.com'],
    ['outlok.com', 'outlook.com'],
    ['gmaill.con', 'gmail.com'],
  ])('suggests %s → %s', (typo, fix) => {
    expect(lists.domainFacts(typo).suggestion).toBe(fix);
  });

  it('still suggests for a typo domain that is also disposable (typo-squatting)', () => {
    expect(lists.domainFacts('gmial.com')).toMatchObject({ disposable: true, suggestion: 'gmail.com' });
  });

  it('does not treat RFC 2606 names or typo-squatting domains as free providers', () => {
    expect(lists.domainFacts('example.com').free).toBe(false);
    expect(lists.domainFacts('gmial.com').free).toBe(false);
  });

  it.each(['gmail.com', 'ymail.com', 'example-corp-internal.com', 'mailinator.com', 'protonmail.com', 'example.com'])(
    'suggests nothing for %s',
    (domain) => {
      expect(lists.domainFacts(domain).suggestion).toBeNull();
    },
  );
});

describe('allow and deny files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'efv-lists-'));
  const allow = join(dir, 'allow.txt');
  const deny = join(dir, 'deny.txt');
  writeFileSync(allow, '# ours, not disposable\nmailinator.com\n\n');
  writeFileSync(deny, '@competitor.example\n*.throwaway.test  # and every subdomain\n');

  it('reads one domain per line with comments', () => {
    expect(readDomainListFile(deny)).toEqual(['competitor.example', 'throwaway.test']);
  });

  it('allow overrides the packaged list; deny adds to it, with subdomains', () => {
    const lists = loadEmailLists({ allowListFile: allow, denyListFile: deny });
    expect(lists.domainFacts('mailinator.com').disposable).toBe(false);
    expect(lists.domainFacts('x.mailinator.com').disposable).toBe(false);
    expect(lists.domainFacts('competitor.example')).toMatchObject({ disposable: true, denied: true });
    expect(lists.domainFacts('a.b.throwaway.test')).toMatchObject({ disposable: true, denied: true });
    expect(lists.domainFacts('guerrillamail.com')).toMatchObject({ disposable: true, denied: false });
  });
});

describe('EmailLists with given sources', () => {
  it('never suggests a disposable domain', () => {
    const lists = new EmailLists({
      disposable: ['gmali.com'],
      free: [],
      roles: [],
      typoTargets: ['gmali.com', 'gmail.com'],
    });
    expect(lists.domainFacts('gmaili.com').suggestion).toBe('gmail.com');
  });
});

describe('boundedDamerau', () => {
  it.each([
    ['gmail.com', 'gmail.com', 0],
    ['gmial.com', 'gmail.com', 1],
    ['gmai.com', 'gmail.com', 1],
    ['gmaill.com', 'gmail.com', 1],
    ['gnail.com', 'gmail.com', 1],
    ['gnial.com', 'gmail.com', 2],
  ])('%s ↔ %s = %i', (a, b, d) => {
    expect(boundedDamerau(a, b, 3)).toBe(d);
  });

  it('gives up past the bound', () => {
    expect(boundedDamerau('abcdef', 'uvwxyz', 2)).toBe(3);
  });
});

describe('typo suggestions for disposable domains', () => {
  const lists = loadEmailLists();
  it('suggests for a one-edit typo-squat but not for a real disposable service two edits from a provider', () => {
    expect(lists.domainFacts('gmial.com').suggestion).toBe('gmail.com');
    const yop = lists.domainFacts('yopmail.com');
    expect(yop.disposable).toBe(true);
    expect(yop.suggestion).toBeNull();
  });
});
