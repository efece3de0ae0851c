/**
 * Deadlines that cancel (issue 13): with a provider slower than VALIDATION_TIMEOUT_MS and one
 * request at a time, every event is answered unknown/timeout at its deadline, and its queued
 * provider request is aborted with it. The provider sees no request that started after its
 * event was answered (before, all 20 of 20 went out later: paid requests for answered events).
 */
import type { ServerResponse } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { DLQ_HEADERS } from '../../src/contract/headers.js';
import { consumeRecords } from '../helpers/kafka.js';
import { produceRaw, startTestPipeline, type TestPipeline } from '../helpers/processor.js';
import { json, startTestProvider, type TestProvider } from '../validation/provider-test-server.js';

let pipeline: TestPipeline | undefined;
let provider: TestProvider | undefined;
afterAll(async () => {
  await pipeline?.stop();
  await provider?.close();
});

describe('validation deadline', () => {
  it('aborts the queued and in-flight provider requests of an answered event', async () => {
    provider = await startTestProvider();
    const pending = new Set<ServerResponse>();
    provider.handle = (_req, res) => {
      pending.add(res);
      setTimeout(() => {
        pending.delete(res);
        if (!res.destroyed) json(res, 200, { result: 'deliverable', reason: null });
      }, 1500).unref();
    };
    pipeline = await startTestPipeline({
      partitions: 1,
      env: {
        CHECK_PROVIDER: 'true',
        PROVIDER_URL: provider.url,
        PROVIDER_CONCURRENCY: '1',
        PROVIDER_RATE_PER_SECOND: '1000',
        PROVIDER_RETRIES: '0',
        VALIDATION_TIMEOUT_MS: '300',
      },
    });
    const n = 20;
    await produceRaw(
      pipeline.topics.input,
      Array.from({ length: n }, (_, i) => ({
        key: `k${i}`,
        value: JSON.stringify({ eventId: `e${i}`, userId: `u${i}`, email: `slow${i}@signup-mail.net` }),
      })),
    );
    const out = await consumeRecords(
      [pipeline.topics.deadLetter, pipeline.topics.valid, pipeline.topics.invalid],
      n,
      60_000,
    );
    expect(out).toHaveLength(n);
    // When each event was answered: its dead letter's last-failure time.
    const answeredAt = new Map<string, number>();
    for (const r of out) {
      expect(r.message.headers?.[DLQ_HEADERS.code]?.toString()).toBe('VALIDATION_UNKNOWN');
      const email = (JSON.parse(r.message.value!.toString()) as { email: string }).email;
      answeredAt.set(email, Date.parse(r.message.headers![DLQ_HEADERS.lastFailureAt]!.toString()));
    }
    // Long enough for a queued request to go out if it had not been aborted (one per 1.5 s).
    await new Promise((r) => setTimeout(r, 4000));
    const late = provider.requests.filter((q) => q.at > (answeredAt.get(q.body.email ?? '') ?? 0));
    expect(late.map((q) => q.body.email)).toEqual([]);
    expect(provider.requests.length).toBeLessThan(n);
    expect(pipeline.processor.failure).toBeUndefined();
  }, 120_000);
});
