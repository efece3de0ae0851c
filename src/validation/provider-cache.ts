import { isUnknownAnswer, type ProviderAnswer } from './provider-contract.js';

export interface VerdictCacheOptions {
  /** Seconds a definitive answer is kept per address; 0: no cache. */
  ttlSeconds: number;
  /** Addresses kept at most (oldest dropped first). */
  size: number;
  now: () => number;
}

/**
 * The provider's definitive answers per address, for a TTL (a duplicate sign-up or a retry
 * does not pay twice), and the requests in flight per address, which a second caller joins
 * instead of asking again. Unknown answers (rate limits, outages, timeouts) are never kept.
 */
export class VerdictCache {
  private readonly answers = new Map<string, { answer: ProviderAnswer; expiresAt: number }>();
  private readonly inflight = new Map<string, Promise<ProviderAnswer>>();
  private readonly ttlMs: number;

  constructor(private readonly options: VerdictCacheOptions) {
    this.ttlMs = options.ttlSeconds * 1000;
  }

  /**
   * The answer for an address: cached, joined to a request in flight for it (while this
   * caller's signal holds; its own abort ends its wait, not the request), or `ask`ed anew.
   */
  get(
    address: string,
    signal: AbortSignal,
    ask: () => Promise<ProviderAnswer>,
    aborted: () => ProviderAnswer,
  ): Promise<ProviderAnswer> {
    if (this.ttlMs <= 0) return ask();
    const hit = this.answers.get(address);
    if (hit !== undefined) {
      if (hit.expiresAt > this.options.now()) return Promise.resolve({ ...hit.answer, detail: 'cached', attempts: 0 });
      this.answers.delete(address);
    }
    const pending = this.inflight.get(address);
    if (pending !== undefined) return raceAbort(pending, signal, aborted);
    const own = ask().then((answer) => {
      if (!isUnknownAnswer(answer)) this.keep(address, answer);
      return answer;
    });
    this.inflight.set(address, own);
    void own.finally(() => this.inflight.delete(address));
    return own;
  }

  private keep(address: string, answer: ProviderAnswer): void {
    if (this.answers.size >= this.options.size) this.answers.delete(this.answers.keys().next().value as string);
    this.answers.set(address, { answer, expiresAt: this.options.now() + this.ttlMs });
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
