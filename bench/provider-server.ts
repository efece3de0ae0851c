import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { constants, getPriority, setPriority } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * What the provider measured of itself, cumulative since it started: the clock is its own
 * (`performance.now()` of its process), so two snapshots give a window's mean concurrency
 * (Δ`inFlightMs` / Δ`atMs`, Little's L) and mean hold (Δ`holdMs` / Δ`answered`, Little's W).
 */
export interface ProviderServerStats {
  /** When this snapshot was taken, ms on the provider's clock. */
  atMs: number;
  answered: number;
  /** ∫ requests in flight dt (arrival of the request line → response written), ms. */
  inFlightMs: number;
  /** Σ hold of the answered requests (arrival → response written), ms. */
  holdMs: number;
  /** Σ lateness: response written − (arrival + latency), ms (an early answer counts negative). */
  lateMs: number;
  /** Answers written before their latency was up. */
  early: number;
  /** Answered requests by hold, in HOLD_BUCKET_MS buckets from latency − HOLD_FLOOR_MS on (the first also counts anything earlier). */
  holdHistogram: number[];
  /** Connections open now, and the most requests ever in flight on one connection (> 1: pipelining). */
  connections: number;
  maxPerConnection: number;
  /** The nice value it runs at (raised to PRIORITY_HIGH where it may be). */
  priority: number;
}

/** The hold histogram's resolution. */
export const HOLD_BUCKET_MS = 0.1;
/** The histogram starts this far below the latency (an early answer shows, the first bucket holds anything earlier). */
export const HOLD_FLOOR_MS = 2;
const HOLD_BUCKETS = 1000;

/** The slow dependency: a verification provider on loopback that answers after a fixed latency. */
export interface SlowProvider {
  url: string;
  /** Requests answered so far (as last reported by its process, at most 100 ms old). */
  requests(): number;
  /** Its own measurements (as last reported, at most 100 ms old); absent for a provider that keeps none. */
  stats?(): ProviderServerStats | undefined;
  close(): Promise<void>;
}

const PRIORITY_HIGH = constants.priority.PRIORITY_HIGH;
const ANSWER = JSON.stringify({ result: 'deliverable', reason: null, flags: [] });
const ANSWER_HEADERS = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(ANSWER) };

interface Held {
  res: ServerResponse;
  arrivedAt: number;
  dueAt: number;
}

/**
 * Answers every POST with `deliverable` exactly `latencyMs` after the request arrived, so a
 * client's throughput is bounded by its concurrency / latency (Little's law) and nothing else.
 *
 * The latency is the same for every request, so answers fall due in arrival order: they wait
 * in one FIFO queue behind one timer, armed for the head. A timer of its own per request
 * (setTimeout(latency) once the body was read) held each for the latency plus the time to
 * read the body plus the timer's own lateness (libuv's millisecond clock, cached per loop
 * iteration), about a millisecond more than advertised. The timer is armed a little early
 * and the head is answered on the first turn of the loop at or after its due time, never
 * before it: what the server delivers is the bound it advertises, to within its event loop.
 */
export async function serveSlowProvider(
  latencyMs: number,
  mode: 'timer' | 'queue' = 'queue',
): Promise<{
  url: string;
  answered(): number;
  stats(): ProviderServerStats;
  close(): Promise<void>;
}> {
  const queue: Held[] = [];
  let head = 0;
  const started = performance.now();
  let answered = 0;
  let inFlight = 0;
  let inFlightMs = 0;
  let changedAt = started;
  let holdMs = 0;
  let lateMs = 0;
  let early = 0;
  let connections = 0;
  let maxPerConnection = 0;
  const holdHistogram = new Array<number>(HOLD_BUCKETS).fill(0);
  const perConnection = new WeakMap<object, number>();

  const account = (now: number, delta: number) => {
    inFlightMs += inFlight * (now - changedAt);
    changedAt = now;
    inFlight += delta;
  };

  const answer = (h: Held, now: number) => {
    h.res.writeHead(200, ANSWER_HEADERS);
    h.res.end(ANSWER);
    const hold = now - h.arrivedAt;
    answered++;
    holdMs += hold;
    lateMs += now - h.dueAt;
    holdHistogram[
      Math.max(0, Math.min(HOLD_BUCKETS - 1, Math.floor((hold - latencyMs + HOLD_FLOOR_MS) / HOLD_BUCKET_MS)))
    ]!++;
    if (hold < latencyMs) early++;
    account(now, -1);
    const socket = h.res.socket;
    if (socket) perConnection.set(socket, (perConnection.get(socket) ?? 1) - 1);
  };

  /** Answers everything due; re-arms for the next. */
  const release = () => {
    let now = performance.now();
    while (head < queue.length && queue[head]!.dueAt <= now) {
      answer(queue[head++]!, now);
      now = performance.now();
    }
    if (head > 1024 && head * 2 > queue.length) {
      queue.splice(0, head);
      head = 0;
    }
    alarm!.set(head < queue.length ? queue[head]!.dueAt : undefined);
  };
  const alarm = mode === 'queue' ? new PreciseAlarm(release) : undefined;

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const arrivedAt = performance.now();
    account(arrivedAt, +1);
    const socket = req.socket;
    const onSocket = (perConnection.get(socket) ?? 0) + 1;
    perConnection.set(socket, onSocket);
    if (onSocket > maxPerConnection) maxPerConnection = onSocket;
    // Drain the body before answering, as a real provider would read it; the hold counts
    // from the arrival of the request, whatever reading it takes.
    req.resume();
    req.on('end', () => {
      const h = { res, arrivedAt, dueAt: arrivedAt + latencyMs };
      if (mode === 'timer') {
        setTimeout(() => answer(h, performance.now()), latencyMs);
        return;
      }
      queue.push(h);
      // Only a new head needs the alarm moved; the others fall due after it.
      if (queue.length - head === 1) alarm!.set(h.dueAt);
    });
  });
  server.on('connection', (socket) => {
    connections++;
    socket.once('close', () => connections--);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/verify`,
    answered: () => answered,
    stats: () => {
      account(performance.now(), 0);
      return {
        atMs: changedAt - started,
        answered,
        inFlightMs,
        holdMs,
        lateMs,
        early,
        holdHistogram: [...holdHistogram],
        connections,
        maxPerConnection,
        priority: getPriority(),
      };
    },
    close: () =>
      new Promise<void>((resolve) => {
        alarm?.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/*
 * The alarm's thread: it sleeps on a futex (Atomics.wait, whose timeout is a double in ms,
 * kept to the microsecond by the kernel) until the due time in `due` (ns of
 * process.hrtime.bigint(), the same clock in every thread; 0: none; negative: end), then
 * wakes the main thread with a message. `seq` changes whenever the main thread moves the due time.
 */
const ALARM_THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const seq = new Int32Array(workerData, 0, 1);
const due = new BigInt64Array(workerData, 8, 1);
for (;;) {
  const s = Atomics.load(seq, 0);
  const at = Atomics.load(due, 0);
  if (at < 0n) break;
  if (at === 0n) { Atomics.wait(seq, 0, s); continue; }
  const waitMs = Number(at - process.hrtime.bigint()) / 1e6;
  if (waitMs > 0) { Atomics.wait(seq, 0, s, waitMs); continue; }
  // Fired once per due time: the main thread sets the next one when it has answered.
  if (Atomics.compareExchange(due, 0, at, 0n) === at) parentPort.postMessage(0);
}
`;

/**
 * A one-shot alarm at a sub-millisecond instant, for the main thread: Node's own timers
 * count whole milliseconds on the loop's cached clock and fire up to a millisecond either
 * side of the instant asked for (measured: a third of 20 ms holds answered early, the mean
 * hold 0.3–0.4 ms long even so; kept from early, 0.6–1 ms late).
 */
class PreciseAlarm {
  private readonly shared = new SharedArrayBuffer(16);
  private readonly seq = new Int32Array(this.shared, 0, 1);
  private readonly due = new BigInt64Array(this.shared, 8, 1);
  private readonly thread: Worker;
  /** performance.now() − hrtime in ms, to translate due times. */
  private readonly offsetMs: number;

  constructor(onAlarm: () => void) {
    this.offsetMs = performance.now() - Number(process.hrtime.bigint()) / 1e6;
    this.thread = new Worker(ALARM_THREAD, { eval: true, workerData: this.shared });
    this.thread.on('message', onAlarm);
    this.thread.unref();
  }

  /** Fires `onAlarm` once at `at` (performance.now() ms) or as soon after as the loop allows; undefined: never. */
  set(at: number | undefined): void {
    const ns = at === undefined ? 0n : BigInt(Math.ceil((at - this.offsetMs) * 1e6));
    Atomics.store(this.due, 0, ns);
    Atomics.add(this.seq, 0, 1);
    Atomics.notify(this.seq, 0);
  }

  close(): void {
    Atomics.store(this.due, 0, -1n);
    Atomics.add(this.seq, 0, 1);
    Atomics.notify(this.seq, 0);
  }
}

/**
 * Runs the provider in a process of its own, so that the harness's own work (sampling
 * offsets, drawing progress) never delays an answer and the latency stays what was asked.
 */
export async function startSlowProvider(latencyMs: number): Promise<SlowProvider> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), String(latencyMs)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  let last: ProviderServerStats | undefined;
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`slow provider exited (${code}) before listening`)));
    lines.on('line', (line) => {
      const space = line.indexOf(' ');
      const kind = line.slice(0, space);
      if (kind === 'url') resolve(line.slice(space + 1));
      else if (kind === 'stats') last = JSON.parse(line.slice(space + 1)) as ProviderServerStats;
    });
  });
  return {
    url,
    requests: () => last?.answered ?? 0,
    stats: () => last,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** A window's figures from two snapshots of the provider's own measurements. */
export interface ProviderWindow {
  /** Time-weighted mean of the requests in flight at the provider (Little's L). */
  meanInFlight: number;
  /** Mean hold, arrival → response written (Little's W), and its percentiles, ms. */
  meanHoldMs: number;
  p50HoldMs: number;
  p99HoldMs: number;
  /** Mean lateness past the advertised latency, ms. */
  meanLateMs: number;
  /** Requests/s answered in the window, on the provider's clock. */
  perSecond: number;
  /** Connections open at the end of the window; the most requests one connection ever had in flight. */
  connections: number;
  maxPerConnection: number;
  /** The provider's nice value. */
  priority: number;
}

export function providerWindow(
  from: ProviderServerStats,
  to: ProviderServerStats,
  latencyMs: number,
): ProviderWindow | undefined {
  const dt = to.atMs - from.atMs;
  const n = to.answered - from.answered;
  if (dt <= 0 || n <= 0) return undefined;
  const counts = to.holdHistogram.map((c, i) => c - (from.holdHistogram[i] ?? 0));
  const quantile = (q: number) => {
    const rank = Math.max(1, Math.ceil(q * n));
    let seen = 0;
    for (let i = 0; i < counts.length; i++) {
      seen += counts[i]!;
      // The bucket's upper edge: a hold is at most this.
      if (seen >= rank) return latencyMs - HOLD_FLOOR_MS + (i + 1) * HOLD_BUCKET_MS;
    }
    return latencyMs - HOLD_FLOOR_MS + counts.length * HOLD_BUCKET_MS;
  };
  return {
    meanInFlight: (to.inFlightMs - from.inFlightMs) / dt,
    meanHoldMs: (to.holdMs - from.holdMs) / n,
    p50HoldMs: quantile(0.5),
    p99HoldMs: quantile(0.99),
    meanLateMs: (to.lateMs - from.lateMs) / n,
    perSecond: (n * 1000) / dt,
    connections: to.connections,
    maxPerConnection: to.maxPerConnection,
    priority: to.priority,
  };
}

// As a process: `node --import tsx bench/provider-server.ts <latencyMs>` prints its URL, then
// its cumulative measurements every 100 ms while they change.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  // BENCH_PROVIDER_HOLD=timer: the former hold (a timer per request), to compare with.
  const mode = process.argv[3] ?? process.env.BENCH_PROVIDER_HOLD ?? 'queue';
  // It stands for a service on machines of its own: on a shared host its answers should not
  // wait for the contender's CPU. Raised before the alarm's thread starts, which inherits it
  // (Linux keeps a nice value per thread); without the privilege it runs as it is.
  try {
    setPriority(PRIORITY_HIGH);
  } catch {}
  const provider = await serveSlowProvider(Number(process.argv[2] ?? 20), mode === 'timer' ? 'timer' : 'queue');
  process.stdout.write(`url ${provider.url}\n`);
  let last = -1;
  let lastInFlight = -1;
  setInterval(() => {
    const s = provider.stats();
    if (s.answered !== last || s.inFlightMs !== lastInFlight) process.stdout.write(`stats ${JSON.stringify(s)}\n`);
    last = s.answered;
    lastInFlight = s.inFlightMs;
  }, 100);
  process.once('SIGTERM', () => void provider.close().then(() => process.exit(0)));
}
