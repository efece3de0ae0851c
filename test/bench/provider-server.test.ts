import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProviderServerStats, providerWindow, serveSlowProvider } from '../../bench/provider-server.js';
import { HOLD_BUCKET_MS, HOLD_FLOOR_MS, NO_HOLDS } from '../../bench/slow-service.js';

// The benchmark's slow provider on loopback, and what it measures of itself. Only lower
// bounds and identities are asserted, never how late an answer may be.
describe('slow provider', () => {
  const latencyMs = 25;
  let provider: Awaited<ReturnType<typeof serveSlowProvider>>;
  let pool: Pool;

  beforeAll(async () => {
    provider = await serveSlowProvider(latencyMs);
    pool = new Pool(new URL(provider.url).origin, { connections: 8 });
  });
  afterAll(async () => {
    await pool?.close();
    await provider?.close();
  });

  const ask = async () => {
    const sent = performance.now();
    const res = await pool.request({ path: '/verify', method: 'POST', body: '{"email":"a@b.test"}' });
    const body = await res.body.json();
    return { status: res.statusCode, body, tookMs: performance.now() - sent };
  };

  it('answers deliverable, never before its latency, and accounts every request it held', async () => {
    const before = provider.stats();
    // Three waves of eight at once: the queue behind one alarm is filled, drained and refilled.
    const answers = [];
    for (let wave = 0; wave < 3; wave++) answers.push(...(await Promise.all(Array.from({ length: 8 }, ask))));
    const after = provider.stats();

    for (const a of answers) {
      expect(a.status).toBe(200);
      expect(a.body).toEqual({ result: 'deliverable', reason: null, flags: [] });
      expect(a.tookMs).toBeGreaterThanOrEqual(latencyMs);
    }
    expect(after.answered - before.answered).toBe(24);
    expect(after.early - before.early).toBe(0);
    expect(after.holdMs - before.holdMs).toBeGreaterThanOrEqual(24 * latencyMs);
    expect(after.lateMs - before.lateMs).toBeGreaterThanOrEqual(0);
    // Nothing in flight at either end: the time-weighted in-flight integral is the sum of the holds.
    expect(after.inFlightMs - before.inFlightMs).toBeCloseTo(after.holdMs - before.holdMs, 6);
    const counted = after.holdHistogram.reduce((a, b) => a + b, 0) - before.holdHistogram.reduce((a, b) => a + b, 0);
    expect(counted).toBe(24);
    expect(after.maxPerConnection).toBe(1);
    expect(after.connections).toBeGreaterThan(0);
  });
});

describe('providerWindow', () => {
  const snapshot = (over: Partial<ProviderServerStats>): ProviderServerStats => ({
    ...NO_HOLDS,
    holdHistogram: new Array(1000).fill(0),
    connections: 4,
    maxPerConnection: 1,
    ...over,
  });
  const bucketOf = (holdMs: number, latencyMs: number) =>
    Math.floor((holdMs - latencyMs + HOLD_FLOOR_MS) / HOLD_BUCKET_MS);

  it("gives Little's L and W of the window between two snapshots", () => {
    const latencyMs = 20;
    const from = snapshot({ atMs: 1000, answered: 100, inFlightMs: 50_000, holdMs: 2100, lateMs: 100 });
    const hist = new Array(1000).fill(0);
    // 98 answers held 20.25 ms, 2 held 30.05 ms.
    hist[bucketOf(20.25, latencyMs)] = 98;
    hist[bucketOf(30.05, latencyMs)] = 2;
    const to = snapshot({
      atMs: 3000,
      answered: 200,
      inFlightMs: 50_000 + 2000 * 1.5,
      holdMs: 2100 + 98 * 20.25 + 2 * 30.05,
      lateMs: 100 + 98 * 0.25 + 2 * 10.05,
      holdHistogram: hist,
    });
    const w = providerWindow(from, to, latencyMs)!;
    expect(w.meanInFlight).toBeCloseTo(1.5, 9);
    expect(w.perSecond).toBeCloseTo(50, 9);
    expect(w.meanHoldMs).toBeCloseTo((98 * 20.25 + 2 * 30.05) / 100, 9);
    expect(w.meanLateMs).toBeCloseTo((98 * 0.25 + 2 * 10.05) / 100, 9);
    // Quantiles are the upper edges of their 0.1 ms buckets.
    expect(w.p50HoldMs).toBeCloseTo(20.3, 9);
    expect(w.p99HoldMs).toBeCloseTo(30.1, 9);
  });

  it('is undefined for a window without answers or time', () => {
    const s = snapshot({ atMs: 5, answered: 3 });
    expect(providerWindow(s, s, 20)).toBeUndefined();
  });
});
