/**
 * Domain and local-part lists, all from maintained npm packages rather than typed by hand:
 * - disposable domains: the union of `mailchecker` and `disposable-email-domains-js`
 *   (each misses domains the other has). An entry covers its subdomains
 *   (`x.mailinator.com`) only where it names a whole zone: never where it is a public
 *   suffix, whose subdomains belong to unrelated registrants (`za.com`, `ddns.net`,
 *   `msk.ru`; the Public Suffix List via `tldts`);
 * - free providers: `email-providers` (all.json);
 * - role accounts: `role-based-email-addresses`;
 * - typo suggestions: against the common providers of `email-providers` (common.json),
 *   only for a domain no source knows as real (the providers, the Moz top-500 sites of
 *   `top-sites`, the Public Suffix List, the shipped relays and institutions);
 * - shipped with the package (known-domains.ts): privacy relays (flag `relay`, never
 *   disposable) and institutions the disposable lists carry by mistake.
 * A deployment's allow-list file overrides the disposable list (false positives happen),
 * and its deny-list file adds domains to treat as disposable.
 *
 * Facts about a domain are cached, so the hot path is one Map lookup per address.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as Tldts from 'tldts';
import { TOP_SITES } from './data/top-sites.js';
import { INSTITUTION_DOMAINS, RELAY_DOMAINS, SQUAT_SUFFIXES } from './known-domains.js';

const require = createRequire(import.meta.url);
// Required, not imported: an ES import of a CommonJS package keeps a second copy of its
// source text (tldts: 430 KB, two-byte) alive next to the compiled one.
const { parse: parseDomain } = require('tldts') as typeof Tldts;

export interface DomainFacts {
  disposable: boolean;
  /** The disposable verdict came from the deployment's deny-list file. */
  denied: boolean;
  free: boolean;
  /** A privacy relay (forwards to a real mailbox). */
  relay: boolean;
  /**
   * A common provider this domain is a typo of, e.g. gmial.com → gmail.com: only where
   * the shape alone says so (see `suggest`).
   */
  suggestion: string | null;
  /**
   * A weaker candidate (a one-edit neighbour of a provider with a short name, where real
   * domains are dense): shown only when DNS says the domain receives no mail.
   */
  weakSuggestion: string | null;
}

export interface ListSources {
  disposable: Iterable<string>;
  free: Iterable<string>;
  roles: Iterable<string>;
  /** Typo targets, most popular first (ties go to the earlier one). */
  typoTargets: Iterable<string>;
  /** Domains known to be real (never given a suggestion), e.g. top sites. */
  known?: Iterable<string>;
  /** Privacy relays (flag `relay`; never disposable). Default: the shipped list. */
  relays?: Iterable<string>;
  /** Institutions never disposable. Default: the shipped list. */
  institutions?: Iterable<string>;
  allow?: Iterable<string>;
  deny?: Iterable<string>;
}

export interface ListFiles {
  allowListFile?: string | undefined;
  denyListFile?: string | undefined;
}

const DOMAIN_CACHE_LIMIT = 50_000;

/** Shortest label a one-edit typo may have (shorter ones: ge.com, 3m.com, gm.com, op.pl are real). */
const MIN_TYPO_LABEL = 4;
/** Shortest target label for a suggestion without DNS evidence (aol, gmx, web: their neighbours are real). */
const MIN_STRONG_TARGET_LABEL = 5;

interface Target {
  domain: string;
  label: string;
  suffix: string;
}

export class EmailLists {
  private readonly disposable: Set<string>;
  private readonly free: Set<string>;
  private readonly roles: Set<string>;
  private readonly allow: Set<string>;
  /** Shipped relays and institutions: never disposable by a packaged list (a deny-list file still wins). */
  private readonly shippedAllow: Set<string>;
  private readonly deny: Set<string>;
  private readonly relays: Set<string>;
  private readonly known: Set<string>;
  private readonly typoTargetSet: Set<string>;
  /** Typo targets by public suffix and by label, in popularity order. */
  private readonly targetsBySuffix = new Map<string, Target[]>();
  private readonly targetsByLabel = new Map<string, Target[]>();
  private readonly facts = new Map<string, DomainFacts>();

  constructor(sources: ListSources) {
    this.disposable = lowerSet(sources.disposable);
    this.roles = lowerSet(sources.roles);
    this.relays = lowerSet(sources.relays ?? RELAY_DOMAINS);
    this.allow = lowerSet(sources.allow ?? []);
    // Relays and institutions are never disposable, whatever a packaged list says.
    this.shippedAllow = lowerSet([...(sources.institutions ?? INSTITUTION_DOMAINS), ...this.relays]);
    this.deny = lowerSet(sources.deny ?? []);
    // The free-provider list also carries typo-squatting domains (gmial.com) that the
    // disposable lists know better, and RFC 2606 names that no provider runs.
    const usable = (d: string) => !this.disposable.has(d) && !isReservedExampleDomain(d);
    this.free = new Set([...lowerSet(sources.free)].filter(usable));
    const targets = [...lowerSet(sources.typoTargets)].filter(usable);
    this.typoTargetSet = new Set(targets);
    for (const domain of targets) {
      const p = parseDomain(domain, { allowPrivateDomains: true });
      if (p.domain !== domain || p.publicSuffix === null) continue; // a suffix or a subdomain is no target
      const t: Target = { domain, label: domain.slice(0, -p.publicSuffix.length - 1), suffix: p.publicSuffix };
      pushTo(this.targetsBySuffix, t.suffix, t);
      pushTo(this.targetsByLabel, t.label, t);
    }
    this.known = lowerSet([...(sources.known ?? []), ...this.allow, ...this.shippedAllow, ...this.typoTargetSet]);
  }

  get sizes(): { disposable: number; free: number; roles: number; allow: number; deny: number; known: number } {
    return {
      disposable: this.disposable.size,
      free: this.free.size,
      roles: this.roles.size,
      allow: this.allow.size,
      deny: this.deny.size,
      known: this.known.size,
    };
  }

  /** Facts about an ASCII, lower-case domain (A-labels). */
  domainFacts(domain: string): DomainFacts {
    let f = this.facts.get(domain);
    if (f === undefined) {
      f = this.computeFacts(domain);
      // Bounded: a flood of random domains must not grow memory; dropping the oldest entry is enough.
      if (this.facts.size >= DOMAIN_CACHE_LIMIT) this.facts.delete(this.facts.keys().next().value as string);
      this.facts.set(domain, f);
    }
    return f;
  }

  /**
   * Whether the local part names a role (admin@, sales@) rather than a person. Sub-address
   * tags are ignored (`support+x` is `support`, RFC 5233).
   */
  isRole(local: string): boolean {
    let l = local;
    const plus = l.indexOf('+');
    if (plus > 0) l = l.slice(0, plus);
    if (this.roles.has(l)) return true;
    const lower = l.toLowerCase();
    return lower !== l && this.roles.has(lower);
  }

  private computeFacts(domain: string): DomainFacts {
    const allowed = matchesSuffix(this.allow, domain);
    const denied = !allowed && matchesSuffix(this.deny, domain);
    const disposable =
      denied || (!allowed && !matchesSuffix(this.shippedAllow, domain) && matchesZone(this.disposable, domain));
    const free = this.free.has(domain);
    const relay = matchesSuffix(this.relays, domain);
    let suggestion: string | null = null;
    let weakSuggestion: string | null = null;
    if (!relay && !this.known.has(domain) && !isReservedExampleDomain(domain)) {
      const s = this.suggest(domain);
      // A free provider is real unless the typo is a squat of a provider's name under a
      // neighbouring TLD (gmail.co): the lists carry those as providers too.
      if (s !== null && (!free || s.squat)) {
        if (s.strong) suggestion = s.target;
        else weakSuggestion = s.target;
      }
    }
    return { disposable, denied, free, relay, suggestion, weakSuggestion };
  }

  /**
   * The provider `domain` is a typo of, if its shape says so. Only registrable domains are
   * judged (a subdomain or a public suffix is somebody's on purpose), split into the label
   * and the public suffix:
   * - the provider's label under a TLD that does not exist (`gmail.con`, `yahoo.cmo`), or
   *   under a squatter's TLD one keystroke from the provider's (`gmail.co`, `hotmail.cm`);
   * - a label one edit from the provider's under the same suffix (`gmial.com`,
   *   `outlok.com`), if both are long enough that real domains are not one edit apart:
   *   labels of 4+ against targets of 5+ are strong; against shorter targets (`aoll.com`)
   *   weak, shown only with DNS evidence;
   * - both at once, where the TLD does not exist (`gmaill.con`).
   */
  private suggest(domain: string): { target: string; strong: boolean; squat: boolean } | null {
    const p = parseDomain(domain, { allowPrivateDomains: true });
    if (p.domain !== domain || p.publicSuffix === null) return this.suggestInSuffix(domain);
    const suffix = p.publicSuffix;
    const realSuffix = p.isIcann === true || p.isPrivate === true;
    const label = domain.slice(0, -suffix.length - 1);
    if (label.length < 2) return null;

    // The provider's own label under another suffix.
    for (const t of this.targetsByLabel.get(label) ?? []) {
      if (!realSuffix && boundedDamerau(suffix, t.suffix, 1) <= 1) {
        return { target: t.domain, strong: label.length >= 3, squat: true };
      }
      if (realSuffix && label.length >= 3 && SQUAT_SUFFIXES[t.suffix]?.includes(suffix)) {
        return { target: t.domain, strong: true, squat: true };
      }
    }
    if (label.length < MIN_TYPO_LABEL - 1) return null;
    // One edit in the label, same suffix (or a suffix that does not exist, one edit off).
    const candidates = realSuffix
      ? (this.targetsBySuffix.get(suffix) ?? [])
      : [...this.targetsBySuffix.entries()].filter(([s]) => boundedDamerau(suffix, s, 1) <= 1).flatMap(([, ts]) => ts);
    let weak: string | null = null;
    for (const t of candidates) {
      if (Math.abs(t.label.length - label.length) > 1) continue;
      if (boundedDamerau(label, t.label, 1) !== 1) continue;
      if (label.length >= MIN_TYPO_LABEL && t.label.length >= MIN_STRONG_TARGET_LABEL) {
        return { target: t.domain, strong: true, squat: false };
      }
      weak ??= t.domain;
    }
    return weak === null ? null : { target: weak, strong: false, squat: false };
  }

  /**
   * A provider's label followed by a one-edit slip in its suffix that makes the domain
   * look like a subdomain (`gmail.c.om`, `yahoo.co.uj`, `yahoo.cp.uk`), so `suggest`
   * cannot split it into label and suffix.
   */
  private suggestInSuffix(domain: string): { target: string; strong: boolean; squat: boolean } | null {
    const dot = domain.indexOf('.');
    if (dot < 3) return null;
    const rest = domain.slice(dot + 1);
    for (const t of this.targetsByLabel.get(domain.slice(0, dot)) ?? []) {
      if (boundedDamerau(rest, t.suffix, 1) === 1) {
        return { target: t.domain, strong: true, squat: true };
      }
    }
    return null;
  }
}

function pushTo<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list === undefined) m.set(k, [v]);
  else list.push(v);
}

/**
 * Whether `domain` is in `set`, or under an entry that names a whole zone: a parent that
 * is not itself a public suffix (subdomains of `za.com` or `ddns.net` belong to unrelated
 * registrants; those of `mailinator.com` to the disposable service).
 */
function matchesZone(set: Set<string>, domain: string): boolean {
  if (set.has(domain)) return true;
  let dot = domain.indexOf('.');
  while (dot >= 0) {
    const next = domain.indexOf('.', dot + 1);
    if (next < 0) return false;
    const parent = domain.slice(dot + 1);
    if (set.has(parent) && !isPublicSuffix(parent)) return true;
    dot = next;
  }
  return false;
}

function isPublicSuffix(domain: string): boolean {
  return parseDomain(domain, { allowPrivateDomains: true }).publicSuffix === domain;
}

/** RFC 2606 §2–3 names reserved for documentation and testing. */
function isReservedExampleDomain(d: string): boolean {
  return (
    d === 'example.com' ||
    d === 'example.net' ||
    d === 'example.org' ||
    d.endsWith('.example.com') ||
    d.endsWith('.example') ||
    d.endsWith('.test') ||
    d.endsWith('.invalid')
  );
}

/** Whether `domain` or one of its parent domains (not the bare TLD) is in `set`. */
function matchesSuffix(set: Set<string>, domain: string): boolean {
  if (set.size === 0) return false;
  if (set.has(domain)) return true;
  let dot = domain.indexOf('.');
  while (dot >= 0) {
    const next = domain.indexOf('.', dot + 1);
    if (next < 0) return false;
    if (set.has(domain.slice(dot + 1))) return true;
    dot = next;
  }
  return false;
}

/**
 * Optimal-string-alignment distance (Damerau–Levenshtein with adjacent transpositions,
 * the most common typing slip), giving up as soon as it must exceed `max`.
 */
export function boundedDamerau(a: string, b: string, max: number): number {
  const n = a.length;
  const m = b.length;
  if (Math.abs(n - m) > max) return max + 1;
  let prev2 = new Array<number>(m + 1).fill(0);
  let prev = new Array<number>(m + 1);
  let cur = new Array<number>(m + 1);
  for (let j = 0; j <= m; j++) prev[j] = j;
  for (let i = 1; i <= n; i++) {
    cur[0] = i;
    let rowMin = i;
    const ai = a.charCodeAt(i - 1);
    for (let j = 1; j <= m; j++) {
      const bj = b.charCodeAt(j - 1);
      const cost = ai === bj ? 0 : 1;
      let v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && ai === b.charCodeAt(j - 2) && a.charCodeAt(i - 2) === bj)
        v = Math.min(v, prev2[j - 2]! + 1);
      cur[j] = v;
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > max) return max + 1;
    const t = prev2;
    prev2 = prev;
    prev = cur;
    cur = t;
  }
  return prev[m]!;
}

function lowerSet(items: Iterable<string>): Set<string> {
  const out = new Set<string>();
  for (const it of items) {
    const v = it.trim().toLowerCase();
    if (v !== '') out.add(v);
  }
  return out;
}

/** One domain per line; blank lines and `#` comments ignored; a leading `@` or `*.` is tolerated. */
export function readDomainListFile(path: string): string[] {
  const out: string[] = [];
  for (const raw of readFileSync(path, 'utf8').split(/\r?\n/)) {
    let line = raw.replace(/#.*/, '').trim().toLowerCase();
    if (line.startsWith('*.')) line = line.slice(2);
    else if (line.startsWith('@')) line = line.slice(1);
    if (line !== '') out.push(line);
  }
  return out;
}

/**
 * The packaged lists (about 65,000 domains), read as data each time they are asked for:
 * nothing of them stays in memory but the EmailLists built from them. A package's list is
 * not `require`d where reading it will do: a required module stays loaded, its exports
 * (and mailchecker's own Set of its 56,000 domains) with it, and mailchecker's 1 MB of
 * source text too, kept by V8 for the module's functions.
 */
export function packagedListSources(): Omit<ListSources, 'allow' | 'deny'> {
  const dedJs = readJson<string[]>('disposable-email-domains-js/dist/dict/disposable_email_blocklist.json');
  return {
    disposable: [...mailcheckerDomains(), ...dedJs],
    free: readJson<string[]>('email-providers/all.json'),
    // A small module (15 KB): loaded as one.
    roles: require('role-based-email-addresses') as string[],
    typoTargets: readJson<string[]>('email-providers/common.json'),
    // Moz's top 500 as registrable domains (www.google.com → google.com), shipped as a
    // generated copy (src/validation/data/top-sites.ts).
    known: TOP_SITES,
  };
}

function readJson<T>(specifier: string): T {
  return JSON.parse(readFileSync(require.resolve(specifier), 'utf8')) as T;
}

/**
 * mailchecker's list: the array literal its module builds its Set from (`new Set([...])`,
 * JSON), read as text. Should a release write it otherwise, the module itself is loaded
 * (test/validation/lists.test.ts checks both give the same domains).
 */
export function mailcheckerDomains(source?: string): string[] {
  const text = source ?? readFileSync(require.resolve('mailchecker'), 'utf8');
  const open = text.indexOf('new Set([');
  const close = open < 0 ? -1 : text.indexOf(']);', open);
  if (close > 0) {
    try {
      const list: unknown = JSON.parse(text.slice(open + 8, close + 1));
      if (Array.isArray(list) && list.length > 0 && list.every((d) => typeof d === 'string')) return list;
    } catch {
      // not JSON: fall through to the module
    }
  }
  return [...(require('mailchecker') as { blacklist(): Set<string> }).blacklist()];
}

/** The packaged lists plus the deployment's allow/deny files. */
export function loadEmailLists(files: ListFiles = {}): EmailLists {
  const base = packagedListSources();
  return new EmailLists({
    ...base,
    allow: files.allowListFile ? readDomainListFile(files.allowListFile) : [],
    deny: files.denyListFile ? readDomainListFile(files.denyListFile) : [],
  });
}
