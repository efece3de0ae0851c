import { afterEach, describe, expect, it } from 'vitest';
import { DLQ_HEADERS } from '../../src/contract/headers.js';
import { encodeSignupEvent, type SignupEvent } from '../../src/contract/schemas.js';
import type { Validator, Verdict } from '../../src/validation/types.js';
import { consumeRecords } from '../helpers/kafka.js';
import { produceRaw, resultType, startTestPipeline, type TestPipeline } from '../helpers/processor.js';

let pipeline: TestPipeline | undefined;
afterEach(async () => {
  await pipeline?.stop();
  pipeline = undefined;
});

function signup(i: number, email: string, userId = `user-${i}`): SignupEvent {
  return { eventId: `evt-${i}`, userId, email, occurredAt: 1_764_300_000_000 + i, source: 'web', locale: null };
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

function deliverable(address: string): Verdict {
  return { verdict: 'deliverable', reason: null, flags: [], normalized: address, suggestion: null, checks: [] };
}

describe('processor on a real broker', () => {
  it('routes each event to exactly the expected topic, with decodable results and keys preserved', async () => {
    pipeline = await startTestPipeline();
    const cases: { email: string; topic: keyof TestPipeline['topics']; verdict?: string; reason?: string | null }[] = [
      { email: 'anna.smith@example.com', topic: 'valid', verdict: 'deliverable', reason: null },
      { email: '  Ben.Jones@EXAMPLE.org ', topic: 'valid', verdict: 'deliverable', reason: null },
      { email: 'info@example.com', topic: 'valid', verdict: 'risky', reason: 'role' },
      { email: 'someone@mailinator.com', topic: 'valid', verdict: 'risky', reason: 'disposable' },
      { email: 'two@@example.com', topic: 'invalid', verdict: 'undeliverable', reason: 'invalid_syntax' },
      { email: 'no-domain@', topic: 'invalid', verdict: 'undeliverable', reason: 'invalid_syntax' },
      { email: `${'x'.repeat(65)}@example.com`, topic: 'invalid', verdict: 'undeliverable', reason: 'invalid_syntax' },
    ];
    const t = pipeline.topics;
    await produceRaw(
      t.input,
      cases.map((c, i) => ({ key: `user-${i}`, value: encodeSignupEvent(signup(i, c.email)) })),
    );
    await produceRaw(t.input, [
      { key: 'user-typo', value: encodeSignupEvent({ ...signup(99, 'jane@gmial.com'), eventId: 'evt-typo' }) },
    ]);
    // One JSON event as well: producers may send either.
    await produceRaw(t.input, [
      { key: 'user-json', value: JSON.stringify({ eventId: 'evt-json', email: 'carla@example.net' }) },
    ]);
    // At-least-once: a produce request KafkaJS resends whole after a partial failure repeats
    // the results that were written, so wait for every event, not for a count of records.
    const eventIdOf = (r: { message: { value: Buffer | null } }) =>
      resultType.fromBuffer(r.message.value!).eventId as string;
    const out = await consumeRecords([t.valid, t.invalid, t.deadLetter], cases.length + 2, 30_000, {
      until: (rs) => new Set(rs.map(eventIdOf)).size >= cases.length + 2,
    });
    const byEvent = new Map(out.map((r) => [eventIdOf(r), r]));
    expect(byEvent.size).toBe(cases.length + 2);
    // A repeat is the same result in the same topic, never a second verdict.
    for (const r of out) expect(r.topic, eventIdOf(r)).toBe(byEvent.get(eventIdOf(r))!.topic);
    cases.forEach((c, i) => {
      const r = byEvent.get(`evt-${i}`);
      expect(r, c.email).toBeDefined();
      expect(r!.topic, c.email).toBe(t[c.topic]);
      expect(r!.message.key?.toString()).toBe(`user-${i}`);
      const result = resultType.fromBuffer(r!.message.value!);
      expect(result.verdict, c.email).toBe(c.verdict);
      expect(result.reason, c.email).toBe(c.reason);
      expect(result.email).toBe(c.email);
      expect(result.sourceRecord.topic).toBe(t.input);
      expect(result.checks.length).toBeGreaterThan(0);
    });
    expect(resultType.fromBuffer(byEvent.get('evt-1')!.message.value!).normalizedEmail).toBe('Ben.Jones@example.org');
    const typo = resultType.fromBuffer(byEvent.get('evt-typo')!.message.value!);
    expect(byEvent.get('evt-typo')!.topic).toBe(t.valid);
    expect(typo.verdict).toBe('risky');
    expect(typo.flags).toContain('did_you_mean');
    expect(typo.suggestion).toBe('jane@gmail.com');
    const json = byEvent.get('evt-json')!;
    expect(json.topic).toBe(t.valid);
    expect(json.message.key?.toString()).toBe('user-json');
  });

  it('dead-letters poison input with the right code and the original bytes, and keeps running', async () => {
    pipeline = await startTestPipeline({ partitions: 1 });
    const t = pipeline.topics;
    const truncated = encodeSignupEvent(signup(1, 'a@example.com')).subarray(0, 10);
    const poison = [
      { key: 'p-garbage', value: Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00]), code: 'AVRO_DECODE' },
      { key: 'p-truncated', value: truncated, code: 'AVRO_DECODE' },
      {
        key: 'p-wrong-schema',
        value: Buffer.from([0x02, 0x41, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80]),
        code: 'AVRO_DECODE',
      },
      { key: 'p-no-email', value: Buffer.from('{"userId":"u1"}'), code: 'MISSING_EMAIL' },
      { key: 'p-null', value: null, code: 'NULL_VALUE' },
    ];
    await produceRaw(
      t.input,
      poison.map((p) => ({ key: p.key, value: p.value, headers: { 'x-origin': 'test' } })),
    );
    await produceRaw(t.input, [{ key: 'good', value: encodeSignupEvent(signup(9, 'good@example.com')) }]);
    const out = await consumeRecords([t.valid, t.invalid, t.deadLetter], poison.length + 1);
    const dlq = out.filter((r) => r.topic === t.deadLetter);
    expect(dlq).toHaveLength(poison.length);
    for (const p of poison) {
      const r = dlq.find((d) => d.message.key?.toString() === p.key);
      expect(r, p.key).toBeDefined();
      const h = r!.message.headers!;
      expect(h[DLQ_HEADERS.code]?.toString(), p.key).toBe(p.code);
      expect(h[DLQ_HEADERS.topic]?.toString()).toBe(t.input);
      expect(h[DLQ_HEADERS.partition]?.toString()).toBe('0');
      expect(h[DLQ_HEADERS.offset]?.toString()).toMatch(/^\d+$/);
      expect(h[DLQ_HEADERS.attempts]?.toString()).toBe('1');
      expect(h[DLQ_HEADERS.version]?.toString()).toMatch(/^\d+\.\d+\.\d+/);
      expect(h['x-origin']?.toString()).toBe('test');
      if (p.value === null) expect(r!.message.value).toBeNull();
      else expect(Buffer.compare(r!.message.value!, p.value)).toBe(0);
    }
    const good = out.find((r) => r.message.key?.toString() === 'good');
    expect(good?.topic).toBe(t.valid);
    expect(pipeline.processor.state).toBe('running');
  });

  it('dead-letters unknown verdicts, validator failures and timeouts, never judging them', async () => {
    const validator: Validator = {
      async validate(address) {
        if (address.startsWith('unknown'))
          return { ...deliverable(address), verdict: 'unknown', reason: 'dns_unavailable' };
        if (address.startsWith('throw')) throw new Error('bug in a check');
        if (address.startsWith('hang')) return new Promise<Verdict>(() => {});
        return deliverable(address);
      },
    };
    pipeline = await startTestPipeline({ validator, partitions: 1, env: { VALIDATION_TIMEOUT_MS: '300' } });
    const t = pipeline.topics;
    const emails = ['unknown@example.com', 'throw@example.com', 'hang@example.com', 'fine@example.com'];
    await produceRaw(
      t.input,
      emails.map((e, i) => ({ key: `k${i}`, value: encodeSignupEvent(signup(i, e)) })),
    );
    const out = await consumeRecords([t.valid, t.invalid, t.deadLetter], emails.length, 30_000, {
      until: (rs) => new Set(rs.map((r) => r.message.key?.toString())).size === emails.length,
    });
    const code = (key: string) =>
      out.find((r) => r.message.key?.toString() === key)?.message.headers?.[DLQ_HEADERS.code]?.toString();
    expect(code('k0')).toBe('VALIDATION_UNKNOWN');
    expect(
      out.find((r) => r.message.key?.toString() === 'k0')?.message.headers?.[DLQ_HEADERS.verdictReason]?.toString(),
    ).toBe('dns_unavailable');
    expect(code('k1')).toBe('VALIDATION_ERROR');
    expect(code('k2')).toBe('VALIDATION_UNKNOWN');
    expect(out.find((r) => r.message.key?.toString() === 'k3')?.topic).toBe(t.valid);
    expect(out.filter((r) => r.topic === t.invalid)).toHaveLength(0);
  });

  it('runs validations of one partition concurrently, never above the limit', async () => {
    let running = 0;
    let peak = 0;
    const validator: Validator = {
      async validate(address) {
        running++;
        peak = Math.max(peak, running);
        await tick(40);
        running--;
        return deliverable(address);
      },
    };
    pipeline = await startTestPipeline({
      validator,
      partitions: 1,
      env: { ORDERING: 'unordered', PARTITION_CONCURRENCY: '6' },
    });
    const n = 60;
    await produceRaw(
      pipeline.topics.input,
      Array.from({ length: n }, (_, i) => ({ key: `u${i}`, value: encodeSignupEvent(signup(i, `u${i}@example.com`)) })),
    );
    const out = await consumeRecords([pipeline.topics.valid], n);
    expect(out).toHaveLength(n);
    expect(peak).toBeGreaterThan(1);
    expect(peak).toBeLessThanOrEqual(6);
  });

  it('in key mode never overlaps two events of one key, and keeps their order', async () => {
    const activeByKey = new Map<string, number>();
    let overlap = false;
    let running = 0;
    let peak = 0;
    const validator: Validator = {
      async validate(address) {
        const key = address.split('-')[0]!;
        const n = (activeByKey.get(key) ?? 0) + 1;
        activeByKey.set(key, n);
        if (n > 1) overlap = true;
        running++;
        peak = Math.max(peak, running);
        await tick(5 + Math.floor(Math.random() * 20));
        running--;
        activeByKey.set(key, n - 1);
        return deliverable(address);
      },
    };
    pipeline = await startTestPipeline({
      validator,
      partitions: 1,
      env: { ORDERING: 'key', PARTITION_CONCURRENCY: '16' },
    });
    const n = 80;
    await produceRaw(
      pipeline.topics.input,
      Array.from({ length: n }, (_, i) => ({
        key: `k${i % 5}`,
        value: encodeSignupEvent(signup(i, `k${i % 5}-${i}@example.com`, `k${i % 5}`)),
      })),
    );
    const out = await consumeRecords([pipeline.topics.valid], n);
    expect(out).toHaveLength(n);
    expect(overlap).toBe(false);
    expect(peak).toBeGreaterThan(1);
    // Results of one key come out in input order.
    for (let k = 0; k < 5; k++) {
      const offsets = out
        .filter((r) => r.message.key?.toString() === `k${k}`)
        .map((r) => Number(resultType.fromBuffer(r.message.value!).sourceRecord.offset));
      expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    }
  });

  it('pauses a partition whose window is full and never holds more than the window uncommitted', async () => {
    let peakUncommitted = 0;
    let pauses = 0;
    const validator: Validator = {
      async validate(address) {
        await tick(2);
        return deliverable(address);
      },
    };
    pipeline = await startTestPipeline({
      validator,
      partitions: 1,
      env: { ORDERING: 'unordered', PARTITION_CONCURRENCY: '10', PARTITION_WINDOW: '20' },
      observer: {
        inFlight: (_t, _p, n) => {
          peakUncommitted = Math.max(peakUncommitted, n);
        },
        paused: (_t, _p, paused) => {
          if (paused) pauses++;
        },
      },
    });
    const n = 400;
    await produceRaw(
      pipeline.topics.input,
      Array.from({ length: n }, (_, i) => ({ key: `u${i}`, value: encodeSignupEvent(signup(i, `u${i}@example.com`)) })),
    );
    const out = await consumeRecords([pipeline.topics.valid], n);
    expect(out).toHaveLength(n);
    expect(pauses).toBeGreaterThan(0);
    expect(peakUncommitted).toBeLessThanOrEqual(20);
  });

  it('routes risky verdicts to the invalid topic when configured', async () => {
    pipeline = await startTestPipeline({ partitions: 1, env: { RISKY_ROUTE: 'invalid' } });
    await produceRaw(pipeline.topics.input, [
      { key: 'r', value: encodeSignupEvent(signup(1, 'admin@example.com')) },
      { key: 'd', value: encodeSignupEvent(signup(2, 'dana@example.com')) },
    ]);
    const out = await consumeRecords([pipeline.topics.valid, pipeline.topics.invalid], 2);
    const risky = out.find((r) => r.message.key?.toString() === 'r')!;
    expect(risky.topic).toBe(pipeline.topics.invalid);
    const result = resultType.fromBuffer(risky.message.value!);
    expect(result.verdict).toBe('risky');
    expect(result.flags).toContain('role');
    expect(out.find((r) => r.message.key?.toString() === 'd')?.topic).toBe(pipeline.topics.valid);
  });

  it('carries the input trace context to the result unchanged when no tracing SDK is registered', async () => {
    pipeline = await startTestPipeline();
    const t = pipeline.topics;
    const traced = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await produceRaw(t.input, [
      {
        key: 'traced',
        value: encodeSignupEvent(signup(1, 'anna@example.com')),
        headers: { traceparent: traced, tracestate: 'vendor=1' },
      },
      { key: 'untraced', value: encodeSignupEvent(signup(2, 'ben@example.com')) },
      {
        key: 'malformed',
        value: encodeSignupEvent(signup(3, 'cleo@example.com')),
        headers: { traceparent: 'not-a-trace' },
      },
    ]);
    // At-least-once: a consumer restart (coordinator still loading) may repeat one; wait for all three keys.
    const out = await consumeRecords([t.valid, t.invalid, t.deadLetter], 3, 30_000, {
      until: (records) => new Set(records.map((r) => r.message.key?.toString())).size >= 3,
    });
    const byKey = new Map(out.map((r) => [r.message.key?.toString(), r.message.headers ?? {}]));
    expect(byKey.get('traced')?.traceparent?.toString()).toBe(traced);
    expect(byKey.get('traced')?.tracestate?.toString()).toBe('vendor=1');
    expect(byKey.get('untraced')).toBeDefined();
    expect(byKey.get('untraced')?.traceparent).toBeUndefined();
    // An unparseable context is dropped, not copied.
    expect(byKey.get('malformed')).toBeDefined();
    expect(byKey.get('malformed')?.traceparent).toBeUndefined();
  });
});
