/**
 * The provider's requests on a thread of their own. A slot of PROVIDER_CONCURRENCY is held
 * from the moment a request goes out until its answer has been read and the next request
 * sent: on the processor's thread that includes every wait for the event loop, which is busy
 * with fetching, decoding, dispatching and publishing (measured in the benchmark: requests
 * took 28.6 ms from start to end on the client against the provider's 20.8 ms hold, and
 * 23.5 of 32 slots were at the provider on average). On its own thread the HTTP pool and the
 * concurrency cap answer as soon as a response arrives and start the next queued request at
 * once; the processor's thread only hands over requests and takes the answers, in batches.
 *
 * Used unless tracing is on: the HTTP client spans come from the undici instrumentation of
 * the processor's thread, so with an SDK registered requests stay on that thread
 * (LocalTransport).
 */
import { createRequire } from 'node:module';
import { extname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ProxyTracerProvider, trace } from '@opentelemetry/api';
import { type Attempt, attemptDetail, type ProviderTransport, type TransportOptions } from './provider-http.js';

/** Main → thread: post a body, cancel a request, or close. */
export type ToThread = [op: 0, id: number, body: string] | [op: 1, id: number] | [op: 2];
/** Thread → main: a request's attempt (null: it was cancelled) and how long it took once started (null: never started). */
export type FromThread = [id: number, attempt: Attempt | null, durationMs: number | null];

/** Whether an OpenTelemetry SDK is registered (its undici instrumentation sees only this thread). */
export function tracingActive(): boolean {
  const registered = trace.getTracerProvider();
  const delegate = registered instanceof ProxyTracerProvider ? registered.getDelegate() : registered;
  // A provider without delegate hands out the API's no-op provider, the same object every time.
  return delegate !== new ProxyTracerProvider().getDelegate();
}

// The thread's module sits next to this one: .js when compiled, .ts from the source (then
// loaded through tsx, which the thread registers for itself: module hooks are per thread).
const here = fileURLToPath(import.meta.url);
const ENTRY = pathToFileURL(here.replace(/provider-thread(\.[cm]?[jt]s)$/, 'provider-worker$1')).href;
const FROM_SOURCE = extname(here) === '.ts';
const BOOT = `
const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.tsx) (await import(workerData.tsx)).register();
  await import(workerData.entry);
})().catch((err) => { process.nextTick(() => { throw err; }); });
`;

interface Pending {
  resolve: (a: Attempt) => void;
  reject: (err: unknown) => void;
  signal: AbortSignal;
  onAbort: () => void;
}

export class ThreadTransport implements ProviderTransport {
  private readonly thread: Worker;
  private readonly pending = new Map<number, Pending>();
  private outbox: ToThread[] = [];
  private flushing = false;
  private nextId = 1;
  private failed: Error | undefined;
  private readonly exited: Promise<void>;

  constructor(private readonly options: TransportOptions) {
    const { onRequest: _, ...settings } = options;
    const tsx = FROM_SOURCE ? pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api')).href : null;
    this.thread = new Worker(BOOT, { eval: true, workerData: { entry: ENTRY, tsx, settings } });
    this.thread.on('message', (batch: FromThread[]) => this.receive(batch));
    this.exited = new Promise((resolve) => this.thread.once('exit', () => resolve()));
    // A thread that failed ends every request as a transport failure: retried, then unknown.
    this.thread.once('error', (err) => this.fail(err));
    this.thread.once('exit', () => this.fail(new Error('provider thread exited')));
    this.thread.unref();
  }

  post(body: string, signal: AbortSignal): Promise<Attempt> {
    if (signal.aborted) return Promise.reject(signal.reason);
    if (this.failed) return Promise.resolve(threadFailure());
    const id = this.nextId++;
    return new Promise<Attempt>((resolve, reject) => {
      const onAbort = () => {
        this.pending.delete(id);
        this.send([1, id]);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, { resolve, reject, signal, onAbort });
      this.send([0, id, body]);
    });
  }

  async close(): Promise<void> {
    if (!this.failed) this.send([2]);
    await this.exited;
  }

  /** Requests of one turn go over in one message. */
  private send(op: ToThread): void {
    this.outbox.push(op);
    if (this.flushing) return;
    this.flushing = true;
    queueMicrotask(() => {
      this.flushing = false;
      const batch = this.outbox;
      this.outbox = [];
      this.thread.postMessage(batch);
    });
  }

  private receive(batch: FromThread[]): void {
    const onRequest = this.options.onRequest;
    for (const [id, attempt, durationMs] of batch) {
      if (onRequest && durationMs !== null) onRequest(attempt ? attemptDetail(attempt) : 'aborted', durationMs);
      const p = this.pending.get(id);
      if (p === undefined || attempt === null) continue;
      this.pending.delete(id);
      p.signal.removeEventListener('abort', p.onAbort);
      p.resolve(attempt);
    }
  }

  private fail(err: Error): void {
    if (this.failed) return;
    this.failed = err;
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.signal.removeEventListener('abort', p.onAbort);
      p.resolve(threadFailure());
    }
  }
}

function threadFailure(): Attempt {
  return { kind: 'retry', detail: 'network_error', reason: 'provider_unavailable', retryAfterMs: null, healthy: false };
}
