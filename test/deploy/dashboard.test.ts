/**
 * The Grafana dashboard (deploy/grafana/dashboards, shipped by the chart from its own
 * identical copy): every efv_* metric a panel queries must be one the processor exports on
 * /metrics, or the panel stays empty after a rename nobody noticed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProcessorMetrics } from '../../src/telemetry/metrics.js';
import { repoRoot } from './tools.js';

const composeCopy = join(repoRoot, 'deploy', 'grafana', 'dashboards', 'email-flow-validator.json');
const chartCopy = join(repoRoot, 'helm', 'email-flow-validator', 'dashboards', 'email-flow-validator.json');

// biome-ignore lint/suspicious/noExplicitAny: a Grafana dashboard is untyped JSON.
type Json = Record<string, any>;

/** Panels, including those nested in collapsed rows. */
function panels(dashboard: Json): Json[] {
  return (dashboard.panels ?? []).flatMap((p: Json) => [p, ...panels(p)]);
}

/** Panels that draw (not the rows that group them). */
function graphs(dashboard: Json): Json[] {
  return panels(dashboard).filter((p) => p.type !== 'row');
}

/** The PromQL of every panel target and query variable. */
function queries(dashboard: Json): string[] {
  const fromPanels = panels(dashboard).flatMap((p) => (p.targets ?? []).map((t: Json) => t.expr as string));
  const fromVariables = (dashboard.templating?.list ?? [])
    .filter((v: Json) => v.type === 'query')
    .map((v: Json) => (typeof v.query === 'string' ? v.query : v.query.query) as string);
  return [...fromPanels, ...fromVariables];
}

/** efv_* metric names a query reads, with a histogram's _bucket/_sum/_count suffix removed. */
function metricNames(promql: string): string[] {
  const names = [...promql.matchAll(/\befv_[a-zA-Z0-9_:]*/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, ''));
  return [...new Set(names)];
}

/** Metric families the registry prints, from its # TYPE lines. */
function exported(text: string): Set<string> {
  return new Set(
    text
      .split('\n')
      .filter((l) => l.startsWith('# TYPE '))
      .map((l) => l.split(' ')[2]!),
  );
}

describe('Grafana dashboard', () => {
  const raw = readFileSync(composeCopy, 'utf8');
  const dashboard = JSON.parse(raw) as Json;

  it('is the same file in docker-compose and in the Helm chart', () => {
    expect(readFileSync(chartCopy).equals(readFileSync(composeCopy)), `${chartCopy} differs from ${composeCopy}`).toBe(
      true,
    );
  });

  it('has the operator panels, each with a query, in rows', () => {
    const titles = graphs(dashboard).map((p) => p.title as string);
    expect(titles).toEqual([
      'Build',
      'Processor state',
      'Assigned partitions',
      'Results per topic and verdict',
      'Dead letters by error code',
      'Retries',
      'Invalid and risky by reason',
      'Processing latency percentiles',
      'Check latency p95 by check',
      'Publish requests',
      'Consumer lag per partition',
      'In-flight per partition',
      'Backpressure pauses',
      'Commits',
      'Rebalances',
      'Provider requests by outcome',
      'Provider latency p95',
      'Provider circuit breaker',
      'DNS cache hit ratio',
      'DNS lookups',
      'DNS cache entries',
      'SMTP probes by provider and outcome',
      'SMTP connections',
      'SMTP providers backing off',
      'Event loop delay p99',
      'Memory',
      'CPU',
    ]);
    for (const p of graphs(dashboard)) {
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets) expect(t.expr, p.title).toMatch(/\b(efv|nodejs|process)_/);
    }
    const exprs = queries(dashboard).join('\n');
    expect(exprs).toMatch(/sum by \(destination, verdict\) \(rate\(efv_events_total\{[^}]*\}\[\$__rate_interval\]\)\)/);
    expect(exprs).toMatch(/histogram_quantile\(0\.99, sum by \(le\) \(rate\(efv_event_duration_seconds_bucket/);
    expect(exprs).toMatch(/sum by \(code\) \(rate\(efv_dead_letters_total/);
    expect(exprs).toMatch(/by \(topic, partition\) \(efv_consumer_lag/);
  });

  it('sizes every rate window with $__rate_interval, never a fixed window that gaps at a 30 s scrape', () => {
    const windows = queries(dashboard).flatMap((q) => [...q.matchAll(/\[([^\]]+)\]/g)].map((m) => m[1]));
    expect(windows.length).toBeGreaterThan(10);
    expect(new Set(windows)).toEqual(new Set(['$__rate_interval']));
  });

  it('queries only metrics the processor exports on /metrics', async () => {
    // As run.ts builds it, with the default Node metrics; nothing observed yet, so every
    // family prints only its # HELP / # TYPE lines.
    const text = await new ProcessorMetrics().scrape();
    const families = exported(text);
    const used = [...new Set(queries(dashboard).flatMap(metricNames))].sort();
    // Every efv_* family but the committed offset (a debugging aid, not a panel).
    expect(used).toEqual(
      [...families]
        .filter(
          (n) =>
            n.startsWith('efv_') &&
            n !== 'efv_committed_offset' &&
            n !== 'efv_provider_errors_total' &&
            n !== 'efv_provider_breaker_transitions_total',
        )
        .sort(),
    );
    const missing = used.filter((name) => !families.has(name));
    expect(missing, 'queried by the dashboard but not exported').toEqual([]);
  });

  it('would catch a panel querying a metric that does not exist', async () => {
    const families = exported(await new ProcessorMetrics({ defaultMetrics: false }).scrape());
    expect(families.has('efv_event_duration_seconds')).toBe(true);
    const renamed = metricNames('histogram_quantile(0.9, sum by (le) (rate(efv_event_latency_seconds_bucket[5m])))');
    expect(renamed).toEqual(['efv_event_latency_seconds']);
    expect(renamed.filter((n) => !families.has(n))).toEqual(['efv_event_latency_seconds']);
    expect(metricNames('rate(efv_events_total[1m]) / rate(efv_events_total[5m])')).toEqual(['efv_events_total']);
  });
});
