import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBenchmark } from '../../bench/harness.js';
import { testBrokers } from '../helpers/kafka.js';

// The harness end to end on a tiny run: every contender is launched against the real broker,
// measured and reported. Structure and sanity only — timings are never asserted here.
describe('benchmark harness', () => {
  const dir = mkdtempSync(join(tmpdir(), 'efv-bench-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs each contender on a tiny backlog and writes the report, table, chart and history', async () => {
    const report = await runBenchmark({
      brokers: testBrokers().join(','),
      events: 2000,
      partitions: 2,
      latencyMs: 5,
      providerConcurrency: 16,
      // naive-slow is naive with the provider on: the same two code paths, so left out for time.
      // ours-eos is in: its results are counted differently (committed offsets, markers excluded).
      // naive-smtp likewise (naive with SMTP on); ours-smtp is in: its own dependency and bound.
      // pc-copy and pc-slow: the Java peer, built once by bench/install-parallel-consumer.sh (cached).
      contenders: ['ceiling', 'ours', 'ours-eos', 'ours-slow', 'ours-smtp', 'naive', 'pc-copy', 'pc-slow'],
      slices: { 'ours-slow': 1000, 'ours-smtp': 600, naive: 300, 'pc-slow': 300 },
      resultsDir: dir,
      quick: true,
      note: 'test',
      liveSeconds: 1,
      liveRate: 100,
      validatorBenchMs: 100,
      maxSecondsPerContender: 90,
      seed: 7,
      progress: false,
    });

    expect(report.contenders.map((c) => c.name)).toEqual([
      'ceiling',
      'ours',
      'ours-eos',
      'ours-slow',
      'ours-smtp',
      'naive',
      'pc-copy',
      'pc-slow',
    ]);
    for (const c of report.contenders) {
      expect(c.error, c.name).toBeUndefined();
      expect(c.drained, c.name).toBe(true);
      expect(c.processed, c.name).toBeGreaterThanOrEqual(c.events);
      expect(c.eventsPerSecond, c.name).toBeGreaterThan(0);
      expect(c.peakRssMb, c.name).toBeGreaterThan(0);
      expect(c.cpuSecondsPerMillion, c.name).toBeGreaterThanOrEqual(0);
      if (c.name === 'ceiling') continue; // its latency is not measured (see measureContender)
      expect(c.latency?.received, c.name).toBeGreaterThan(0);
      expect(c.latency!.p99Ms, c.name).toBeGreaterThanOrEqual(c.latency!.p50Ms);
      expect(c.latency!.p50Ms, c.name).toBeGreaterThanOrEqual(0);
    }
    const eos = report.contenders.find((c) => c.name === 'ours-eos')!;
    // Exactly one committed result per event; the markers are counted apart, not as results.
    expect(eos.processed).toBe(eos.events);
    expect(eos.transactionMarkers).toBeGreaterThan(0);
    expect(report.ratios.oursEosToOurs).toBeGreaterThan(0);
    const slow = report.contenders.find((c) => c.name === 'ours-slow')!;
    expect(slow.provider?.boundPerSecond).toBe(3200);
    expect(slow.provider?.requestsPerSecond).toBeGreaterThan(0);
    // What the provider measured of itself over the same window: Little's L within the cap, W at least the latency.
    const seen = slow.provider?.atProvider;
    expect(seen, 'provider-side measurements').toBeDefined();
    expect(seen!.meanInFlight).toBeGreaterThan(0);
    expect(seen!.meanInFlight).toBeLessThanOrEqual(16);
    expect(seen!.meanHoldMs).toBeGreaterThanOrEqual(5);
    expect(seen!.p99HoldMs).toBeGreaterThanOrEqual(seen!.p50HoldMs);
    expect(seen!.maxPerConnection).toBe(1);
    // SMTP probes to the loopback mail provider, bounded by its connection limit / latency.
    const smtp = report.contenders.find((c) => c.name === 'ours-smtp')!;
    expect(smtp.provider?.boundPerSecond).toBe(3200);
    expect(smtp.provider?.requestsPerSecond).toBeGreaterThan(0);
    expect(report.ratios.oursSmtpToBound).toBeGreaterThan(0);
    // What the mail servers (their own process) saw while results flowed: within the limit, never early.
    const mail = smtp.provider?.server;
    expect(mail?.rcpts).toBeGreaterThan(0);
    expect(mail!.meanRcptsHeld).toBeLessThanOrEqual(16);
    expect(mail!.holdMs.mean).toBeGreaterThanOrEqual(5);
    // The Parallel Consumer's slow contender calls the same provider, once per event, under the same bound.
    const pcSlow = report.contenders.find((c) => c.name === 'pc-slow')!;
    expect(pcSlow.provider?.boundPerSecond).toBe(3200);
    expect(pcSlow.provider?.requestsPerEvent).toBeGreaterThanOrEqual(1);
    expect(pcSlow.provider?.atProvider?.meanInFlight).toBeLessThanOrEqual(16);
    // The mail provider keeps no such measurements.
    expect(smtp.provider?.atProvider).toBeUndefined();
    expect(report.ratios.oursToPcCopy).toBeGreaterThan(0);
    expect(report.ratios.oursSlowToPcSlow).toBeGreaterThan(0);
    expect(report.ratios.oursToCeiling).toBeGreaterThan(0);
    expect(report.ratios.oursToNaive).toBeGreaterThan(0);
    expect(report.validatorOnly.localChecksPerSecond).toBeGreaterThan(0);

    const md = readFileSync(join(dir, 'latest.md'), 'utf8');
    expect(md).toContain('| contender | events | events/s |');
    expect(md).toMatch(/ours-slow .*at the provider: [\d.]+ of 16 in flight on average/);
    expect(md).toMatch(/ours-smtp .*mail servers: .*the next MAIL [\d.]+ ms after an answer .*servers at nice -?\d+/);
    for (const c of report.contenders) expect(md).toContain(`| ${c.name} |`);
    expect(readFileSync(join(dir, 'latest.svg'), 'utf8')).toMatch(/^<svg[\s\S]*<polyline[\s\S]*<\/svg>\n$/);
    expect(JSON.parse(readFileSync(join(dir, 'latest.json'), 'utf8')).settings.events).toBe(2000);
    const history = readFileSync(join(dir, 'history.md'), 'utf8').trim().split('\n');
    expect(history.at(-1)).toMatch(/^\| .* \| test \|$/);
    expect(existsSync(join(dir, `${report.startedAt.replace(/[:.]/g, '-')}.json`))).toBe(true);
  }, 240_000);
});
