import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { constants, setPriority } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { Worker } from 'node:worker_threads';

/**
 * What the bench's slow dependencies (the HTTP provider, the mail provider) have in common:
 * each runs as a process of its own at raised priority, holds every answer exactly its latency
 * from arrival (one queue behind an alarm thread), measures itself and reports to the harness
 * over its standard output. A service on machines of its own, as far as one shared host allows:
 * the harness's own work (sampling offsets, drawing progress) never delays an answer.
 */

/**
 * A slow dependency's own measurements, cumulative since it started: the clock is its own
 * (`performance.now()` of its process), so two snapshots give a window's mean concurrency
 * (Δ`inFlightMs` / Δ`atMs`, Little's L) and mean hold (Δ`holdMs` / Δ`answered`, Little's W).
 */
export interface HoldStats {
  /** When this snapshot was taken, ms on the service's clock. */
  atMs: number;
  answered: number;
  /** ∫ requests being held dt (arrival → answer written), ms. */
  inFlightMs: number;
  /** Σ hold of the answered requests (arrival → answer written), ms. */
  holdMs: number;
  /** Σ lateness: answer written − (arrival + latency), ms (an early answer counts negative). */
  lateMs: number;
  /** Answers written before their latency was up. */
  early: number;
  /** Answered requests by hold, in HOLD_BUCKET_MS buckets from latency − HOLD_FLOOR_MS on (the first also counts anything earlier, the last anything later). */
  holdHistogram: number[];
  /** The nice value it runs at (raised to PRIORITY_HIGH where it may be). */
  priority: number;
  /** Its event loop's busy time and its CPU time (all threads), ms. */
  busyMs: number;
  cpuMs: number;
}

/** A snapshot of a service that has seen nothing yet. */
export const NO_HOLDS: Readonly<HoldStats> = {
  atMs: 0,
  answered: 0,
  inFlightMs: 0,
  holdMs: 0,
  lateMs: 0,
  early: 0,
  holdHistogram: [],
  priority: 0,
  busyMs: 0,
  cpuMs: 0,
};

/** The hold histogram's resolution. */
export const HOLD_BUCKET_MS = 0.1;
/** The histogram starts this far below the latency (an early answer shows, the first bucket holds anything earlier). */
export const HOLD_FLOOR_MS = 2;
const HOLD_BUCKETS = 1000;

/** How a service holds its answers: `queue` (one FIFO behind a precise alarm) or `timer` (a timer per request, the former way, to compare with). */
export type HoldMode = 'queue' | 'timer';

/** BENCH_PROVIDER_HOLD=timer: a timer per request instead of the queue, for both slow dependencies. */
export function holdModeFromEnv(value = process.env.BENCH_PROVIDER_HOLD): HoldMode {
  return value === 'timer' ? 'timer' : 'queue';
}

/** A count whose time integral is kept (a time-weighted mean from two readings), and its peak. */
export class Level {
  value = 0;
  private area = 0;
  private since = performance.now();
  private peak = 0;

  add(d: number, now = performance.now()): void {
    this.area += this.value * (now - this.since);
    this.since = now;
    this.value += d;
    if (this.value > this.peak) this.peak = this.value;
  }

  /** ∫ value dt from the start to now, ms. */
  integral(now = performance.now()): number {
    this.add(0, now);
    return this.area;
  }

  /** The most at once since the last call (or the start). */
  takePeak(): number {
    const p = this.peak;
    this.peak = this.value;
    return p;
  }
}

/**
 * Holds items for a fixed latency and hands each to `onDue` at its due time. The latency is
 * the same for every item, so they fall due in arrival order: they wait in one FIFO queue
 * behind one alarm, armed for the head. A timer per item (setTimeout(latency)) holds each for
 * the latency plus the timer's own lateness (libuv's millisecond clock, cached per loop
 * iteration), about a millisecond more than advertised. The head is handed over on the first
 * turn of the loop at or after its due time, never before it. It also keeps the hold figures
 * of `HoldStats`: items held (over time), holds, lateness and their histogram.
 */
export class HoldQueue<T> {
  readonly held = new Level();
  answered = 0;
  holdMs = 0;
  lateMs = 0;
  early = 0;
  readonly histogram = new Array<number>(HOLD_BUCKETS).fill(0);
  private readonly queue: { item: T; arrivedAt: number; dueAt: number }[] = [];
  private head = 0;
  private readonly alarm: PreciseAlarm | undefined;

  constructor(
    private readonly latencyMs: number,
    private readonly mode: HoldMode,
    private readonly onDue: (item: T) => void,
  ) {
    this.alarm = mode === 'queue' ? new PreciseAlarm(() => this.release()) : undefined;
  }

  /** A request arrived: it counts as held from now on (performance.now() ms, returned). */
  arrive(now = performance.now()): number {
    this.held.add(+1, now);
    return now;
  }

  /** Answers `item`, which arrived at `arrivedAt` (from `arrive`), at its due time; with `timer`, its timer starts now. */
  hold(item: T, arrivedAt: number): void {
    const h = { item, arrivedAt, dueAt: arrivedAt + this.latencyMs };
    if (this.mode === 'timer') {
      setTimeout(() => this.answer(h, performance.now()), this.latencyMs);
      return;
    }
    this.queue.push(h);
    // Only a new head needs the alarm moved; the others fall due after it.
    if (this.queue.length - this.head === 1) this.alarm!.set(h.dueAt);
  }

  /** The figures of `HoldStats` so far. */
  stats(now = performance.now()): Omit<HoldStats, 'atMs' | 'priority'> {
    const cpu = process.cpuUsage();
    return {
      busyMs: performance.eventLoopUtilization().active,
      cpuMs: (cpu.user + cpu.system) / 1000,
      answered: this.answered,
      inFlightMs: this.held.integral(now),
      holdMs: this.holdMs,
      lateMs: this.lateMs,
      early: this.early,
      holdHistogram: [...this.histogram],
    };
  }

  close(): void {
    this.alarm?.close();
  }

  private answer(h: { item: T; arrivedAt: number; dueAt: number }, now: number): void {
    const hold = now - h.arrivedAt;
    this.answered++;
    this.holdMs += hold;
    this.lateMs += now - h.dueAt;
    this.histogram[
      Math.max(0, Math.min(HOLD_BUCKETS - 1, Math.floor((hold - this.latencyMs + HOLD_FLOOR_MS) / HOLD_BUCKET_MS)))
    ]!++;
    if (hold < this.latencyMs) this.early++;
    // Counted out before it is answered: the answer may let the next request in at once (an
    // SMTP client's pipelined RCPT, parsed as soon as the one before it is answered).
    this.held.add(-1, now);
    this.onDue(h.item);
  }

  /** Answers everything due; re-arms for the next. */
  private release(): void {
    let now = performance.now();
    while (this.head < this.queue.length && this.queue[this.head]!.dueAt <= now) {
      this.answer(this.queue[this.head++]!, now);
      now = performance.now();
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    this.alarm!.set(this.head < this.queue.length ? this.queue[this.head]!.dueAt : undefined);
  }
}

/** A window's hold figures from two snapshots of a service's own measurements. */
export interface HoldWindow {
  /** Time-weighted mean of the requests being held (Little's L). */
  meanInFlight: number;
  /** Mean hold, arrival → answer written (Little's W), and its percentiles, ms. */
  meanHoldMs: number;
  p50HoldMs: number;
  p99HoldMs: number;
  /** Mean lateness past the advertised latency, ms. */
  meanLateMs: number;
  /** Requests/s answered in the window, on the service's clock. */
  perSecond: number;
  /** The service's nice value. */
  priority: number;
  /** The share of the window its event loop was busy, and its CPU time per second of it. */
  busy: number;
  cpu: number;
}

export function holdWindow(from: HoldStats, to: HoldStats, latencyMs: number): HoldWindow | undefined {
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
    priority: to.priority,
    busy: (to.busyMs - from.busyMs) / dt,
    cpu: (to.cpuMs - from.cpuMs) / dt,
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
 * A service stands for one on machines of its own: on a shared host its answers should not
 * wait for the contender's CPU. Linux keeps a nice value per thread (setpriority on the
 * process id reaches only the main thread), so each of the process's threads is raised: the
 * main thread, the alarm's, V8's (a garbage collection waits for its helpers) and libuv's.
 * With autogroup scheduling (sched_autogroup_enabled) a nice value counts only against the
 * processes of the same session, and a session's processes share one fair slice against
 * every other session's: so the service runs in a session of its own (spawnService starts it
 * detached) and raises that session's group too. It needs little CPU, but needs it at once.
 * Without the privilege it runs as it is.
 */
function raiseThreads(): void {
  try {
    // Only a session of its own: started by hand from a shell, it would raise the shell's.
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const session = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]);
    if (session === process.pid) writeFileSync('/proc/self/autogroup', String(constants.priority.PRIORITY_HIGH));
  } catch {}
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    tids = ['0'];
  }
  for (const tid of tids) {
    try {
      setPriority(Number(tid), constants.priority.PRIORITY_HIGH);
    } catch {}
  }
}

/** How often a service reports its measurements (while they change). */
export const REPORT_MS = 100;

/**
 * The service side: raises the process's priority, starts the service, prints `ready JSON`
 * (what the harness needs to reach it), then `stats JSON` every REPORT_MS while its
 * measurements change. Ends on SIGTERM, or when the harness is gone (its standard input closes).
 */
export async function serveAsProcess<S extends HoldStats>(
  start: () => Promise<{ ready: object; stats(): S; close(): Promise<void> }>,
): Promise<void> {
  raiseThreads();
  const service = await start();
  // The alarm's thread inherits the main thread's nice value; threads started lazily may not.
  raiseThreads();
  process.stdout.write(`ready ${JSON.stringify(service.ready)}\n`);
  let last = '';
  const timer = setInterval(() => {
    const s = service.stats();
    // Unchanged but for the clock: nothing happened, nothing to say (a peak taken then is the present value).
    const key = JSON.stringify({ ...s, atMs: 0 });
    if (key !== last) process.stdout.write(`stats ${JSON.stringify(s)}\n`);
    last = key;
  }, REPORT_MS);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    clearInterval(timer);
    void service.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.stdin.once('end', stop);
  process.stdin.resume();
}

/**
 * The harness side: runs `file` (a module that calls serveAsProcess when run as a script)
 * with `args` in a process of its own and waits for it to be ready; `onStats` sees every report.
 */
export async function spawnService<R, S extends HoldStats>(
  file: string,
  args: string[],
  onStats?: (stats: S) => void,
): Promise<{ ready: R; last(): S | undefined; close(): Promise<void> }> {
  // Detached: a session (and scheduling group) of its own; it ends with the harness all the same, as its standard input closes.
  const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
    detached: true,
  });
  const lines = createInterface({ input: child.stdout });
  let last: S | undefined;
  const ready = await new Promise<R>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${file} exited (${code}) before it was ready`)));
    lines.on('line', (line) => {
      const space = line.indexOf(' ');
      const kind = line.slice(0, space);
      if (kind === 'ready') resolve(JSON.parse(line.slice(space + 1)) as R);
      else if (kind === 'stats') {
        last = JSON.parse(line.slice(space + 1)) as S;
        onStats?.(last);
      }
    });
  });
  return {
    ready,
    last: () => last,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
