/**
 * One HTTP exchange with the verification provider, over one keep-alive undici Pool: POST
 * the body, read at most MAX_BODY_BYTES of a 200 answer, and classify the outcome as an
 * answer, a retryable failure or a final one. The API key or URL credentials are sent only
 * in the Authorization header and never appear in a request line, an error or a span.
 */
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import pLimit, { type LimitFunction } from 'p-limit';
import type * as Undici from 'undici';
import type { Dispatcher, Pool } from 'undici';
import { mapProviderResponse, type ProviderAnswer, parseRetryAfter } from './provider-contract.js';
import type { Reason } from './types.js';

const MAX_BODY_BYTES = 64 * 1024;

export type Attempt =
  | { kind: 'answer'; answer: Omit<ProviderAnswer, 'attempts'> }
  | { kind: 'retry'; detail: string; reason: Reason; retryAfterMs: number | null; healthy: boolean }
  | { kind: 'final'; detail: string; reason: Reason };

export interface ProviderHttpOptions {
  url: string;
  apiKey?: string | undefined;
  /** Connections the pool may open (at least the requests in flight at once). */
  connections: number;
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
}

/** Told of every HTTP request with its outcome (`http_200`, `http_429`, `reset`, `aborted`, …) and duration. */
export type RequestObserver = (outcome: string, durationMs: number) => void;

/**
 * How requests reach the provider: one POST at a time per slot, at most `concurrency` at
 * once, in the order asked. Resolves with the attempt; rejects only when `signal` aborted it.
 */
export interface ProviderTransport {
  post(body: string, signal: AbortSignal): Promise<Attempt>;
  close(): Promise<void>;
}

export interface TransportOptions extends ProviderHttpOptions {
  concurrency: number;
  onRequest?: RequestObserver | undefined;
}

/** The outcome name of an attempt, for the request observer. */
export const attemptDetail = (a: Attempt): string => (a.kind === 'answer' ? a.answer.detail : a.detail);

/** The transport on this thread: the HTTP pool behind the concurrency cap. */
export class LocalTransport implements ProviderTransport {
  private readonly http: ProviderHttp;
  private readonly limit: LimitFunction;

  constructor(private readonly options: TransportOptions) {
    this.http = new ProviderHttp(options);
    this.limit = pLimit(options.concurrency);
  }

  post(body: string, signal: AbortSignal): Promise<Attempt> {
    return this.limit(() => (signal.aborted ? Promise.reject(signal.reason) : this.observed(body, signal)));
  }

  private async observed(body: string, signal: AbortSignal): Promise<Attempt> {
    const onRequest = this.options.onRequest;
    if (!onRequest) return this.http.post(body, signal);
    const started = performance.now();
    try {
      const a = await this.http.post(body, signal);
      onRequest(attemptDetail(a), performance.now() - started);
      return a;
    } catch (err) {
      onRequest('aborted', performance.now() - started);
      throw err;
    }
  }

  close(): Promise<void> {
    return this.http.close();
  }
}

/** The Authorization header for a provider URL: the API key, else the URL's own credentials as Basic auth. */
export function providerAuthorization(url: URL, apiKey: string | undefined): string | undefined {
  if (apiKey) return `Bearer ${apiKey}`;
  if (!url.username && !url.password) return undefined;
  const pair = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  return `Basic ${Buffer.from(pair).toString('base64')}`;
}

export class ProviderHttp {
  private readonly pool: Pool;
  private readonly path: string;
  private readonly headers: Record<string, string>;

  constructor(options: ProviderHttpOptions) {
    const url = new URL(options.url);
    this.path = url.pathname + url.search;
    // Credentials in the URL become Basic auth: the pool is given the origin only, so they
    // are never part of a request line, an error or an HTTP client span. undici checks
    // header and body timeouts on a timer of about 1 s resolution, so sub-second values
    // act as "about a second".
    // undici is loaded with the first client: a process without a provider (or whose provider
    // runs in its worker thread) does not hold its ~100 modules.
    const { Pool } = createRequire(import.meta.url)('undici') as typeof Undici;
    this.pool = new Pool(url.origin, {
      connections: options.connections,
      connectTimeout: options.connectTimeoutMs,
      headersTimeout: options.headersTimeoutMs,
      bodyTimeout: options.bodyTimeoutMs,
      keepAliveTimeout: 30_000,
    });
    const authorization = providerAuthorization(url, options.apiKey);
    // One header object for every request (undici copies it into the request it builds).
    this.headers = { 'content-type': 'application/json', accept: 'application/json' };
    if (authorization) this.headers.authorization = authorization;
  }

  /**
   * One POST. Rejects only when `signal` aborted it (with the signal's reason); every other
   * outcome is an Attempt.
   */
  post(body: string, signal: AbortSignal): Promise<Attempt> {
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<Attempt>((resolve, reject) => {
      const exchange = new Exchange(signal, resolve, reject);
      try {
        this.pool.dispatch({ path: this.path, method: 'POST', headers: this.headers, body }, exchange);
      } catch (err) {
        exchange.fail(err);
      }
    });
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/**
 * The handler of one request, fed by undici's parser as the bytes arrive: no response stream,
 * so the answer settles in the same turn of the event loop as its last byte (a stream's
 * end would come a turn or two later), and the connection, and with it the concurrency slot,
 * is free for the next request at once.
 */
class Exchange implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private status = 0;
  private retryAfter: string | string[] | undefined;
  private chunks: Buffer[] = [];
  private size = 0;
  private settled = false;

  constructor(
    private readonly signal: AbortSignal,
    private readonly resolve: (a: Attempt) => void,
    private readonly reject: (err: unknown) => void,
  ) {
    signal.addEventListener('abort', this.onAbort, { once: true });
  }

  private readonly onAbort = () => {
    this.controller?.abort(this.signal.reason);
    this.fail(this.signal.reason);
  };

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.signal.aborted) controller.abort(this.signal.reason);
  }

  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number, headers: Record<string, unknown>): void {
    // 1xx answers are informational: the final one follows.
    if (statusCode < 200) return;
    this.status = statusCode;
    this.retryAfter = headers['retry-after'] as string | string[] | undefined;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    // Only a 200's body is read; any other is let pass unread.
    if (this.status !== 200) return;
    this.size += chunk.length;
    if (this.size > MAX_BODY_BYTES) {
      controller.abort(Object.assign(new Error('response too large'), { code: 'EFV_BODY_TOO_LARGE' }));
      return;
    }
    this.chunks.push(chunk);
  }

  onResponseEnd(): void {
    if (this.settle()) this.resolve(classify(this.status, this.retryAfter, this.chunks));
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    this.fail(err);
  }

  /** A transport failure (or the abort): a retry, or the abort's rejection. */
  fail(err: unknown): void {
    if (!this.settle()) return;
    if (this.signal.aborted) this.reject(this.signal.reason);
    else
      this.resolve({
        kind: 'retry',
        detail: transportDetail(err),
        reason: 'provider_unavailable',
        retryAfterMs: null,
        healthy: false,
      });
  }

  private settle(): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.signal.removeEventListener('abort', this.onAbort);
    return true;
  }
}

function classify(status: number, retryAfter: string | string[] | undefined, chunks: Buffer[]): Attempt {
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
    const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
    parsed = JSON.parse(text);
  } catch {
    return { kind: 'final', detail: 'bad_response', reason: 'provider_unavailable' };
  }
  const mapped = mapProviderResponse(parsed);
  if (mapped === null) return { kind: 'final', detail: 'bad_response', reason: 'provider_unavailable' };
  return { kind: 'answer', answer: { ...mapped, detail: 'http_200' } };
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
