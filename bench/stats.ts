import type { ProviderServerStats } from './provider-server.js';

/** One reading of a running contender, taken every sample interval. */
export interface Sample {
  /** Seconds since the contender was launched. */
  t: number;
  /** Result records in its output topics (end offsets summed). */
  outputs: number;
  cpuSeconds: number;
  rssBytes: number;
  /** Requests the slow provider answered so far (slow-dependency contenders only). */
  providerRequests?: number;
  /** The provider's own cumulative measurements at the time (those that keep them). */
  providerStats?: ProviderServerStats | undefined;
}

/** Nearest-rank percentile, p in [0, 100]. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.min(s.length, Math.max(1, Math.ceil((p / 100) * s.length)));
  return s[rank - 1]!;
}

/**
 * The sustained rate of the steady state: from one second after the first output (group join,
 * first fetch and JIT warm-up are over) to the sample at which the backlog was done, as
 * Δvalue / Δt. A mean rather than a median of short intervals, because a KafkaJS consumer
 * works in bursts (fetch, decode, dispatch, publish): with sub-second samples the median of a
 * bursty contender can be zero while it moves thousands of events a second. A run too short
 * to skip its first second is measured from its first output on (or from launch).
 */
export function steadyRate(samples: readonly Sample[], value: (s: Sample) => number, doneAt: number): number {
  const window = steadyWindow(samples, value, doneAt);
  if (window === undefined) return 0;
  const [from, end] = window;
  return end.t > from.t ? (value(end) - value(from)) / (end.t - from.t) : 0;
}

/** The first and last sample of the steady state steadyRate measures over; undefined before any output. */
export function steadyWindow(
  samples: readonly Sample[],
  value: (s: Sample) => number,
  doneAt: number,
): [Sample, Sample] | undefined {
  const first = samples.findIndex((s) => value(s) > 0);
  if (first < 0) return undefined;
  const end = samples[doneAt]!;
  let from = samples.find((s, i) => i > first && i < doneAt && s.t >= samples[first]!.t + 1);
  if (!from || end.t - from.t < 1) from = samples[Math.max(0, first - 1)]!;
  return [from, end];
}
