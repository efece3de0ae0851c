/**
 * An optional third-party verification API behind a fixed JSON contract of our own.
 *
 * Request:  POST PROVIDER_URL, `Authorization: Bearer PROVIDER_API_KEY`,
 *           body `{"email": "<normalised address>"}`.
 * Response: 200 with
 *           `{"result": "deliverable"|"undeliverable"|"risky"|"unknown",
 *             "reason": <one of our reasons, or null>,
 *             "flags": [<our flags>]?, "suggestion": "<address>"?}`.
 *
 * Mapping to our verdicts (anything not listed is treated as a malformed answer, which is
 * `unknown`/`provider_unavailable` — never a guess towards `undeliverable`):
 * - deliverable                        → no reason (pass)
 * - undeliverable + an undeliverable reason (mailbox_not_found, mailbox_disabled, no_mx, …)
 *                                      → that reason
 * - risky + a risky reason (accept_all, mailbox_full, disposable, role, possible_typo)
 *                                      → that reason
 * - unknown + an unknown reason        → that reason; without one → provider_unavailable
 * - flags we know are kept; others ignored. `suggestion` is offered as did_you_mean.
 * Transport outcomes:
 * - 429 (after retries, or a Retry-After longer than we will wait) → rate_limited
 * - 503, other 5xx, resets, timeouts (after retries)               → provider_unavailable
 * - other 4xx (bad key, bad request): not retried                  → provider_unavailable
 * - breaker open                                                   → provider_unavailable
 * - the event's signal aborted                                     → timeout
 *
 * One keep-alive undici Pool, a token bucket shared by all callers, a concurrency cap,
 * retries with exponential backoff and full jitter that honour Retry-After on 429/503,
 * and a circuit breaker. The API key is sent only in the header and never appears in
 * errors or details.
 */
import { performance } from 'node:perf_hooks';
import pLimit, { type LimitFunction } from 'p-limit';
import { Pool } from 'undici';
import { type BreakerState, CircuitBreaker } from './circuit-breaker.js';
import { sleep, TokenBucket } from './token-bucket.js';
import {
  FLAGS,
  type Flag,
  type Reason,
  RISKY_REASONS,
  UNDELIVERABLE_REASONS,
  UNKNOWN_REASONS,
  VERDICTS,
  type VerdictKind,
} from './types.js';

export interface ProviderOptions {
  url: string;
  apiKey?: string | undefined;
  ratePerSecond: number;
  burst: number;
  concurrency: number;
  /** Retries after the first attempt. */
  retries: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Longest Retry-After we wait for inside one validation; longer gives up at once. */
  maxRetryAfterMs: number;
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  breakerThreshold: number;
  breakerCooldownMs: number;
  onBreakerStateChange?: (state: BreakerState, previous: BreakerState) => void;
  /** Called after every HTTP request with its outcome (`http_200`, `http_429`, `reset`, `aborted`, …) (metrics hook here). */
  onRequest?: (outcome: string, durationMs: number) => void;
  /** Seconds a definitive answer is kept per address (a duplicate sign-up or a retry does not pay twice); 0: no cache. */
  cacheTtlSeconds?: number;
  /** Addresses kept at most (oldest dropped first). */
  cacheSize?: number;
  /** Injectable for tests. */
  random?: () => number;
  now?: () => number;
}

export interface ProviderAnswer {
  reason: Reason | null;
  flags: Flag[];
  suggestion: string | null;
  /** e.g. `http_200`, `http_429`, `breaker_open`, `bad_response`, `timeout`, `reset`. */
  detail: string;
  /** HTTP requests this answer took. */
  attempts: number;
}

const MAX_BODY_BYTES = 64 * 1024;
const UNDELIVERABLE = new Set<string>(UNDELIVERABLE_REASONS);
const RISKY = new Set<string>(RISKY_REASONS);
const UNKNOWN = new Set<string>(UNKNOWN_REASONS);
const KNOWN_FLAGS = new Set<string>(FLAGS);
const KINDS = new Set<string>(VERDICTS);

/** Parses our response contract; null if the body does not follow it. */
export function mapProviderResponse(body: unknown): Omit<ProviderAnswer, 'detail' | 'attempts'> | null {
  if (body === null || typeof body !== 'object') return null;
  const b = body as Record<string, unknown>;
  const result = b.result;
  const reason = b.reason ?? null;
  if (typeof result !== 'string' || !KINDS.has(result)) return null;
  if (reason !== null && typeof reason !== 'string') return null;
  let mapped: Reason | null;
  switch (result as VerdictKind) {
    case 'deliverable':
      mapped = null;
      break;
    case 'undeliverable':
      if (reason === null || !UNDELIVERABLE.has(reason)) return null;
      mapped = reason as Reason;
      break;
    case 'risky':
      if (reason === null || !RISKY.has(reason)) return null;
      mapped = reason as Reason;
      break;
    case 'unknown':
      mapped = reason !== null && UNKNOWN.has(reason) ? (reason as Reason) : 'provider_unavailable';
      break;
  }
  const flags = Array.isArray(b.flags)
    ? (b.flags.filter((f) => typeof f === 'string' && KNOWN_FLAGS.has(f)) as Flag[])
    : [];
  const suggestion = typeof b.suggestion === 'string' && b.suggestion.includes('@') ? b.suggestion : null;
  return { reason: mapped, flags, suggestion };
}

/** Retry-After as milliseconds (delta-seconds or HTTP-date, RFC 9110 §10.2.3), or null. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | null {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return null;
  const t = v.trim();
  if (/^\d+$/.test(t)) return Number(t) * 1000;
  const at = Date.parse(t);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

type Attempt =
  | { kind: 'answer'; answer: Omit<ProviderAnswer, 'attempts'> }
  | { kind: 'retry'; detail: string; reason: Reason; retryAfterMs: number | null; healthy: boolean }
  | { kind: 'final'; detail: string; reason: Reason };

export class ProviderClient {
  private readonly pool: Pool;
  private readonly path: string;
  private readonly bucket: TokenBucket;
  private readonly limit: LimitFunction;
  private readonly breaker: CircuitBreaker;
  private readonly random: () => number;
  private readonly authorization: string | undefined;
  private readonly cache = new Map<string, { answer: ProviderAnswer; expiresAt: number }>();
  private readonly inflight = new Map<string, Promise<ProviderAnswer>>();
  private readonly now: () => number;

  constructor(private readonly options: ProviderOptions) {
    const url = new URL(options.url);
    this.path = url.pathname + url.search;
    this.now = options.now ?? Date.now;
    // undici checks header and body timeouts on a timer of about 1 s resolution, so
    // sub-second values act as "about a second".
    this.pool = new Pool(url.origin, {
      connections: options.concurrency * 2,
      connectTimeout: options.connectTimeoutMs,
      headersTimeout: options.headersTimeoutMs,
      bodyTimeout: options.bodyTimeoutMs,
      keepAliveTimeout: 30_000,
    });
    this.bucket = new TokenBucket(options.ratePerSecond, options.burst);
    this.limit = pLimit(options.concurrency);
    const breakerOptions: ConstructorParameters<typeof CircuitBreaker>[0] = {
      failureThreshold: options.breakerThreshold,
      cooldownMs: options.breakerCooldownMs,
    };
    if (options.onBreakerStateChange) breakerOptions.onStateChange = options.onBreakerStateChange;
    this.breaker = new CircuitBreaker(breakerOptions);
    this.random = options.random ?? Math.random;
    // Credentials in the URL become Basic auth: the pool is given the origin only, so they
    // are never part of a request line, an error or an HTTP client span.
    const basic =
      url.username || url.password
        ? `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`
        : undefined;
    this.authorization = options.apiKey ? `Bearer ${options.apiKey}` : basic;
  }

  /**
   * The provider's answer for an address: from the cache when a definitive one is younger
   * than the TTL, joined to a request in flight for the same address, or asked anew.
   * Unknown answers (rate limits, outages, timeouts) are never cached.
   */
  check(address: string, signal: AbortSignal): Promise<ProviderAnswer> {
    const ttl = (this.options.cacheTtlSeconds ?? 0) * 1000;
    if (ttl <= 0) return this.ask(address, signal);
    const hit = this.cache.get(address);
    if (hit !== undefined) {
      if (hit.expiresAt > this.now()) return Promise.resolve({ ...hit.answer, detail: 'cached', attempts: 0 });
      this.cache.delete(address);
    }
    const pending = this.inflight.get(address);
    // Joined only while this caller's deadline holds; its own abort ends its wait, not the request.
    if (pending !== undefined) return raceAbort(pending, signal, () => this.aborted(0));
    const own = this.ask(address, signal).then((answer) => {
      if (answer.reason === null || !UNKNOWN.has(answer.reason)) {
        if (this.cache.size >= (this.options.cacheSize ?? 100_000)) {
          this.cache.delete(this.cache.keys().next().value as string);
        }
        this.cache.set(address, { answer, expiresAt: this.now() + ttl });
      }
      return answer;
    });
    this.inflight.set(address, own);
    void own.finally(() => this.inflight.delete(address));
    return own;
  }

  get breakerState(): BreakerState {
    return this.breaker.state;
  }

  private async ask(address: string, signal: AbortSignal): Promise<ProviderAnswer> {
    const body = JSON.stringify({ email: address });
    let attempts = 0;
    let last: { detail: string; reason: Reason } = { detail: 'breaker_open', reason: 'provider_unavailable' };
    for (let attempt = 0; attempt <= this.options.retries; attempt++) {
      if (signal.aborted) return this.aborted(attempts);
      // While open, fail fast: the event goes to the processor's retry / dead-letter path.
      if (!this.breaker.tryAcquire()) return { ...last, flags: [], suggestion: null, attempts };
      let outcome: Attempt;
      try {
        await this.bucket.take(signal);
        outcome = await this.limit(() =>
          signal.aborted ? Promise.reject(signal.reason) : this.observedAttempt(body, signal),
        );
      } catch {
        // Only an abort reaches here; it says nothing about the provider's health.
        this.breaker.release();
        return this.aborted(attempts);
      }
      attempts++;
      if (outcome.kind === 'answer') {
        this.breaker.success();
        return { ...outcome.answer, attempts };
      }
      if (outcome.kind === 'final') {
        this.breaker.failure();
        return { reason: outcome.reason, detail: outcome.detail, flags: [], suggestion: null, attempts };
      }
      // A 429 means the provider is up and pacing us: it must not open the breaker.
      if (outcome.healthy) this.breaker.release();
      else this.breaker.failure();
      last = { detail: outcome.detail, reason: outcome.reason };
      if (attempt === this.options.retries) break;
      let delay = this.backoff(attempt);
      if (outcome.retryAfterMs !== null) {
        if (outcome.retryAfterMs > this.options.maxRetryAfterMs) break;
        delay = Math.max(delay, outcome.retryAfterMs);
      }
      try {
        await sleep(delay, signal);
      } catch {
        return this.aborted(attempts);
      }
    }
    return { ...last, flags: [], suggestion: null, attempts };
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  /** Full jitter (AWS architecture blog, "Exponential Backoff and Jitter"). */
  private backoff(attempt: number): number {
    const cap = Math.min(this.options.backoffMaxMs, this.options.backoffBaseMs * 2 ** attempt);
    return Math.floor(this.random() * cap);
  }

  private aborted(attempts: number): ProviderAnswer {
    return { reason: 'timeout', detail: 'aborted', flags: [], suggestion: null, attempts };
  }

  private async observedAttempt(body: string, signal: AbortSignal): Promise<Attempt> {
    const onRequest = this.options.onRequest;
    if (!onRequest) return this.attempt(body, signal);
    const started = performance.now();
    try {
      const a = await this.attempt(body, signal);
      onRequest(a.kind === 'answer' ? a.answer.detail : a.detail, performance.now() - started);
      return a;
    } catch (err) {
      onRequest('aborted', performance.now() - started);
      throw err;
    }
  }

  private async attempt(body: string, signal: AbortSignal): Promise<Attempt> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (this.authorization) headers.authorization = this.authorization;
    let status: number;
    let retryAfter: string | string[] | undefined;
    let text: string;
    try {
      const res = await this.pool.request({ path: this.path, method: 'POST', headers, body, signal });
      status = res.statusCode;
      retryAfter = res.headers['retry-after'];
      if (status !== 200) {
        await res.body.dump();
      } else {
        // A declared length within the limit is read in one go (no stream iteration);
        // otherwise chunk by chunk, stopping at the limit.
        const declared = Number(res.headers['content-length']);
        text =
          Number.isInteger(declared) && declared <= MAX_BODY_BYTES
            ? await res.body.text()
            : await readLimited(res.body, MAX_BODY_BYTES);
      }
    } catch (err) {
      if (signal.aborted) throw err;
      return {
        kind: 'retry',
        detail: transportDetail(err),
        reason: 'provider_unavailable',
        retryAfterMs: null,
        healthy: false,
      };
    }
    if (status === 429) {
      return {
        kind: 'retry',
        detail: 'http_429',
        reason: 'rate_limited',
        retryAfterMs: parseRetryAfter(retryAfter),
        healthy: true,
      };
    }
    if (status === 503) {
      return {
        kind: 'retry',
        detail: 'http_503',
        reason: 'provider_unavailable',
        retryAfterMs: parseRetryAfter(retryAfter),
        healthy: false,
      };
    }
    if (status >= 500) {
      return {
        kind: 'retry',
        detail: `http_${status}`,
        reason: 'provider_unavailable',
        retryAfterMs: null,
        healthy: false,
      };
    }
    if (status !== 200) return { kind: 'final', detail: `http_${status}`, reason: 'provider_unavailable' };
    let parsed: unknown;
    try {
      parsed = JSON.parse(text!);
    } catch {
      return { kind: 'final', detail: 'bad_response', reason: 'provider_unavailable' };
    }
    const mapped = mapProviderResponse(parsed);
    if (mapped === null) return { kind: 'final', detail: 'bad_response', reason: 'provider_unavailable' };
    return { kind: 'answer', answer: { ...mapped, detail: 'http_200' } };
  }
}

function raceAbort<T>(p: Promise<T>, signal: AbortSignal, onAbort: () => T): Promise<T> {
  if (signal.aborted) return Promise.resolve(onAbort());
  return new Promise<T>((resolve) => {
    const abort = () => resolve(onAbort());
    signal.addEventListener('abort', abort, { once: true });
    void p.then((v) => {
      signal.removeEventListener('abort', abort);
      resolve(v);
    });
  });
}

async function readLimited(body: AsyncIterable<Buffer>, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) throw Object.assign(new Error('response too large'), { code: 'EFV_BODY_TOO_LARGE' });
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A short, stable name for a transport failure (never the message, which may echo the URL). */
function transportDetail(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'connect_timeout';
    case 'UND_ERR_HEADERS_TIMEOUT':
      return 'headers_timeout';
    case 'UND_ERR_BODY_TIMEOUT':
      return 'body_timeout';
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
      return 'reset';
    case 'ECONNREFUSED':
      return 'refused';
    case 'EFV_BODY_TOO_LARGE':
      return 'body_too_large';
    default:
      return 'network_error';
  }
}
