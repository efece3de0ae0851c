import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ProcessorMetrics } from '../../src/telemetry/metrics.js';
import type { Verdict } from '../../src/validation/types.js';

function verdict(v: Verdict['verdict'], reason: Verdict['reason']): Verdict {
  return {
    verdict: v,
    reason,
    flags: [],
    normalized: 'anna@example.com',
    suggestion: null,
    checks: [
      { name: 'syntax', status: 'pass', reason: null, detail: null, durationMs: 0.01 },
      { name: 'dns', status: reason === 'no_mx' ? 'fail' : 'pass', reason, detail: 'no_mx', durationMs: 3 },
    ],
  };
}

function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('ProcessorMetrics', () => {
  it('counts routed events by destination, verdict and reason, and dead letters by code', async () => {
    const m = new ProcessorMetrics({ defaultMetrics: false });
    // A record's checks are counted when it is judged, its event once its output is acknowledged.
    const routed = (...args: Parameters<ProcessorMetrics['routed']>) => {
      if (args[1]) m.judged(args[1] as Verdict);
      m.routed(...args);
    };
    routed('valid', verdict('deliverable', null), null, 12);
    routed('valid', verdict('deliverable', null), null, 30);
    routed('invalid', verdict('undeliverable', 'no_mx'), null, 4);
    routed('deadLetter', null, 'AVRO_DECODE', 1);
    routed('deadLetter', verdict('unknown', 'timeout'), 'VALIDATION_UNKNOWN', 10_000);
    const text = await m.scrape();
    expect(value(text, 'efv_events_total{destination="valid",verdict="deliverable",reason="none"}')).toBe(2);
    expect(value(text, 'efv_events_total{destination="invalid",verdict="undeliverable",reason="no_mx"}')).toBe(1);
    expect(value(text, 'efv_events_total{destination="dead_letter",verdict="none",reason="none"}')).toBe(1);
    expect(value(text, 'efv_events_total{destination="dead_letter",verdict="unknown",reason="timeout"}')).toBe(1);
    expect(value(text, 'efv_dead_letters_total{code="AVRO_DECODE"}')).toBe(1);
    expect(value(text, 'efv_dead_letters_total{code="VALIDATION_UNKNOWN"}')).toBe(1);
    expect(value(text, 'efv_event_duration_seconds_bucket{le="0.025",destination="valid"}')).toBe(1);
    expect(value(text, 'efv_event_duration_seconds_count{destination="valid"}')).toBe(2);
    expect(value(text, 'efv_check_duration_seconds_count{check="dns",status="fail"}')).toBe(1);
    expect(value(text, 'efv_check_duration_seconds_count{check="syntax",status="pass"}')).toBe(4);
    // The normalised address is on the verdict, but never in a label.
    expect(text).not.toContain('anna');
  });

  it('exposes the per-event series exactly as prom-client would, across scrapes', async () => {
    // The per-event series are counted in bound slots and handed over at scrape time; the
    // reference registry gets the same observations through prom-client's own API.
    const m = new ProcessorMetrics({ defaultMetrics: false });
    const ref = new Registry();
    const buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
    const refEvents = new Counter({
      name: 'efv_events_total',
      help: 'x',
      labelNames: ['destination', 'verdict', 'reason'],
      registers: [ref],
    });
    const refDuration = new Histogram({
      name: 'efv_event_duration_seconds',
      help: 'x',
      labelNames: ['destination'],
      buckets,
      registers: [ref],
    });
    const refChecks = new Histogram({
      name: 'efv_check_duration_seconds',
      help: 'x',
      labelNames: ['check', 'status'],
      buckets,
      registers: [ref],
    });
    const series = (text: string, prefix: string) =>
      text
        .split('\n')
        .filter((l) => l.startsWith(prefix))
        .sort();
    const both = (dest: 'valid' | 'invalid', v: Verdict, ms: number) => {
      m.judged(v);
      m.routed(dest, v, null, ms);
      refEvents.inc({ destination: dest, verdict: v.verdict, reason: v.reason ?? 'none' });
      refDuration.observe({ destination: dest }, ms / 1000);
      for (const c of v.checks) refChecks.observe({ check: c.name, status: c.status }, c.durationMs / 1000);
    };
    both('valid', verdict('deliverable', null), 0.4);
    both('valid', verdict('deliverable', null), 25); // on a bucket bound: counted in it
    both('invalid', verdict('undeliverable', 'no_mx'), 99_000); // past the last bound: +Inf only
    for (const round of [1, 2]) {
      const [ours, theirs] = [await m.scrape(), await ref.metrics()];
      for (const name of ['efv_events_total', 'efv_event_duration_seconds', 'efv_check_duration_seconds']) {
        const got = series(ours, `${name}`);
        expect(got.length, `${name} in round ${round}`).toBeGreaterThan(0);
        expect(got).toEqual(series(theirs, `${name}`));
      }
      both('invalid', verdict('undeliverable', 'no_mx'), 3);
    }
  });

  it('drops the gauges of partitions that moved away on a rebalance', async () => {
    const m = new ProcessorMetrics({ defaultMetrics: false });
    m.rebalanced({ signups: [0, 1] });
    m.inFlight('signups', 0, 5);
    m.inFlight('signups', 1, 7);
    m.lag('signups', 1, 42);
    m.paused('signups', 1, true);
    m.committed('signups', 1, 100);
    let text = await m.scrape();
    expect(value(text, 'efv_partition_in_flight{topic="signups",partition="1"}')).toBe(7);
    expect(value(text, 'efv_consumer_lag{topic="signups",partition="1"}')).toBe(42);
    expect(value(text, 'efv_partition_pauses_total{topic="signups",partition="1"}')).toBe(1);
    expect(value(text, 'efv_partition_paused{topic="signups",partition="1"}')).toBe(1);
    expect(value(text, 'efv_committed_offset{topic="signups",partition="1"}')).toBe(100);
    expect(value(text, 'efv_assigned_partitions{topic="signups"}')).toBe(2);
    m.rebalanced({ signups: [0] });
    m.inFlight('signups', 0, 3);
    text = await m.scrape();
    expect(value(text, 'efv_partition_in_flight{topic="signups",partition="1"}')).toBeUndefined();
    expect(value(text, 'efv_consumer_lag{topic="signups",partition="1"}')).toBeUndefined();
    expect(value(text, 'efv_partition_in_flight{topic="signups",partition="0"}')).toBe(3);
    expect(value(text, 'efv_assigned_partitions{topic="signups"}')).toBe(1);
    expect(value(text, 'efv_rebalances_total')).toBe(2);
    // Counters are not reset: they only grow.
    expect(value(text, 'efv_partition_pauses_total{topic="signups",partition="1"}')).toBe(1);
  });

  it('reports processor state, publishing, the provider and the DNS cache', async () => {
    const m = new ProcessorMetrics({ defaultMetrics: false });
    let text = await m.scrape();
    expect(value(text, 'efv_processor_state{state="idle"}')).toBe(1);
    expect(value(text, 'efv_dns_cache_hit_ratio')).toBe(0);
    m.state('running');
    m.publishBatch(10, 5);
    m.publishBatch(3, 50, new Error('broker down'));
    m.providerRequest('http_200', 20);
    m.providerRequest('http_503', 20);
    m.providerRequest('reset', 1);
    m.providerBreaker('open');
    let stats = { hits: 3, misses: 1, size: 1 };
    m.watchDnsCache(() => stats);
    text = await m.scrape();
    expect(value(text, 'efv_processor_state{state="running"}')).toBe(1);
    expect(value(text, 'efv_processor_state{state="idle"}')).toBe(0);
    expect(value(text, 'efv_publish_batches_total{outcome="ok"}')).toBe(1);
    expect(value(text, 'efv_publish_batches_total{outcome="error"}')).toBe(1);
    expect(value(text, 'efv_published_records_total')).toBe(10);
    expect(value(text, 'efv_provider_requests_total{outcome="http_200"}')).toBe(1);
    expect(value(text, 'efv_provider_errors_total{outcome="http_503"}')).toBe(1);
    expect(value(text, 'efv_provider_errors_total{outcome="reset"}')).toBe(1);
    expect(value(text, 'efv_provider_errors_total{outcome="http_200"}')).toBeUndefined();
    expect(value(text, 'efv_provider_breaker_state')).toBe(2);
    expect(value(text, 'efv_provider_breaker_transitions_total{state="open"}')).toBe(1);
    expect(value(text, 'efv_dns_cache_hit_ratio')).toBe(0.75);
    expect(value(text, 'efv_dns_cache_lookups_total{result="hit"}')).toBe(3);
    stats = { hits: 9, misses: 1, size: 1 };
    text = await m.scrape();
    expect(value(text, 'efv_dns_cache_lookups_total{result="hit"}')).toBe(9);
    expect(value(text, 'efv_dns_cache_lookups_total{result="miss"}')).toBe(1);
    expect(value(text, 'efv_dns_cache_hit_ratio')).toBe(0.9);
  });

  it('includes the standard process and Node.js metrics by default', async () => {
    const text = await new ProcessorMetrics().scrape();
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
  });
});
