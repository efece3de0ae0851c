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
 * (LocalTransport). A thread that fails or cannot start hands its unanswered requests, and
 * every later one, to a LocalTransport.
 */
import { createRequire } from 'node:module';
import { extname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  type Attempt,
  attemptDetail,
  LocalTransport,
  type ProviderTransport,
  type TransportOptions,
} from './provider-http.js';

/**
 * Cancelled request ids, by `id & CANCEL_MASK`, shared with the thread: a cancel takes effect
 * at once, not when its message arrives (the thread may free a slot and start the request
 * meanwhile, after its event was answered). A slot holds the last id cancelled in it; the
 * message still follows, for requests already running.
 */
export const CANCEL_SLOTS = 1 << 16;
export const CANCEL_MASK = CANCEL_SLOTS - 1;

/** Main → thread: post a body, cancel a request, or close. */
export type ToThread = [op: 0, id: number, body: string] | [op: 1, id: number] | [op: 2];
/** Thread → main: a request's attempt (null: it was cancelled) and how long it took once started (null: never started). */
export type FromThread = [id: number, attempt: Attempt | null, durationMs: number | null];

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
  body: string;
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
  private readonly cancelled = new Int32Array(new SharedArrayBuffer(4 * CANCEL_SLOTS));
  /** Once the thread failed (or was closed): the requests go on on this thread. */
  private fallback: LocalTransport | undefined;
  private closing = false;
  private readonly exited: Promise<void>;

  /** `entry`: the thread's module (tests give one that cannot load). */
  constructor(
    private readonly options: TransportOptions,
    entry = ENTRY,
  ) {
    const { onRequest: _, ...settings } = options;
    const tsx = FROM_SOURCE ? pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api')).href : null;
    this.thread = new Worker(BOOT, { eval: true, workerData: { entry, tsx, settings, cancelled: this.cancelled } });
    this.thread.on('message', (batch: FromThread[]) => this.receive(batch));
    this.exited = new Promise((resolve) => this.thread.once('exit', () => resolve()));
    // A thread that cannot start (a bundler left its module behind) or fails is not fatal:
    // its unanswered requests, and every later one, are sent from this thread.
    this.thread.once('error', () => this.failOver());
    this.thread.once('exit', () => this.failOver());
    this.thread.unref();
  }

  /** Whether requests go through the thread (false once it failed). */
  get threaded(): boolean {
    return this.fallback === undefined;
  }

  post(body: string, signal: AbortSignal): Promise<Attempt> {
    if (signal.aborted) return Promise.reject(signal.reason);
    if (this.fallback) return this.fallback.post(body, signal);
    const id = this.nextId++;
    return new Promise<Attempt>((resolve, reject) => {
      const onAbort = () => {
        Atomics.store(this.cancelled, id & CANCEL_MASK, id | 0);
        this.pending.delete(id);
        this.send([1, id]);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, { body, resolve, reject, signal, onAbort });
      this.send([0, id, body]);
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    // Unref'd, the thread would not keep the process alive until it exited: a program that
    // only closes the client (`config --check`) would end inside this await, its output unsaid.
    this.thread.ref();
    if (this.fallback === undefined) this.send([2]);
    await this.exited;
    await this.fallback?.close();
  }

  /**
   * The requests of one turn of the loop go over in one message (its check phase): each
   * message costs both threads a wake-up, and the thread's queue is deep while it matters.
   */
  private send(op: ToThread): void {
    this.outbox.push(op);
    if (this.flushing) return;
    this.flushing = true;
    setImmediate(() => {
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

  private failOver(): void {
    if (this.fallback) return;
    this.fallback = new LocalTransport(this.options);
    if (this.closing) return;
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.signal.removeEventListener('abort', p.onAbort);
      this.fallback.post(p.body, p.signal).then(p.resolve, p.reject);
    }
  }
}
