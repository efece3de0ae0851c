/**
 * Where mail for a domain goes, per RFC 5321 §5.1:
 * - MX records → those hosts, best preference first;
 * - a single MX of "." → the domain accepts no mail (null MX, RFC 7505);
 * - no MX but A/AAAA → the domain itself (implicit MX);
 * - neither → no mail host; NXDOMAIN → the domain does not exist.
 * SERVFAIL, REFUSED and timeouts are transient and say nothing about the domain.
 *
 * Answers are cached per domain for their TTL (negative answers for the SOA minimum,
 * RFC 2308 §5), and concurrent lookups of one domain share one query (single-flight), so
 * a burst of sign-ups from one company costs one lookup.
 */
import { getServers } from 'node:dns';
import type { Answer } from 'dns-packet';
import type { ValidationOptions } from '../config.js';
import {
  type DnsResponse,
  type DnsServer,
  DnsTransport,
  DnsTransportError,
  parseDnsServer,
  type RecordType,
} from './dns-transport.js';
import { isProbeableHost } from './probe/address.js';

export interface MxHost {
  exchange: string;
  preference: number;
}

export type MxLookup =
  | { kind: 'mx'; hosts: MxHost[] }
  | { kind: 'implicit_mx'; hosts: MxHost[] }
  | { kind: 'null_mx' }
  | { kind: 'no_mx' }
  | { kind: 'nxdomain' }
  /** Transient: the caller must report unknown, never undeliverable. Not cached. */
  | { kind: 'unavailable'; detail: string };

/** The addresses of one MX host, for the SMTP probe (which connects to them, never to the name). */
export type HostLookup =
  | { kind: 'addresses'; v4: string[]; v6: string[] }
  /** NOERROR without address records, or NXDOMAIN. */
  | { kind: 'none' }
  /** Transient. Not cached. */
  | { kind: 'unavailable'; detail: string };

export interface MxResolverOptions {
  servers: DnsServer[];
  timeoutMs: number;
  tries: number;
  /** Upper bound on any TTL we honour, in seconds. */
  maxTtlSeconds: number;
  /** Lower bound, so TTL-0 records do not cost a query per event. */
  minTtlSeconds: number;
  /** Upper bound on negative caching (NXDOMAIN, no MX), in seconds. */
  maxNegativeTtlSeconds: number;
  cacheSize: number;
  /** Milliseconds clock; injectable so tests can expire entries without sleeping. */
  now?: () => number;
}

interface CacheEntry {
  value: MxLookup;
  expiresAt: number;
}

/** Cache counters since start, for the metrics (hit ratio) — never per domain. */
export interface MxCacheStats {
  /** Answers served from the cache. */
  hits: number;
  /** Lookups the cache could not answer (a query was sent, or joined one in flight). */
  misses: number;
  /** Domains cached now. */
  size: number;
}

export class MxResolver {
  private readonly transport: DnsTransport;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inflight = new Map<string, Promise<MxLookup>>();
  private readonly hostCache = new Map<string, { value: HostLookup; expiresAt: number }>();
  private readonly hostInflight = new Map<string, Promise<HostLookup>>();
  private readonly now: () => number;
  private hits = 0;
  private misses = 0;

  constructor(private readonly options: MxResolverOptions) {
    this.transport = new DnsTransport(options);
    this.now = options.now ?? Date.now;
  }

  /** A cached answer that has not expired, without any I/O (the hot path). */
  cached(domain: string): MxLookup | undefined {
    const hit = this.cache.get(domain);
    if (hit === undefined) return undefined;
    if (hit.expiresAt > this.now()) {
      this.hits++;
      return hit.value;
    }
    this.cache.delete(domain);
    return undefined;
  }

  /**
   * Resolves an ASCII (A-label) domain. An aborted signal ends this caller's wait only: the
   * shared query goes on for the others and still fills the cache.
   */
  resolveMx(domain: string, signal?: AbortSignal): Promise<MxLookup> {
    const hit = this.cached(domain);
    if (hit !== undefined) return Promise.resolve(hit);
    // Counted here, not in cached(): the validator asks cached() first and then resolveMx(),
    // and one lookup must count as one miss.
    this.misses++;
    let pending = this.inflight.get(domain);
    if (pending === undefined) {
      pending = this.lookup(domain).finally(() => this.inflight.delete(domain));
      this.inflight.set(domain, pending);
    }
    return signal === undefined ? pending : raceAbort(pending, signal);
  }

  /**
   * A and AAAA records of an MX host, cached for their TTL like MX answers, one query per
   * name in flight. The probe resolves each host once here and connects to what it got.
   */
  resolveHost(host: string, signal?: AbortSignal): Promise<HostLookup> {
    const hit = this.hostCache.get(host);
    if (hit !== undefined) {
      if (hit.expiresAt > this.now()) return Promise.resolve(hit.value);
      this.hostCache.delete(host);
    }
    let pending = this.hostInflight.get(host);
    if (pending === undefined) {
      pending = this.lookupHost(host).finally(() => this.hostInflight.delete(host));
      this.hostInflight.set(host, pending);
    }
    return signal === undefined ? pending : raceAbort(pending, signal);
  }

  private async lookupHost(host: string): Promise<HostLookup> {
    const [a, aaaa] = await Promise.all([this.ask(host, 'A'), this.ask(host, 'AAAA')]);
    const v4: string[] = [];
    const v6: string[] = [];
    const records: Answer[] = [];
    for (const r of [a, aaaa]) {
      if ('unavailable' in r) continue;
      for (const x of r.answers) {
        if (x.type !== r.type || typeof x.data !== 'string') continue;
        records.push(x);
        (r.type === 'A' ? v4 : v6).push(x.data);
      }
    }
    let value: HostLookup;
    let ttl: number;
    if (records.length > 0) {
      value = { kind: 'addresses', v4, v6 };
      ttl = this.positiveTtl(records);
    } else if ('unavailable' in a || 'unavailable' in aaaa) {
      return ('unavailable' in a ? a : (aaaa as { unavailable: HostLookup })).unavailable;
    } else {
      value = { kind: 'none' };
      ttl = this.negativeTtl(a);
    }
    if (ttl > 0) {
      if (this.hostCache.size >= this.options.cacheSize)
        this.hostCache.delete(this.hostCache.keys().next().value as string);
      this.hostCache.set(host, { value, expiresAt: this.now() + ttl * 1000 });
    }
    return value;
  }

  get cacheSize(): number {
    return this.cache.size;
  }

  get stats(): MxCacheStats {
    return { hits: this.hits, misses: this.misses, size: this.cache.size };
  }

  private async lookup(domain: string): Promise<MxLookup> {
    const { value, ttl } = await this.classify(domain);
    if (value.kind !== 'unavailable' && ttl > 0) {
      if (this.cache.size >= this.options.cacheSize) this.cache.delete(this.cache.keys().next().value as string);
      this.cache.set(domain, { value, expiresAt: this.now() + ttl * 1000 });
    }
    return value;
  }

  private async classify(domain: string): Promise<{ value: MxLookup; ttl: number }> {
    const mx = await this.ask(domain, 'MX');
    if ('unavailable' in mx) return { value: mx.unavailable, ttl: 0 };
    if (mx.rcode === 'NXDOMAIN') return { value: { kind: 'nxdomain' }, ttl: this.negativeTtl(mx) };
    const records = mx.answers.filter((a) => a.type === 'MX');
    if (records.length > 0) {
      const hosts = records
        .map((a) => {
          const data = a.data as { preference?: number; exchange: string };
          return { exchange: stripRoot(data.exchange).toLowerCase(), preference: data.preference ?? 0 };
        })
        .sort((a, b) => a.preference - b.preference);
      // RFC 7505 §3: a null MX is the only MX, with exchange "." (decoded as "" or ".").
      if (hosts.length === 1 && hosts[0]!.exchange === '')
        return { value: { kind: 'null_mx' }, ttl: this.positiveTtl(records) };
      // An exchange is a host name (RFC 5321 §5.1): IP literals in any spelling, single labels
      // (`localhost`) and names with other characters are refused, so no MX can point a
      // probe at an address, and every name that reaches a result's detail is plain LDH.
      const usable = hosts.filter((h) => isProbeableHost(h.exchange));
      if (usable.length === 0) return { value: { kind: 'no_mx' }, ttl: this.positiveTtl(records) };
      return { value: { kind: 'mx', hosts: usable }, ttl: this.positiveTtl(records) };
    }

    // No MX: RFC 5321 §5.1 implicit MX via the domain's own address records.
    const [a, aaaa] = await Promise.all([this.ask(domain, 'A'), this.ask(domain, 'AAAA')]);
    const addresses: Answer[] = [];
    for (const r of [a, aaaa]) if (!('unavailable' in r)) addresses.push(...r.answers.filter((x) => x.type === r.type));
    if (addresses.length > 0) {
      return {
        value: { kind: 'implicit_mx', hosts: [{ exchange: domain, preference: 0 }] },
        ttl: this.positiveTtl(addresses),
      };
    }
    if ('unavailable' in a) return { value: a.unavailable, ttl: 0 };
    if ('unavailable' in aaaa) return { value: aaaa.unavailable, ttl: 0 };
    return { value: { kind: 'no_mx' }, ttl: this.negativeTtl(mx) };
  }

  private async ask(
    domain: string,
    type: RecordType,
  ): Promise<(DnsResponse & { type: RecordType }) | { unavailable: MxLookup & { kind: 'unavailable' } }> {
    try {
      const r = await this.transport.query(domain, type);
      if (r.rcode !== 'NOERROR' && r.rcode !== 'NXDOMAIN') {
        return { unavailable: { kind: 'unavailable', detail: r.rcode.toLowerCase() } };
      }
      return { ...r, type };
    } catch (err) {
      const detail = err instanceof DnsTransportError ? err.kind : 'error';
      return { unavailable: { kind: 'unavailable', detail } };
    }
  }

  private positiveTtl(records: Answer[]): number {
    let ttl = this.options.maxTtlSeconds;
    for (const r of records) ttl = Math.min(ttl, (r as { ttl?: number }).ttl ?? 0);
    return Math.max(ttl, this.options.minTtlSeconds);
  }

  /** RFC 2308 §5: the lesser of the SOA record's TTL and its MINIMUM field. */
  private negativeTtl(r: DnsResponse): number {
    const soa = r.authorities.find((a) => a.type === 'SOA');
    let ttl = this.options.minTtlSeconds;
    if (soa !== undefined) {
      const data = soa.data as { minimum?: number };
      ttl = Math.min((soa as { ttl?: number }).ttl ?? 0, data.minimum ?? 0);
    }
    return Math.max(this.options.minTtlSeconds, Math.min(ttl, this.options.maxNegativeTtlSeconds));
  }
}

function stripRoot(name: string): string {
  if (name === '.') return '';
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new DnsTransportError('aborted'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new DnsTransportError('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** The resolver the DNS settings of `options` describe (the system's servers when `DNS_SERVERS` is empty). */
export function createMxResolver(options: ValidationOptions): MxResolver {
  return new MxResolver({
    servers: (options.dnsServers.length > 0 ? options.dnsServers : getServers()).map(parseDnsServer),
    timeoutMs: options.dnsTimeoutMs,
    tries: options.dnsTries,
    cacheSize: options.dnsCacheSize,
    minTtlSeconds: options.dnsMinTtlSeconds,
    maxTtlSeconds: options.dnsMaxTtlSeconds,
    maxNegativeTtlSeconds: options.dnsMaxNegativeTtlSeconds,
  });
}
