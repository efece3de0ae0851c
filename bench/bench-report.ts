/** The shape of one benchmark run's report: what the harness measures and report.ts renders. */
import type { ContenderName } from './contenders.js';
import type { ProviderWindow } from './provider-server.js';
import type { SmtpServerStats } from './smtp-server.js';

export interface ContenderResult {
  name: ContenderName;
  description: string;
  /** Events in its input (a slice of the preloaded stream for the slow ones). */
  events: number;
  /** Result records it published (committed ones, for a transactional contender). */
  processed: number;
  /**
   * Transactional contenders only: output end offsets minus committed result records at the end
   * of the backlog — the offsets taken by transaction markers (one per partition per transaction).
   */
  transactionMarkers?: number;
  /** Whether it finished its backlog within the time bound. */
  drained: boolean;
  /** Sustained rate of the steady state, events/s (see steadyRate). */
  eventsPerSecond: number;
  /** Launch to last result, seconds (includes start-up and group join). */
  wallSeconds: number;
  latency: LatencyResult | null;
  peakRssMb: number;
  cpuSecondsPerMillion: number;
  /** Throughput over time, for the chart: seconds since launch, events/s. */
  series: { t: number; rate: number }[];
  provider?: ProviderResult;
  error?: string;
}

export interface LatencyResult {
  /** Offered rate of the live phase, events/s (at most half the contender's throughput). */
  offeredPerSecond: number;
  sent: number;
  received: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface ProviderResult {
  latencyMs: number;
  concurrency: number;
  /** Little's law: concurrency / latency, requests/s. */
  boundPerSecond: number;
  /** Steady-state provider requests/s. */
  requestsPerSecond: number;
  fractionOfBound: number;
  requestsPerEvent: number;
  /** The SMTP contenders: what the mail servers saw while results flowed (bench/smtp-server.ts). */
  server?: SmtpServerStats;
  /**
   * The provider's own measurements over the same steady-state window (the HTTP provider
   * only): mean requests in flight at it (Little's L, of `concurrency`) and its hold per
   * request (W). `fractionOfBound` ≈ (meanInFlight / concurrency) × (latencyMs / meanHoldMs):
   * the first factor is time a client slot spends outside the provider, the second the
   * provider's own lateness.
   */
  atProvider?: ProviderWindow;
}

export interface BenchReport {
  startedAt: string;
  durationSeconds: number;
  commit: string;
  note: string | null;
  machine: {
    cpuModel: string;
    cpus: number;
    memoryGb: number;
    loadAverage: number[];
    node: string;
    kafka: string;
    kcat: string;
    platform: string;
  };
  settings: {
    events: number;
    partitions: number;
    quick: boolean;
    latencyMs: number;
    providerConcurrency: number;
    liveSeconds: number;
    sampleIntervalMs: number;
    kcatMethod: string;
    preloadSeconds: number;
    preloadPerSecond: number;
  };
  validatorOnly: { localChecksPerSecond: number; dnsWarmCachePerSecond: number };
  contenders: ContenderResult[];
  ratios: {
    oursToCeiling: number | null;
    oursToKafkajsCopy: number | null;
    oursToNaive: number | null;
    /** Exactly-once against at-least-once, same checks: its throughput cost. */
    oursEosToOurs: number | null;
    oursSlowToNaiveSlow: number | null;
    oursSlowToBound: number | null;
    /** SMTP probes/s against the provider's connection limit / latency. */
    oursSmtpToBound: number | null;
    oursSmtpToNaiveSmtp: number | null;
    /** Against Confluent's Parallel Consumer (Java), tuned as its users would: the peer. */
    oursToPcCopy?: number | null;
    oursSlowToPcSlow?: number | null;
  };
}
