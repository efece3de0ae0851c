import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { DLQ_HEADERS } from '../../src/contract/headers.js';
import { encodeSignupEvent, type SignupEvent } from '../../src/contract/schemas.js';
import type { Validator, Verdict } from '../../src/validation/types.js';
import { createValidator } from '../../src/validation/validator.js';
import { consumeRecords, topicSize } from '../helpers/kafka.js';
import { produceRaw, resultType, startTestPipeline, type TestPipeline } from '../helpers/processor.js';

let pipeline: TestPipeline | undefined;
let server: Server | undefined;
afterEach(async () => {
  await pipeline?.stop();
  pipeline = undefined;
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

function signup(i: number, email: string): SignupEvent {
  return {
    eventId: `evt-${i}`,
    userId: `user-${i}`,
    email,
    occurredAt: 1_764_300_000_000 + i,
    source: null,
    locale: null,
  };
}

const unknown = (address: string): Verdict => ({
  verdict: 'unknown',
  reason: 'provider_unavailable',
  flags: [],
  normalized: address,
  suggestion: null,
  checks: [],
});

describe('non-blocking retries on a real broker', () => {
  it('sends unknown verdicts through the retry topics and dead-letters them with their history after the last', async () => {
    const calls = new Map<string, number>();
    const validator: Validator = {
      async validate(address) {
        calls.set(address, (calls.get(address) ?? 0) + 1);
        if (address.startsWith('flaky')) {
          // Unknown on the first try, known on the second: comes out of retry topic 1.
          return calls.get(address)! < 2
            ? unknown(address)
            : { ...unknown(address), verdict: 'deliverable', reason: null };
        }
        if (address.startsWith('down')) return unknown(address);
        return { ...unknown(address), verdict: 'deliverable', reason: null };
      },
    };
    pipeline = await startTestPipeline({ validator, partitions: 2, env: { RETRY_DELAYS: '300ms,600ms' } });
    const t = pipeline.topics;
    await produceRaw(t.input, [
      { key: 'a', value: encodeSignupEvent(signup(1, 'flaky@example.com')) },
      { key: 'b', value: encodeSignupEvent(signup(2, 'down@example.com')) },
      { key: 'c', value: encodeSignupEvent(signup(3, 'fine@example.com')) },
    ]);
    const out = await consumeRecords([t.valid, t.invalid, t.deadLetter], 3, 30_000);
    expect(out).toHaveLength(3);
    const flaky = out.find((r) => r.message.key?.toString() === 'a')!;
    expect(flaky.topic).toBe(t.valid);
    const result = resultType.fromBuffer(flaky.message.value!);
    // The result names the original input record, not the retry record it was read from.
    expect(result.sourceRecord.topic).toBe(t.input);
    expect(calls.get('flaky@example.com')).toBe(2);

    const down = out.find((r) => r.message.key?.toString() === 'b')!;
    expect(down.topic).toBe(t.deadLetter);
    const h = down.message.headers!;
    expect(h[DLQ_HEADERS.code]?.toString()).toBe('VALIDATION_UNKNOWN');
    expect(h[DLQ_HEADERS.attempts]?.toString()).toBe('3');
    expect(h[DLQ_HEADERS.topic]?.toString()).toBe(t.input);
    expect(h[DLQ_HEADERS.retryHistory]?.toString().split(';')).toHaveLength(3);
    expect(Date.parse(h[DLQ_HEADERS.lastFailureAt]!.toString())).toBeGreaterThan(
      Date.parse(h[DLQ_HEADERS.firstFailureAt]!.toString()),
    );
    expect(Buffer.compare(down.message.value!, encodeSignupEvent(signup(2, 'down@example.com')))).toBe(0);
    expect(calls.get('down@example.com')).toBe(3);
    expect(await topicSize(`${t.input}.retry.300ms`)).toBe(2);
    expect(await topicSize(`${t.input}.retry.600ms`)).toBe(1);
  });

  it('during a provider outage judges nothing undeliverable, and brings every event out with its real verdict', async () => {
    let failing = true;
    let requests = 0;
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        requests++;
        if (failing) {
          res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"down"}');
          return;
        }
        const { email } = JSON.parse(body) as { email: string };
        const result = email.startsWith('gone')
          ? { result: 'undeliverable', reason: 'mailbox_not_found' }
          : { result: 'deliverable' };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
      });
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const env = {
      CHECK_PROVIDER: 'true',
      PROVIDER_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/verify`,
      PROVIDER_RETRIES: '1',
      PROVIDER_BACKOFF_BASE_MS: '10',
      PROVIDER_BREAKER_THRESHOLD: '3',
      PROVIDER_BREAKER_COOLDOWN_MS: '300',
      PROVIDER_RATE_PER_SECOND: '1000',
      PROVIDER_BURST: '1000',
      RETRY_DELAYS: '1s,2s,4s',
      CHECK_DNS: 'false',
    };
    const breaker: string[] = [];
    const validator = createValidator(loadConfig(env).validation, {
      onProviderBreakerStateChange: (state) => breaker.push(state),
    });
    pipeline = await startTestPipeline({ validator, partitions: 2, env });
    const t = pipeline.topics;
    const n = 20;
    await produceRaw(
      t.input,
      Array.from({ length: n }, (_, i) => ({
        key: `u${i}`,
        value: encodeSignupEvent(signup(i, i % 4 === 0 ? `gone${i}@example.com` : `ok${i}@example.com`)),
      })),
    );
    // The outage lasts until the first retry round has begun.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await topicSize(`${t.input}.retry.1s`)).toBeGreaterThan(0);
    failing = false;
    const out = await consumeRecords([t.valid, t.invalid, t.deadLetter], n, 30_000);
    expect(out).toHaveLength(n);
    expect(out.filter((r) => r.topic === t.deadLetter)).toHaveLength(0);
    for (const r of out) {
      const result = resultType.fromBuffer(r.message.value!);
      const gone = result.email.startsWith('gone');
      expect(r.topic, result.email).toBe(gone ? t.invalid : t.valid);
      expect(result.reason).toBe(gone ? 'mailbox_not_found' : null);
    }
    expect(breaker).toContain('open');
    expect(breaker[breaker.length - 1]).toBe('closed');
    expect(requests).toBeGreaterThan(n);
  });
});
