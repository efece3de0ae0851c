import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { INSTITUTION_DOMAINS, RELAY_DOMAINS } from '../../src/validation/known-domains.js';
import {
  boundedDamerau,
  EmailLists,
  loadEmailLists,
  mailcheckerDomains,
  packagedListSources,
  readDomainListFile,
} from '../../src/validation/lists.js';

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

describe('packaged list sources', () => {
  const moduleList = () => [
    ...(createRequire(import.meta.url)('mailchecker') as { blacklist(): Set<string> }).blacklist(),
  ];

  it("reads mailchecker's domains from its source text, the same as its module's Set", () => {
    const read = mailcheckerDomains();
    expect(read.length).toBeGreaterThan(50_000);
    expect(read).toEqual(moduleList());
  });

  it('falls back to the module when the source holds no list literal', () => {
    expect(mailcheckerDomains('module.exports = { blacklist: () => loadedElsewhere };')).toEqual(moduleList());
    expect(mailcheckerDomains('var blacklist = new Set(["a.example", oops]);')).toEqual(moduleList());
  });

  it('gives both disposable packages, the providers and the roles', () => {
    const sources = packagedListSources();
    const disposable = new Set(sources.disposable);
    expect(disposable.has('mailinator.com')).toBe(true);
    // In disposable-email-domains-js, not in mailchecker.
    const dedJs = createRequire(import.meta.url)(
      'disposable-email-domains-js/dist/dict/disposable_email_blocklist.json',
    ) as string[];
    expect(dedJs.every((d) => disposable.has(d))).toBe(true);
    expect([...sources.free]).toContain('gmail.com');
    expect([...sources.typoTargets]).toContain('hotmail.com');
    expect([...sources.roles]).toContain('admin');
  });
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

describe('disposable zones, relays and institutions (issue 16)', () => {
  const lists = loadEmailLists();

  it.each(['za.com', 'ddns.net', 'msk.ru', 'pp.ua'])(
    'an entry that is a public suffix (%s) does not cover its subdomains',
    (suffix) => {
      expect(lists.domainFacts(`some-shop.${suffix}`).disposable).toBe(false);
      expect(lists.domainFacts(`a.b.${suffix}`).disposable).toBe(false);
    },
  );

  it('an entry that names a whole zone still covers its subdomains', () => {
    expect(lists.domainFacts('inbox.mailinator.com').disposable).toBe(true);
    expect(lists.domainFacts('a.b.guerrillamail.com').disposable).toBe(true);
  });

  it.each(INSTITUTION_DOMAINS)('shipped institution %s is never disposable, nor its subdomains', (domain) => {
    expect(lists.domainFacts(domain).disposable).toBe(false);
    expect(lists.domainFacts(`dept.${domain}`).disposable).toBe(false);
  });

  it('the institutions are there because a disposable list carries them (each entry earns its place)', () => {
    const bare = new EmailLists({ ...packagedListSources(), institutions: [], relays: [] });
    for (const domain of INSTITUTION_DOMAINS) expect(bare.domainFacts(domain).disposable, domain).toBe(true);
  });

  it.each(RELAY_DOMAINS)('relay %s: flag relay, not disposable, no suggestion; subdomains too', (domain) => {
    for (const d of [domain, `alias.${domain}`]) {
      expect(lists.domainFacts(d)).toMatchObject({ relay: true, disposable: false, suggestion: null });
    }
  });

  it("a deployment's deny list still wins over a shipped relay (a site may refuse relays)", () => {
    const custom = new EmailLists({ ...packagedListSources(), deny: ['duck.com'] });
    expect(custom.domainFacts('duck.com')).toMatchObject({ disposable: true, denied: true, relay: true });
    expect(custom.domainFacts('mozmail.com')).toMatchObject({ disposable: false, relay: true });
  });
});

describe('typo suggestions only for domains not known as real (issue 16)', () => {
  const lists = loadEmailLists();

  it.each(['ge.com', '3m.com', 'gm.com', 'fastmail.com', 'op.pl', 'mail.ee', 'gmx.at', 'yahoo.fr', 'email.com'])(
    'suggests nothing for the real domain %s',
    (domain) => {
      expect(lists.domainFacts(domain)).toMatchObject({ suggestion: null, weakSuggestion: null });
    },
  );

  it.each([
    ['gmail.co', 'gmail.com'],
    ['hotmail.cm', 'hotmail.com'],
    ['yahoo.om', 'yahoo.com'],
    ['comcast.ne', 'comcast.net'],
    ['gmail.c.om', 'gmail.com'],
    ['yahoo.co.uj', 'yahoo.co.uk'],
  ])('a provider under a squatter TLD or a slipped suffix: %s → %s', (typo, fix) => {
    expect(lists.domainFacts(typo).suggestion).toBe(fix);
  });

  it('a one-edit neighbour of a short provider name is only a weak candidate (needs DNS evidence)', () => {
    expect(lists.domainFacts('aoll.com')).toMatchObject({ suggestion: null, weakSuggestion: 'aol.com' });
    expect(lists.domainFacts('gnx.de')).toMatchObject({ suggestion: null, weakSuggestion: 'gmx.de' });
  });

  it('a subdomain or a public suffix is never a typo', () => {
    expect(lists.domainFacts('mail.gmial.com').suggestion).toBeNull();
    expect(lists.domainFacts('blogspot.com').suggestion).toBeNull();
  });

  it('a top-500 site is known as real', () => {
    const withoutTop = new EmailLists({ ...packagedListSources(), known: [] });
    // wikipedia.org is no typo target; the point is that `known` suppresses: give it a target next door.
    const probe = new EmailLists({
      disposable: [],
      free: [],
      roles: [],
      typoTargets: ['wikipedia.com'],
      known: ['wikipedla.com'],
    });
    expect(probe.domainFacts('wikipedla.com').suggestion).toBeNull();
    expect(probe.domainFacts('wikipedai.com').suggestion).toBe('wikipedia.com');
    expect(withoutTop.sizes.known).toBeLessThan(lists.sizes.known);
  });
});
