/**
 * The client of the optional third-party verification API (its contract and the mapping to
 * our verdicts: provider-contract.ts). One keep-alive HTTP pool (provider-http.ts), a token
 * bucket shared by all callers, a concurrency cap, retries with exponential backoff and full
 * jitter that honour Retry-After on 429/503, a circuit breaker, and a cache of definitive
 * verdicts per address (provider-cache.ts). The API key is sent only in the header and never
 * appears in errors or details.
 */

import { tracerProviderRegistered } from '../telemetry/tracer-registered.js';
import { type BreakerState, CircuitBreaker } from './circuit-breaker.js';
import { VerdictCache } from './provider-cache.js';
import type { ProviderAnswer } from './provider-contract.js';
import { type Attempt, LocalTransport, type ProviderTransport, type TransportOptions } from './provider-http.js';
import { ThreadTransport } from './provider-thread.js';
import { sleep, TokenBucket } from './token-bucket.js';
import type { Reason } from './types.js';

export { mapProviderResponse, type ProviderAnswer, parseRetryAfter } from './provider-contract.js';

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
  /**
   * Requests on a thread of their own (provider-thread.ts); default: unless an OpenTelemetry
   * SDK is registered, whose HTTP client spans see only this thread (also one registered
   * later: the requests after it stay on this thread).
   */
  ownThread?: boolean;
  /** Injectable for tests. */
  random?: () => number;
  now?: () => number;
}

export class ProviderClient {
  private transport: ProviderTransport;
  /** The thread, once tracing began after it started: left to finish its requests. */
  private retired: ProviderTransport | undefined;
  /** Whether to move to this thread as soon as an SDK is registered (the default choice). */
  private followTracing: boolean;
  private readonly transportOptions: TransportOptions;
  private readonly bucket: TokenBucket;
  private readonly breaker: CircuitBreaker;
  private readonly random: () => number;
  private readonly cache: VerdictCache;

  constructor(private readonly options: ProviderOptions) {
    const transport: TransportOptions = {
      url: options.url,
      apiKey: options.apiKey,
      concurrency: options.concurrency,
      // More connections than requests in flight: a slot freed is never kept waiting for one.
      connections: options.concurrency * 2,
      connectTimeoutMs: options.connectTimeoutMs,
      headersTimeoutMs: options.headersTimeoutMs,
      bodyTimeoutMs: options.bodyTimeoutMs,
      onRequest: options.onRequest,
    };
    this.transportOptions = transport;
    const thread = options.ownThread ?? !tracerProviderRegistered();
    this.followTracing = options.ownThread === undefined && thread;
    this.transport = thread ? new ThreadTransport(transport) : new LocalTransport(transport);
    this.bucket = new TokenBucket(options.ratePerSecond, options.burst);
    const breakerOptions: ConstructorParameters<typeof CircuitBreaker>[0] = {
      failureThreshold: options.breakerThreshold,
      cooldownMs: options.breakerCooldownMs,
    };
    if (options.onBreakerStateChange) breakerOptions.onStateChange = options.onBreakerStateChange;
    this.breaker = new CircuitBreaker(breakerOptions);
    this.random = options.random ?? Math.random;
    this.cache = new VerdictCache({
      ttlSeconds: options.cacheTtlSeconds ?? 0,
      size: options.cacheSize ?? 100_000,
      now: options.now ?? Date.now,
    });
  }

  /**
   * The provider's answer for an address: from the cache when a definitive one is younger
   * than the TTL, joined to a request in flight for the same address, or asked anew.
   * Unknown answers (rate limits, outages, timeouts) are never cached.
   */
  check(address: string, signal: AbortSignal): Promise<ProviderAnswer> {
    return this.cache.get(
      address,
      signal,
      () => this.ask(address, signal),
      () => this.aborted(0),
    );
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
        outcome = await this.currentTransport().post(body, signal);
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
    await Promise.all([this.transport.close(), this.retired?.close()]);
  }

  /**
   * The thread's requests are invisible to the HTTP client spans, which see this thread
   * only: an SDK registered after this client was made (a library user who starts tracing
   * later) moves the next requests here; those in flight on the thread finish there.
   */
  private currentTransport(): ProviderTransport {
    if (this.followTracing && tracerProviderRegistered()) {
      this.followTracing = false;
      this.retired = this.transport;
      this.transport = new LocalTransport(this.transportOptions);
    }
    return this.transport;
  }

  /** Full jitter (AWS architecture blog, "Exponential Backoff and Jitter"). */
  private backoff(attempt: number): number {
    const cap = Math.min(this.options.backoffMaxMs, this.options.backoffBaseMs * 2 ** attempt);
    return Math.floor(this.random() * cap);
  }

  private aborted(attempts: number): ProviderAnswer {
    return { reason: 'timeout', detail: 'aborted', flags: [], suggestion: null, attempts };
  }
}
