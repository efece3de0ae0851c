import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { ErrorCode } from '../errors.js';
import type { ProcessorObserver, ProcessorState } from '../pipeline/observer.js';
import type { Destination } from '../pipeline/routing.js';
import type { BreakerState } from '../validation/circuit-breaker.js';
import type { MxCacheStats } from '../validation/dns.js';
import type { ProviderSnapshot } from '../validation/probe/manners.js';
import type { Verdict } from '../validation/types.js';
import { PROCESSOR_VERSION } from '../version.js';
import { BoundHistogram, type CounterSlot, flushInto, LabelSlots } from './metric-slots.js';

const PREFIX = 'efv_';

/** Prometheus label values: snake case, as the rest of a scrape is. */
function destinationLabel(d: Destination | string): string {
  return d === 'deadLetter' ? 'dead_letter' : d;
}

const BREAKER_VALUE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };
// A Record, so adding a processor state without listing it here fails to compile.
const STATE_NAMES: Record<ProcessorState, true> = {
  idle: true,
  starting: true,
  running: true,
  rebalancing: true,
  draining: true,
  stopped: true,
  failed: true,
};
const STATES = Object.keys(STATE_NAMES) as ProcessorState[];

// Seconds. Local checks take microseconds, a DNS miss milliseconds, a provider or SMTP
// round trip up to the validation deadline (10 s by default).
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * The processor's Prometheus metrics. Labels are bounded sets (destination, verdict,
 * reason, error code, check, topic, partition): never an address, a key or a user id, so a
 * scrape can neither leak personal data nor grow without bound.
 *
 * It is the processor's observer; run.ts also wires the provider's breaker and request
 * hooks and the DNS cache statistics into it.
 */
export class ProcessorMetrics implements ProcessorObserver {
  readonly registry = new Registry();
  private dnsStats: (() => MxCacheStats | null) | undefined;
  private smtpProviders: (() => ProviderSnapshot[] | null) | undefined;

  // The four series every event feeds are counted in bound slots (see routed()) and handed
  // to prom-client at scrape time: prom-client hashes the label set on every inc/observe,
  // which cost ~3 µs per event in the benchmark.
  private readonly eventSlots = new LabelSlots<CounterSlot>();
  private readonly deadLetterSlots = new LabelSlots<CounterSlot>();
  private readonly eventDuration = new BoundHistogram(
    this.registry,
    `${PREFIX}event_duration_seconds`,
    'From dispatch of an event to its result being acknowledged by Kafka, by destination.',
    LATENCY_BUCKETS,
  );
  private readonly checkDuration = new BoundHistogram(
    this.registry,
    `${PREFIX}check_duration_seconds`,
    'Time of each validation check (syntax, lists, dns, provider, smtp), by check and status (pass, fail, unknown, skipped).',
    LATENCY_BUCKETS,
  );
  readonly events = new Counter({
    name: `${PREFIX}events_total`,
    help: 'Events routed, by destination, verdict and reason (verdict and reason "none" for undecodable input; reason "none" for a clean deliverable).',
    labelNames: ['destination', 'verdict', 'reason'] as const,
    registers: [this.registry],
    collect: flushInto(this.eventSlots),
  });
  readonly deadLetters = new Counter({
    name: `${PREFIX}dead_letters_total`,
    help: 'Records published to the dead-letter topic, by error code.',
    labelNames: ['code'] as const,
    registers: [this.registry],
    collect: flushInto(this.deadLetterSlots),
  });
  private readonly inFlightGauge = new Gauge({
    name: `${PREFIX}partition_in_flight`,
    help: 'Offsets of the partition dispatched and not yet committed (the in-flight window).',
    labelNames: ['topic', 'partition'] as const,
    registers: [this.registry],
  });
  private readonly lagGauge = new Gauge({
    name: `${PREFIX}consumer_lag`,
    help: 'Records of the partition not yet committed: its high watermark at the last fetch minus the committed offset.',
    labelNames: ['topic', 'partition'] as const,
    registers: [this.registry],
  });
  private readonly commits = new Counter({
    name: `${PREFIX}commits_total`,
    help: 'Offset commits acknowledged by the group coordinator, by partition.',
    labelNames: ['topic', 'partition'] as const,
    registers: [this.registry],
  });
  private readonly committedOffset = new Gauge({
    name: `${PREFIX}committed_offset`,
    help: 'Last offset committed for the partition (the next offset to read).',
    labelNames: ['topic', 'partition'] as const,
    registers: [this.registry],
  });
  private readonly pauses = new Counter({
    name: `${PREFIX}partition_pauses_total`,
    help: 'Times a partition was paused because its in-flight window was full (backpressure).',
    labelNames: ['topic', 'partition'] as const,
    registers: [this.registry],
  });
  private readonly pausedGauge = new Gauge({
    name: `${PREFIX}partition_paused`,
    help: '1 while the partition is paused for backpressure, else 0.',
    labelNames: ['topic', 'partition'] as const,
    registers: [this.registry],
  });
  private readonly assigned = new Gauge({
    name: `${PREFIX}assigned_partitions`,
    help: 'Partitions assigned to this process after the last group join, by topic.',
    labelNames: ['topic'] as const,
    registers: [this.registry],
  });
  private readonly rebalances = new Counter({
    name: `${PREFIX}rebalances_total`,
    help: 'Consumer group joins (the first one and every rebalance).',
    registers: [this.registry],
  });
  private readonly publishBatches = new Counter({
    name: `${PREFIX}publish_batches_total`,
    help: 'Producer requests sent with results, by outcome (ok, error).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  private readonly publishRecords = new Counter({
    name: `${PREFIX}published_records_total`,
    help: 'Result, retry and dead-letter records acknowledged by Kafka.',
    registers: [this.registry],
  });
  private readonly publishDuration = new Histogram({
    name: `${PREFIX}publish_batch_duration_seconds`,
    help: 'Time of one producer request (acks=all), successful or not.',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly stateGauge = new Gauge({
    name: `${PREFIX}processor_state`,
    help: '1 for the processor state the process is in, 0 for the others.',
    labelNames: ['state'] as const,
    registers: [this.registry],
  });
  private readonly smtpProbes = new Counter({
    name: `${PREFIX}smtp_probes_total`,
    help: 'SMTP probes per mail provider (registrable MX domain with limits of its own, else "other") and outcome: pass, a reason, a failure kind (deadline, line_too_long …), backoff (answered at once), deferral (421 or reputation reply).',
    labelNames: ['provider', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly providerRequests = new Counter({
    name: `${PREFIX}provider_requests_total`,
    help: 'HTTP requests to the verification provider, by outcome (http_200, http_429, http_503, reset, connect_timeout, …).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  private readonly providerErrors = new Counter({
    name: `${PREFIX}provider_errors_total`,
    help: 'Provider requests that did not return a usable answer (every outcome but http_200), by outcome.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  private readonly providerDuration = new Histogram({
    name: `${PREFIX}provider_request_duration_seconds`,
    help: 'Time of one provider HTTP request, from sending to the end of the response.',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly breakerState = new Gauge({
    name: `${PREFIX}provider_breaker_state`,
    help: 'Provider circuit breaker: 0 closed, 1 half-open, 2 open.',
    registers: [this.registry],
  });
  private readonly breakerTransitions = new Counter({
    name: `${PREFIX}provider_breaker_transitions_total`,
    help: 'Provider circuit breaker state changes, by the state entered.',
    labelNames: ['state'] as const,
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean; delivery?: string } = {}) {
    const self = this;
    // Constant 1; its labels tell which build runs where (dashboards join on it, alerts
    // can name the version that started failing).
    new Gauge({
      name: `${PREFIX}build_info`,
      help: 'Always 1: the processor version, the Node.js major version and the delivery mode.',
      labelNames: ['version', 'node_major', 'delivery'] as const,
      registers: [this.registry],
    }).set(
      {
        version: PROCESSOR_VERSION,
        node_major: process.versions.node.split('.')[0]!,
        delivery: options.delivery ?? 'at-least-once',
      },
      1,
    );
    let seen = { hits: 0, misses: 0 };
    // Counters fed from the resolver's running totals at scrape time: nothing on the hot path.
    const lookups = new Counter({
      name: `${PREFIX}dns_cache_lookups_total`,
      help: 'MX lookups, by result: hit (answered from the cache) or miss (a query was sent or joined).',
      labelNames: ['result'] as const,
      registers: [this.registry],
      collect() {
        const s = self.dnsStats?.();
        if (!s) return;
        this.inc({ result: 'hit' }, s.hits - seen.hits);
        this.inc({ result: 'miss' }, s.misses - seen.misses);
        seen = { hits: s.hits, misses: s.misses };
      },
    });
    lookups.inc({ result: 'hit' }, 0);
    lookups.inc({ result: 'miss' }, 0);
    new Gauge({
      name: `${PREFIX}dns_cache_hit_ratio`,
      help: 'Share of MX lookups answered from the cache since start (0 before the first lookup).',
      registers: [this.registry],
      collect() {
        const s = self.dnsStats?.();
        const total = s ? s.hits + s.misses : 0;
        this.set(s && total > 0 ? s.hits / total : 0);
      },
    });
    new Gauge({
      name: `${PREFIX}dns_cache_entries`,
      help: 'Domains in the MX cache.',
      registers: [this.registry],
      collect() {
        this.set(self.dnsStats?.()?.size ?? 0);
      },
    });
    new Gauge({
      name: `${PREFIX}smtp_connections`,
      help: 'SMTP probe connections per mail provider (registrable MX domain with limits of its own, else "other"), by state: open (busy or idle), idle, waiting (probes queued for a slot).',
      labelNames: ['provider', 'state'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const p of self.smtpProviders?.() ?? []) {
          this.set({ provider: p.provider, state: 'open' }, p.open);
          this.set({ provider: p.provider, state: 'idle' }, p.idle);
          this.set({ provider: p.provider, state: 'waiting' }, p.waiting);
        }
      },
    });
    new Gauge({
      name: `${PREFIX}smtp_provider_backoff`,
      help: '1 while a mail provider is backed off after a 421 or a reputation-looking reply (its probes answer unknown at once).',
      labelNames: ['provider'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const p of self.smtpProviders?.() ?? []) this.set({ provider: p.provider }, p.backedOff ? 1 : 0);
      },
    });
    this.breakerState.set(0);
    for (const s of STATES) this.stateGauge.set({ state: s }, s === 'idle' ? 1 : 0);
    for (const outcome of ['ok', 'error']) this.publishBatches.inc({ outcome }, 0);
    // Node's standard process_* and nodejs_* series keep their usual names, so the common
    // Node.js dashboards work unchanged.
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** Reads the SMTP probe's per-provider connection state at each scrape (null while SMTP is off). */
  watchSmtpProviders(snapshot: () => ProviderSnapshot[] | null): void {
    this.smtpProviders = snapshot;
  }

  /** One SMTP probe's outcome (pass, a reason, a failure kind, backoff, deferral) for a provider label. */
  smtpProbe(provider: string, outcome: string): void {
    this.smtpProbes.inc({ provider, outcome });
  }

  /** Reads the DNS cache counters at each scrape (null while the DNS check is off). */
  watchDnsCache(stats: () => MxCacheStats | null): void {
    this.dnsStats = stats;
  }

  routed(
    destination: Destination,
    verdict: Pick<Verdict, 'verdict' | 'reason'> | null,
    errorCode: ErrorCode | null,
    durationMs: number,
  ): void {
    const verdictName = verdict?.verdict ?? 'none';
    const reason = verdict?.reason ?? 'none';
    const slot =
      this.eventSlots.find3(destination, verdictName, reason) ??
      this.eventSlots.add3(destination, verdictName, reason, {
        labels: { destination: destinationLabel(destination), verdict: verdictName, reason },
        n: 0,
      });
    slot.n++;
    if (destination === 'deadLetter') {
      const code = errorCode ?? 'UNKNOWN';
      (this.deadLetterSlots.find1(code) ?? this.deadLetterSlots.add1(code, { labels: { code }, n: 0 })).n++;
    }
    const durations = this.eventDuration.series;
    (
      durations.find1(destination) ??
      durations.add1(destination, this.eventDuration.newSeries({ destination: destinationLabel(destination) }))
    ).observe(durationMs / 1000);
  }

  judged(verdict: Verdict): void {
    const checks = this.checkDuration.series;
    for (const c of verdict.checks)
      (
        checks.find2(c.name, c.status) ??
        checks.add2(c.name, c.status, this.checkDuration.newSeries({ check: c.name, status: c.status }))
      ).observe(c.durationMs / 1000);
  }

  inFlight(topic: string, partition: number, count: number): void {
    this.inFlightGauge.set({ topic, partition }, count);
  }

  committed(topic: string, partition: number, offset: number): void {
    this.commits.inc({ topic, partition });
    this.committedOffset.set({ topic, partition }, offset);
  }

  paused(topic: string, partition: number, paused: boolean): void {
    if (paused) this.pauses.inc({ topic, partition });
    this.pausedGauge.set({ topic, partition }, paused ? 1 : 0);
  }

  rebalanced(assignment: Record<string, number[]>): void {
    this.rebalances.inc();
    // Partitions that moved to another member must not keep reporting their last values.
    for (const g of [this.inFlightGauge, this.lagGauge, this.pausedGauge, this.committedOffset]) g.reset();
    this.assigned.reset();
    for (const [topic, partitions] of Object.entries(assignment)) this.assigned.set({ topic }, partitions.length);
  }

  lag(topic: string, partition: number, lag: number): void {
    if (Number.isFinite(lag)) this.lagGauge.set({ topic, partition }, Math.max(0, lag));
  }

  publishBatch(records: number, durationMs: number, error?: Error): void {
    this.publishBatches.inc({ outcome: error ? 'error' : 'ok' });
    if (!error) this.publishRecords.inc(records);
    this.publishDuration.observe(durationMs / 1000);
  }

  state(state: ProcessorState): void {
    for (const s of STATES) this.stateGauge.set({ state: s }, s === state ? 1 : 0);
  }

  providerBreaker(state: BreakerState): void {
    this.breakerState.set(BREAKER_VALUE[state]);
    this.breakerTransitions.inc({ state });
  }

  providerRequest(outcome: string, durationMs: number): void {
    this.providerRequests.inc({ outcome });
    if (outcome !== 'http_200') this.providerErrors.inc({ outcome });
    this.providerDuration.observe(durationMs / 1000);
  }

  /** The Prometheus text exposition of every metric. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
