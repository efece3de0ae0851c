import type { TopicOptions } from '../config.js';
import type { ErrorCode } from '../errors.js';
import type { ProcessorObserver } from '../pipeline/processor.js';
import type { Destination } from '../pipeline/routing.js';
import type { Logger } from '../telemetry/logger.js';

/**
 * What `run` says about its work once an interval (LOG_STATS_INTERVAL_MS, a minute by
 * default): events routed per topic, dead letters by code, in-flight and lag. Counts only,
 * never an address.
 */
export class RunStats implements ProcessorObserver {
  private routedBy: Record<Destination, number> = { valid: 0, invalid: 0, retry: 0, deadLetter: 0 };
  private deadLetterCodes = new Map<string, number>();
  private readonly inFlightBy = new Map<string, number>();
  private readonly lagBy = new Map<string, number>();

  routed(destination: Destination, _verdict: unknown, errorCode: ErrorCode | null): void {
    this.routedBy[destination]++;
    if (destination === 'deadLetter' && errorCode)
      this.deadLetterCodes.set(errorCode, (this.deadLetterCodes.get(errorCode) ?? 0) + 1);
  }

  inFlight(topic: string, partition: number, count: number): void {
    this.inFlightBy.set(`${topic}/${partition}`, count);
  }

  lag(topic: string, partition: number, lag: number): void {
    this.lagBy.set(`${topic}/${partition}`, lag);
  }

  rebalanced(assigned: Record<string, number[]>): void {
    // A partition this process no longer owns is another's to report.
    const owned = new Set(Object.entries(assigned).flatMap(([t, ps]) => ps.map((p) => `${t}/${p}`)));
    for (const m of [this.inFlightBy, this.lagBy]) for (const k of m.keys()) if (!owned.has(k)) m.delete(k);
  }

  /** The counts since the last call, and the current in-flight and lag; resets the counts. */
  take(topics: TopicOptions, intervalMs: number): { fields: Record<string, unknown>; message: string } {
    const r = this.routedBy;
    const codes = Object.fromEntries([...this.deadLetterCodes].sort(([a], [b]) => a.localeCompare(b)));
    const events = r.valid + r.invalid + r.retry + r.deadLetter;
    const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
    const inFlight = sum(this.inFlightBy);
    const lag = sum(this.lagBy);
    const byTopic: Record<string, number> = {
      [topics.valid]: r.valid,
      [topics.invalid]: r.invalid,
      [topics.deadLetter]: r.deadLetter,
      retry: r.retry,
    };
    const codeText = Object.entries(codes)
      .map(([c, n]) => `${c} ${n}`)
      .join(', ');
    const message =
      `last ${formatInterval(intervalMs)}: ${events} events in; ` +
      `${topics.valid} ${r.valid}, ${topics.invalid} ${r.invalid}, retry ${r.retry}, ` +
      `${topics.deadLetter} ${r.deadLetter}${codeText ? ` (${codeText})` : ''}; in flight ${inFlight}, lag ${lag}`;
    this.routedBy = { valid: 0, invalid: 0, retry: 0, deadLetter: 0 };
    this.deadLetterCodes = new Map();
    return {
      fields: {
        intervalMs,
        events,
        results: byTopic,
        deadLetters: r.deadLetter,
        deadLetterCodes: codes,
        inFlight,
        lag,
      },
      message,
    };
  }
}

function formatInterval(ms: number): string {
  if (ms % 60_000 === 0) return ms === 60_000 ? 'minute' : `${ms / 60_000} min`;
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/** Logs `stats.take()` at info level every `intervalMs`; returns the function that stops it. */
export function logStatsEvery(stats: RunStats, logger: Logger, topics: TopicOptions, intervalMs: number): () => void {
  if (intervalMs <= 0) return () => {};
  const log = logger.child({ component: 'stats' });
  const timer = setInterval(() => {
    const { fields, message } = stats.take(topics, intervalMs);
    log.info(fields, message);
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** One observer that tells both. */
export function bothObservers(a: ProcessorObserver, b: ProcessorObserver): ProcessorObserver {
  return {
    judged: (...args) => {
      a.judged?.(...args);
      b.judged?.(...args);
    },
    routed: (...args) => {
      a.routed?.(...args);
      b.routed?.(...args);
    },
    inFlight: (...args) => {
      a.inFlight?.(...args);
      b.inFlight?.(...args);
    },
    committed: (...args) => {
      a.committed?.(...args);
      b.committed?.(...args);
    },
    paused: (...args) => {
      a.paused?.(...args);
      b.paused?.(...args);
    },
    rebalanced: (...args) => {
      a.rebalanced?.(...args);
      b.rebalanced?.(...args);
    },
    lag: (...args) => {
      a.lag?.(...args);
      b.lag?.(...args);
    },
    publishBatch: (...args) => {
      a.publishBatch?.(...args);
      b.publishBatch?.(...args);
    },
    state: (...args) => {
      a.state?.(...args);
      b.state?.(...args);
    },
  };
}
