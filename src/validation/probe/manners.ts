/**
 * Manners towards mail providers. Operators throttle per provider, not per domain: every
 * MX host under one registrable domain (`*.google.com`, `*.protection.outlook.com`) is one
 * provider here, found with the Public Suffix List (tldts). Per provider:
 * - at most `concurrency` connections open at once, idle pooled ones and ones still
 *   closing included (that is what the provider's servers count): a slot is free once its
 *   connection has closed, not when QUIT is sent;
 * - at most `ratePerMinute` probes (a token bucket, bursts up to the concurrency);
 * - after a 421 or a reputation-looking reply, a back-off during which its probes answer
 *   at once (they are retried later from the retry topics);
 * - connections are reused: a probe that ended cleanly leaves its connection, after RSET,
 *   to the next probe for the same address, until it has carried `rcptsPerConnection`
 *   RCPT commands or idled for `idleMs`.
 */
import { createRequire } from 'node:module';
import type * as Tldts from 'tldts';
import { TokenBucket } from '../token-bucket.js';

// Required, not imported: see lists.ts (an ES import of tldts keeps its source twice).
const { getDomain } = createRequire(import.meta.url)('tldts') as typeof Tldts;

export interface ProviderLimit {
  concurrency: number;
  ratePerMinute: number;
}

/**
 * Defaults for the big providers, after the limits mass-mailing engines ship with (KumoMTA:
 * 5 connections to Google and to Microsoft). Keys are registrable domains of MX hosts.
 */
export const DEFAULT_PROVIDER_LIMITS: Readonly<Record<string, ProviderLimit>> = {
  'google.com': { concurrency: 5, ratePerMinute: 300 },
  'googlemail.com': { concurrency: 5, ratePerMinute: 300 },
  'outlook.com': { concurrency: 5, ratePerMinute: 300 },
  'yahoodns.net': { concurrency: 5, ratePerMinute: 300 },
  'icloud.com': { concurrency: 3, ratePerMinute: 120 },
  'yandex.net': { concurrency: 3, ratePerMinute: 120 },
  'mail.ru': { concurrency: 3, ratePerMinute: 120 },
  'pphosted.com': { concurrency: 3, ratePerMinute: 120 },
  'mimecast.com': { concurrency: 3, ratePerMinute: 120 },
};

/** `google.com=5:300,outlook.com=5` → limits (rate defaults to 60 × concurrency). */
/** One SMTP_PROVIDER_LIMITS item, provider=concurrency[:per-minute]; the Helm chart checks it too. */
export const PROVIDER_LIMIT = /^([a-z0-9.-]+)=(\d+)(?::(\d+))?$/i;

export function parseProviderLimits(items: readonly string[]): Record<string, ProviderLimit> {
  const out: Record<string, ProviderLimit> = {};
  for (const item of items) {
    const m = PROVIDER_LIMIT.exec(item.trim());
    if (!m) throw new Error(`"${item}" is not provider=concurrency[:per-minute]`);
    const concurrency = Number(m[2]);
    const ratePerMinute = m[3] === undefined ? concurrency * 60 : Number(m[3]);
    if (concurrency < 1 || ratePerMinute < 1) throw new Error(`"${item}": limits must be at least 1`);
    out[m[1]!.toLowerCase()] = { concurrency, ratePerMinute };
  }
  return out;
}

/** The provider an MX host belongs to: its registrable domain, or the host itself. */
export function providerOf(exchange: string): string {
  return getDomain(exchange, { allowPrivateDomains: false }) ?? exchange.toLowerCase();
}

/** A connection a provider's pool can hold. */
export interface Pooled {
  /** The pinned address (and port) it is connected to. */
  readonly key: string;
  /**
   * Closes it politely or not; must be idempotent. Resolves once the connection is gone
   * (the server no longer counts it): its slot is free only then.
   */
  close(): Promise<void>;
}

/** Providers remembered at most before idle ones are forgotten. */
const MAX_PROVIDERS = 10_000;

interface Waiter<C extends Pooled> {
  key: string;
  grant: (g: C | 'open') => void;
}

class Provider<C extends Pooled> {
  open = 0;
  readonly idle: { conn: C; timer: NodeJS.Timeout }[] = [];
  readonly waiters: Waiter<C>[] = [];
  backoffUntil = 0;
  readonly bucket: TokenBucket;

  constructor(
    readonly name: string,
    readonly limit: ProviderLimit,
  ) {
    this.bucket = new TokenBucket(limit.ratePerMinute / 60, limit.concurrency);
  }
}

export interface MannersOptions {
  limits: Readonly<Record<string, ProviderLimit>>;
  /** For every provider not in `limits`. */
  fallback: ProviderLimit;
  backoffMs: number;
  idleMs: number;
  now?: () => number;
}

export interface ProviderSnapshot {
  provider: string;
  open: number;
  idle: number;
  waiting: number;
  backedOff: boolean;
}

export class ProviderManners<C extends Pooled> {
  private readonly providers = new Map<string, Provider<C>>();
  private readonly now: () => number;

  constructor(private readonly options: MannersOptions) {
    this.now = options.now ?? Date.now;
  }

  private get(name: string): Provider<C> {
    let p = this.providers.get(name);
    if (p === undefined) {
      if (this.providers.size >= MAX_PROVIDERS) this.prune();
      p = new Provider<C>(name, this.options.limits[name] ?? this.options.fallback);
      this.providers.set(name, p);
    }
    return p;
  }

  /** Milliseconds of back-off left for this provider (0: none). */
  backoffLeft(provider: string): number {
    const p = this.providers.get(provider);
    return p === undefined ? 0 : Math.max(0, p.backoffUntil - this.now());
  }

  /** Backs the provider off; its idle connections are closed. Returns true if it was not backed off yet. */
  backOff(provider: string): boolean {
    const p = this.get(provider);
    const fresh = p.backoffUntil <= this.now();
    p.backoffUntil = this.now() + this.options.backoffMs;
    for (const { conn, timer } of p.idle.splice(0)) {
      clearTimeout(timer);
      void conn.close().then(() => this.free(p));
    }
    return fresh;
  }

  /** Waits for the provider's rate limit. Rejects if the signal fires first. */
  pace(provider: string, signal: AbortSignal): Promise<void> {
    return this.get(provider).bucket.take(signal);
  }

  /**
   * A connection for `key`: an idle one to the same address, or 'open' — the caller may open
   * a new one (and must then `release` or `discard` it). Waits while the provider is at its
   * limit; rejects with the signal's reason if it fires first. `fresh`: never a pooled one.
   */
  acquire(provider: string, key: string, signal: AbortSignal, fresh = false): Promise<C | 'open'> {
    const p = this.get(provider);
    const i = fresh ? -1 : p.idle.findIndex((e) => e.conn.key === key);
    if (i >= 0) {
      const [{ conn, timer }] = p.idle.splice(i, 1) as [{ conn: C; timer: NodeJS.Timeout }];
      clearTimeout(timer);
      return Promise.resolve(conn);
    }
    if (p.open < p.limit.concurrency) {
      p.open++;
      return Promise.resolve('open');
    }
    if (p.idle.length > 0) {
      // At the limit, but a connection to another address is only resting: its slot is
      // this caller's once it has closed (not rejected by the signal: the caller frees it).
      const { conn, timer } = p.idle.shift()!;
      clearTimeout(timer);
      return conn.close().then(() => 'open' as const);
    }
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const waiter: Waiter<C> = {
        // A fresh waiter matches no pooled connection handed back.
        key: fresh ? '' : key,
        grant: (g) => {
          signal.removeEventListener('abort', onAbort);
          resolve(g);
        },
      };
      const onAbort = () => {
        const at = p.waiters.indexOf(waiter);
        if (at >= 0) p.waiters.splice(at, 1);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      p.waiters.push(waiter);
    });
  }

  /** Gives back a healthy connection: to a waiter for its address, else to the pool. */
  release(provider: string, conn: C): void {
    const p = this.get(provider);
    const same = p.waiters.findIndex((w) => w.key === conn.key);
    if (same >= 0) {
      p.waiters.splice(same, 1)[0]!.grant(conn);
      return;
    }
    if (p.waiters.length > 0 || p.backoffUntil > this.now()) {
      // Someone waits for another address: this connection's slot is theirs.
      this.discard(provider, conn);
      return;
    }
    const entry = {
      conn,
      timer: setTimeout(() => this.dropIdle(p, conn, true), this.options.idleMs),
    };
    entry.timer.unref();
    p.idle.push(entry);
  }

  /**
   * Gives a connection in use straight to a probe waiting for its address, if there is one
   * (pipelining: its commands may follow the current probe's at once). The slot goes with it.
   */
  handOff(provider: string, conn: C): boolean {
    const p = this.providers.get(provider);
    const same = p === undefined ? -1 : p.waiters.findIndex((w) => w.key === conn.key);
    if (same < 0 || p === undefined || p.backoffUntil > this.now()) return false;
    p.waiters.splice(same, 1)[0]!.grant(conn);
    return true;
  }

  /** A connection that failed, was refused, or will not be reused: frees its slot. */
  discard(provider: string, conn: C | null): void {
    const p = this.get(provider);
    if (conn === null) this.free(p);
    else void conn.close().then(() => this.free(p));
  }

  /** A slot whose connection is gone: the next waiter's, else free. */
  private free(p: Provider<C>): void {
    const next = p.waiters.shift();
    if (next !== undefined) next.grant('open');
    else p.open--;
  }

  /** An idle connection the server closed (or that idled out). */
  dropIdle(p: Provider<C> | string, conn: C, close = false): void {
    const provider = typeof p === 'string' ? this.providers.get(p) : p;
    if (provider === undefined) return;
    const at = provider.idle.findIndex((e) => e.conn === conn);
    if (at < 0) return;
    clearTimeout(provider.idle[at]!.timer);
    provider.idle.splice(at, 1);
    if (close) void conn.close().then(() => this.free(provider));
    else this.free(provider);
  }

  /** Forgets providers with nothing open, waiting or backed off (their rate state goes too). */
  private prune(): void {
    const now = this.now();
    for (const [name, p] of this.providers) {
      if (p.open === 0 && p.waiters.length === 0 && p.backoffUntil <= now) this.providers.delete(name);
    }
  }

  snapshot(): ProviderSnapshot[] {
    const now = this.now();
    return [...this.providers.values()].map((p) => ({
      provider: p.name,
      open: p.open,
      idle: p.idle.length,
      waiting: p.waiters.length,
      backedOff: p.backoffUntil > now,
    }));
  }

  /** Closes every idle connection (shutdown). */
  closeIdle(): void {
    for (const p of this.providers.values()) {
      for (const { conn, timer } of p.idle.splice(0)) {
        clearTimeout(timer);
        void conn.close().then(() => this.free(p));
      }
    }
  }
}
