import { createServer } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { encodeSignupEvent } from '../../src/contract/schemas.js';
import { consumeRecords } from '../helpers/kafka.js';
import { produceRaw } from '../helpers/processor.js';
import { startTestService, type TestService } from '../helpers/service.js';

/** Parses the Prometheus text format into name{labels} → value. */
function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    out.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]));
  }
  return out;
}

/** Sum of every sample of `name` whose labels include all of `labels`. */
function sum(samples: Map<string, number>, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const [key, value] of samples) {
    const brace = key.indexOf('{');
    const n = brace < 0 ? key : key.slice(0, brace);
    if (n !== name) continue;
    if (Object.entries(labels).every(([k, v]) => key.includes(`${k}="${v}"`))) total += value;
  }
  return total;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let svc: TestService | undefined;
afterEach(async () => {
  await svc?.stop();
  svc = undefined;
});

describe('run: operations server against a real broker', () => {
  it('/readyz is 503 until the group join, 200 while running, 503 again while draining', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    // Poll from before the server exists, so the start-up window is observed.
    const seen: number[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        try {
          const res = await fetch(`${base}/readyz`);
          seen.push(res.status);
          await res.arrayBuffer();
          if (res.status === 200) return;
        } catch {
          // Not listening yet.
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    svc = await startTestService({ env: { HTTP_PORT: String(port) } });
    await vi.waitFor(() => expect(seen.at(-1)).toBe(200), { timeout: 10_000 });
    polling = false;
    await poller;
    // Not ready before the join: the statuses go 503…503, then 200 once, and never back.
    expect(seen[0]).toBe(503);
    expect(seen.indexOf(200)).toBe(seen.length - 1);
    expect(svc.service.processor.state).toBe('running');

    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', state: 'running' });
    const live = await fetch(`${base}/healthz`);
    expect(live.status).toBe(200);
    expect(((await live.json()) as { status: string }).status).toBe('ok');

    // Draining: still served, no longer ready.
    const stopping = svc.service.processor.stop();
    const draining = await fetch(`${base}/readyz`);
    expect(draining.status).toBe(503);
    expect(((await draining.json()) as { status: string }).status).toBe('not_ready');
    await stopping;
    const stopped = await fetch(`${base}/readyz`);
    expect(stopped.status).toBe(503);
    expect(await stopped.json()).toEqual({ status: 'not_ready', state: 'stopped' });
    await svc.service.close();
    // Closed with the service.
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });

  it('/metrics counts exactly what was produced, by destination, verdict, reason and error code', async () => {
    svc = await startTestService({ partitions: 2 });
    const t = svc.topics;
    const signup = (i: number, email: string) =>
      encodeSignupEvent({
        eventId: `evt-${i}`,
        userId: `user-${i}`,
        email,
        occurredAt: 1_764_300_000_000,
        source: null,
        locale: null,
      });
    const deliverable = Array.from({ length: 7 }, (_, i) => ({
      key: `user-${i}`,
      value: signup(i, `person${i}@example.com`),
    }));
    const role = [{ key: 'user-20', value: signup(20, 'info@example.com') }];
    const invalid = Array.from({ length: 3 }, (_, i) => ({
      key: `user-${30 + i}`,
      value: signup(30 + i, `bad${i}@@x`),
    }));
    const poison = [
      { key: 'user-40', value: Buffer.from([0xde, 0xad, 0xbe, 0xef]) },
      { key: 'user-41', value: '{"eventId": "e", "email": 42}' },
    ];
    await produceRaw(t.input, [...deliverable, ...role, ...invalid, ...poison]);
    const total = deliverable.length + role.length + invalid.length + poison.length;
    const out = await consumeRecords([t.valid, t.invalid, t.deadLetter], total);
    expect(out).toHaveLength(total);

    // routed() runs once the broker acknowledged a result, and commits follow on a timer.
    const samples = await vi.waitFor(
      async () => {
        const res = await fetch(`${svc!.baseUrl}/metrics`);
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
        const s = parseMetrics(await res.text());
        expect(sum(s, 'efv_events_total')).toBe(total);
        expect(sum(s, 'efv_committed_offset')).toBe(total);
        return s;
      },
      { timeout: 15_000 },
    );
    expect(sum(samples, 'efv_events_total', { destination: 'valid', verdict: 'deliverable', reason: 'none' })).toBe(7);
    expect(sum(samples, 'efv_events_total', { destination: 'valid', verdict: 'risky', reason: 'role' })).toBe(1);
    expect(
      sum(samples, 'efv_events_total', { destination: 'invalid', verdict: 'undeliverable', reason: 'invalid_syntax' }),
    ).toBe(3);
    expect(sum(samples, 'efv_events_total', { destination: 'dead_letter', verdict: 'none', reason: 'none' })).toBe(2);
    expect(sum(samples, 'efv_dead_letters_total')).toBe(2);
    expect(sum(samples, 'efv_dead_letters_total', { code: 'AVRO_DECODE' })).toBe(1);
    expect(sum(samples, 'efv_dead_letters_total', { code: 'MISSING_EMAIL' })).toBe(1);
    expect(sum(samples, 'efv_event_duration_seconds_count')).toBe(total);
    expect(sum(samples, 'efv_published_records_total')).toBe(total);
    expect(sum(samples, 'efv_publish_batches_total', { outcome: 'ok' })).toBeGreaterThan(0);
    expect(sum(samples, 'efv_publish_batches_total', { outcome: 'error' })).toBe(0);
    expect(sum(samples, 'efv_check_duration_seconds_count', { check: 'syntax' })).toBe(total - poison.length);
    expect(sum(samples, 'efv_commits_total')).toBeGreaterThan(0);
    expect(sum(samples, 'efv_assigned_partitions', { topic: t.input })).toBe(2);
    expect(sum(samples, 'efv_processor_state', { state: 'running' })).toBe(1);
    expect(sum(samples, 'efv_processor_state')).toBe(1);
    expect(sum(samples, 'efv_partition_in_flight')).toBe(0);
    expect(sum(samples, 'efv_provider_breaker_state')).toBe(0);
    const lagSeries = [...samples.keys()].filter((k) => k.startsWith('efv_consumer_lag{'));
    expect(lagSeries.length).toBeGreaterThan(0);
    expect(sum(samples, 'efv_consumer_lag')).toBe(0);
    expect(samples.has('process_cpu_user_seconds_total')).toBe(true);
    expect(samples.has('nodejs_eventloop_lag_seconds')).toBe(true);

    // No address or user id in any label.
    const text = await (await fetch(`${svc.baseUrl}/metrics`)).text();
    expect(text).not.toMatch(/@|user-\d/);
  });
});
