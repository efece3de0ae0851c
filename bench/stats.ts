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
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Nearest-rank percentile, p in [0, 100]. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.min(s.length, Math.max(1, Math.ceil((p / 100) * s.length)));
  return s[rank - 1]!;
}

/** Per-interval rates of `value` between consecutive samples, per second. */
export function intervalRates(samples: readonly Sample[], value: (s: Sample) => number): { t: number; rate: number }[] {
  const out: { t: number; rate: number }[] = [];
  for (let i = 1; i < samples.length; i++) {
    const dt = samples[i]!.t - samples[i - 1]!.t;
    if (dt > 0) out.push({ t: samples[i]!.t, rate: (value(samples[i]!) - value(samples[i - 1]!)) / dt });
  }
  return out;
}

/**
 * The steady state: the intervals between the first sample that saw output and the sample at
 * which the backlog was done, without the first (ramp-up: group join, first fetch) and the
 * last (the tail, part of which was idle). Too short a run to trim falls back to the mean
 * over whatever was measured.
 */
export function steadyRate(samples: readonly Sample[], value: (s: Sample) => number, doneAt: number): number {
  const first = samples.findIndex((s) => value(s) > 0);
  if (first < 0) return 0;
  const start = Math.max(0, first - 1);
  const window = samples.slice(start, doneAt + 1);
  const rates = intervalRates(window, value).map((r) => r.rate);
  if (rates.length >= 4) return median(rates.slice(1, -1));
  const a = window[0]!;
  const b = window[window.length - 1]!;
  // Done within one interval: all that can be said is the mean since launch.
  if (window.length < 3 || value(a) === value(b)) return b.t > 0 ? value(b) / b.t : 0;
  return (value(b) - value(a)) / (b.t - a.t);
}
