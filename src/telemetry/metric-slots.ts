/**
 * The hot path's side of the processor's metrics: values bound to label sets by nested map
 * lookups, counted in plain fields and handed to prom-client only when it is scraped (a
 * prom-client child re-hashes its labels on every call: ~3 µs an event with eight of them).
 * metrics.ts declares the metric families; this file holds the slots and the histogram
 * they are counted in.
 */
import type { Counter, Metric, MetricObjectWithValues, MetricValueWithName, Registry } from 'prom-client';

export type Labels = Record<string, string>;
/** Label sets remembered by each LabelSlots for its next lookups. */
const RECENT = 4;
const noop = () => {};

/**
 * Values bound to label sets of up to three labels, found by nested map lookups of the label
 * values (no string building, no hashing of a label object): the hot path's label cache.
 */
export class LabelSlots<T extends { labels: Labels }> {
  private readonly root = new Map<string, Map<string, Map<string, T>>>();
  readonly all: T[] = [];
  /**
   * The last RECENT label sets found, compared by identity first: the hot path asks for a
   * few sets over and over (a verdict's checks, the common outcomes), and comparing interned
   * strings is cheaper than three map lookups.
   */
  private readonly recentA: (string | undefined)[] = new Array(RECENT);
  private readonly recentB: (string | undefined)[] = new Array(RECENT);
  private readonly recentC: (string | undefined)[] = new Array(RECENT);
  private readonly recentSlot: (T | undefined)[] = new Array(RECENT);
  private recentNext = 0;

  find1(a: string): T | undefined {
    return this.find3(a, '', '');
  }
  find2(a: string, b: string): T | undefined {
    return this.find3(a, b, '');
  }
  find3(a: string, b: string, c: string): T | undefined {
    for (let i = 0; i < RECENT; i++)
      if (this.recentA[i] === a && this.recentB[i] === b && this.recentC[i] === c) return this.recentSlot[i];
    const slot = this.root.get(a)?.get(b)?.get(c);
    if (slot !== undefined) {
      const i = this.recentNext;
      this.recentA[i] = a;
      this.recentB[i] = b;
      this.recentC[i] = c;
      this.recentSlot[i] = slot;
      this.recentNext = (i + 1) % RECENT;
    }
    return slot;
  }
  add1(a: string, slot: T): T {
    return this.add3(a, '', '', slot);
  }
  add2(a: string, b: string, slot: T): T {
    return this.add3(a, b, '', slot);
  }
  add3(a: string, b: string, c: string, slot: T): T {
    let byB = this.root.get(a);
    if (!byB) {
      byB = new Map();
      this.root.set(a, byB);
    }
    let byC = byB.get(b);
    if (!byC) {
      byC = new Map();
      byB.set(b, byC);
    }
    byC.set(c, slot);
    this.all.push(slot);
    return slot;
  }
}

export interface CounterSlot {
  labels: Labels;
  /** Counted since the last scrape. */
  n: number;
}

/** A counter's collect hook: what the slots counted since the last scrape goes into prom-client. */
export function flushInto(slots: LabelSlots<CounterSlot>): (this: Counter) => void {
  return function (this: Counter) {
    for (const slot of slots.all) {
      if (slot.n === 0) continue;
      this.inc(slot.labels, slot.n);
      slot.n = 0;
    }
  };
}

/** One label set of a BoundHistogram: per-bucket counts (the last one +Inf), sum and count. */
class HistogramSeries {
  counts: number[];
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Labels,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(value: number): void {
    const { bounds } = this;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

/**
 * A Prometheus histogram whose series are bound once: observing is a bucket search and three
 * additions. Registered with the registry like prom-client's own metrics and exposed the
 * same way (`_bucket` with `le` first, `_sum`, `_count`).
 */
export class BoundHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly labelNames: string[] = [];
  readonly series = new LabelSlots<HistogramSeries>();

  constructor(
    registry: Registry,
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
  ) {
    registry.registerMetric(this as unknown as Metric);
  }

  newSeries(labels: Labels): HistogramSeries {
    return new HistogramSeries(labels, this.bounds);
  }

  get(): MetricObjectWithValues<MetricValueWithName<string>> {
    const values: MetricValueWithName<string>[] = [];
    for (const s of this.series.all) {
      let acc = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        acc += s.counts[i]!;
        values.push({ metricName: `${this.name}_bucket`, labels: { le: this.bounds[i]!, ...s.labels }, value: acc });
      }
      values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf', ...s.labels }, value: s.count });
      values.push({ metricName: `${this.name}_sum`, labels: { ...s.labels }, value: s.sum });
      values.push({ metricName: `${this.name}_count`, labels: { ...s.labels }, value: s.count });
    }
    return { name: this.name, help: this.help, type: 'histogram' as never, values, aggregator: 'sum', collect: noop };
  }

  reset(): void {
    for (const s of this.series.all) {
      s.counts.fill(0);
      s.sum = 0;
      s.count = 0;
    }
  }
}
