/**
 * Domain and local-part lists, all from maintained npm packages rather than typed by hand:
 * - disposable domains: the union of `mailchecker` and `disposable-email-domains-js`
 *   (each misses domains the other has), matched on the domain and every parent domain,
 *   so `x.mailinator.com` counts as `mailinator.com`;
 * - free providers: `email-providers` (all.json);
 * - role accounts: `role-based-email-addresses`;
 * - typo suggestions: against the common providers of `email-providers` (common.json).
 * A deployment's allow-list file overrides the disposable list (false positives happen),
 * and its deny-list file adds domains to treat as disposable.
 *
 * Facts about a domain are cached, so the hot path is one Map lookup per address.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export interface DomainFacts {
  disposable: boolean;
  /** The disposable verdict came from the deployment's deny-list file. */
  denied: boolean;
  free: boolean;
  /** A common provider this domain is one or two typos away from, e.g. gmial.com → gmail.com. */
  suggestion: string | null;
}

export interface ListSources {
  disposable: Iterable<string>;
  free: Iterable<string>;
  roles: Iterable<string>;
  /** Typo targets, most popular first (ties go to the earlier one). */
  typoTargets: Iterable<string>;
  allow?: Iterable<string>;
  deny?: Iterable<string>;
}

export interface ListFiles {
  allowListFile?: string | undefined;
  denyListFile?: string | undefined;
}

const DOMAIN_CACHE_LIMIT = 50_000;

export class EmailLists {
  private readonly disposable: Set<string>;
  private readonly free: Set<string>;
  private readonly roles: Set<string>;
  private readonly allow: Set<string>;
  private readonly deny: Set<string>;
  private readonly typoTargets: string[];
  private readonly typoTargetSet: Set<string>;
  private readonly facts = new Map<string, DomainFacts>();

  constructor(sources: ListSources) {
    this.disposable = lowerSet(sources.disposable);
    this.roles = lowerSet(sources.roles);
    this.allow = lowerSet(sources.allow ?? []);
    this.deny = lowerSet(sources.deny ?? []);
    // The free-provider list also carries typo-squatting domains (gmial.com) that the
    // disposable lists know better, and RFC 2606 names that no provider runs.
    const usable = (d: string) => !this.disposable.has(d) && !isReservedExampleDomain(d);
    this.free = new Set([...lowerSet(sources.free)].filter(usable));
    this.typoTargets = [...lowerSet(sources.typoTargets)].filter(usable);
    this.typoTargetSet = new Set(this.typoTargets);
  }

  get sizes(): { disposable: number; free: number; roles: number; allow: number; deny: number } {
    return {
      disposable: this.disposable.size,
      free: this.free.size,
      roles: this.roles.size,
      allow: this.allow.size,
      deny: this.deny.size,
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
    const disposable = denied || (!allowed && matchesSuffix(this.disposable, domain));
    const free = this.free.has(domain);
    // Disposable domains still get a suggestion: many are registered typos of big providers.
    const known = allowed || free || this.typoTargetSet.has(domain) || isReservedExampleDomain(domain);
    return { disposable, denied, free, suggestion: known ? null : this.suggest(domain, disposable) };
  }

  private suggest(domain: string, disposable: boolean): string | null {
    // One edit for short names, two for longer ones: short domains are dense, so two
    // edits would map real domains onto popular ones. A disposable domain gets one edit at
    // most: typo-squats (gmial.com) are one edit away, while two would turn real disposable
    // services into suggestions (yopmail.com → hotmail.com).
    const limit = !disposable && domain.length >= 10 ? 2 : 1;
    let best: string | null = null;
    let bestDistance = limit + 1;
    for (const target of this.typoTargets) {
      if (Math.abs(target.length - domain.length) >= bestDistance) continue;
      const d = boundedDamerau(domain, target, bestDistance - 1);
      if (d < bestDistance && d > 0) {
        best = target;
        bestDistance = d;
        if (d === 1) break;
      }
    }
    return best;
  }
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

/** The packaged lists, loaded once per process (about 60,000 domains). */
let packaged: Omit<ListSources, 'allow' | 'deny'> | undefined;

export function packagedListSources(): Omit<ListSources, 'allow' | 'deny'> {
  if (packaged === undefined) {
    const mailchecker = require('mailchecker') as { blacklist(): Set<string> };
    const dedJs = require('disposable-email-domains-js') as { disposableEmailBlocklistSet(): Set<string> };
    const roles = require('role-based-email-addresses') as string[];
    const free = require('email-providers/all.json') as string[];
    const common = require('email-providers/common.json') as string[];
    packaged = {
      disposable: new Set([...mailchecker.blacklist(), ...dedJs.disposableEmailBlocklistSet()]),
      free,
      roles,
      typoTargets: common,
    };
  }
  return packaged;
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
