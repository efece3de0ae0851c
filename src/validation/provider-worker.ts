/**
 * The provider thread (see provider-thread.ts): the HTTP pool and the concurrency cap, fed
 * by the processor's thread. A freed slot takes the next queued request in the same turn;
 * the answers of one turn go back in one message (in its check phase, after all the I/O of the turn).
 */
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { type Attempt, ProviderHttp, type ProviderHttpOptions } from './provider-http.js';
import { CANCEL_MASK, type FromThread, type ToThread } from './provider-thread.js';

const port = parentPort!;
const { settings, cancelled } = workerData as {
  settings: ProviderHttpOptions & { concurrency: number };
  cancelled: Int32Array;
};
const http = new ProviderHttp(settings);

interface Job {
  id: number;
  body: string;
  abort: AbortController | undefined;
  startedAt: number;
  cancelled: boolean;
}

/** Waiting in arrival order; `head` is the next to start. */
const queue: Job[] = [];
let head = 0;
const running = new Map<number, Job>();
/** Queued and not yet started, by id, so a cancel finds them. */
const waiting = new Map<number, Job>();
let outbox: FromThread[] = [];
let flushing = false;

function reply(r: FromThread): void {
  outbox.push(r);
  if (flushing) return;
  flushing = true;
  setImmediate(() => {
    flushing = false;
    const batch = outbox;
    outbox = [];
    port.postMessage(batch);
  });
}

function startWhatFits(): void {
  while (running.size < settings.concurrency && head < queue.length) {
    const job = queue[head++]!;
    waiting.delete(job.id);
    // Cancelled by the processor's thread, possibly before its message got here.
    if (job.cancelled || Atomics.load(cancelled, job.id & CANCEL_MASK) === (job.id | 0)) continue;
    start(job);
  }
  if (head > 1024 && head * 2 > queue.length) {
    queue.splice(0, head);
    head = 0;
  }
}

function start(job: Job): void {
  job.abort = new AbortController();
  job.startedAt = performance.now();
  running.set(job.id, job);
  http.post(job.body, job.abort.signal).then(
    (a: Attempt) => finish(job, a),
    () => finish(job, null),
  );
}

/** Answered, failed, or cancelled while running (null). */
function finish(job: Job, attempt: Attempt | null): void {
  running.delete(job.id);
  reply([job.id, attempt, performance.now() - job.startedAt]);
  startWhatFits();
}

port.on('message', (batch: ToThread[]) => {
  for (const op of batch) {
    if (op[0] === 0) {
      const job: Job = { id: op[1], body: op[2], abort: undefined, startedAt: 0, cancelled: false };
      queue.push(job);
      waiting.set(job.id, job);
    } else if (op[0] === 1) {
      // Cancelled while running: aborted, and reported as such; while waiting: never started.
      running.get(op[1])?.abort?.abort();
      const job = waiting.get(op[1]);
      if (job) {
        job.cancelled = true;
        waiting.delete(op[1]);
      }
    } else {
      void http.close().finally(() => port.close());
      return;
    }
  }
  startWhatFits();
});
