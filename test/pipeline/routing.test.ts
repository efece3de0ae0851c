import type { KafkaMessage, RecordBatchEntry } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { DLQ_HEADERS, RESULT_HEADERS } from '../../src/contract/headers.js';
import { decodeValidationResult, type SignupEvent } from '../../src/contract/schemas.js';
import { ProcessorError } from '../../src/errors.js';
import { retryStateOf } from '../../src/pipeline/records.js';
import { type RoutingPolicy, route } from '../../src/pipeline/routing.js';
import type { Verdict } from '../../src/validation/types.js';

const topics = { input: 'in', valid: 'in.valid', invalid: 'in.invalid', deadLetter: 'in.dlq' };
const policy: RoutingPolicy = {
  topics,
  riskyRoute: 'invalid',
  retryTopics: ['in.retry-1m', 'in.retry-10m'],
  retryDelaysMs: [60_000, 600_000],
};
const origin = { topic: 'in', partition: 1, offset: '7' };
const event: SignupEvent = {
  eventId: 'e1',
  userId: 'u1',
  email: 'a@example.com',
  occurredAt: 1,
  source: null,
  locale: null,
};
const message: KafkaMessage = {
  key: Buffer.from('u1'),
  value: Buffer.from('v'),
  timestamp: '1',
  attributes: 0,
  offset: '7',
  headers: {},
} satisfies RecordBatchEntry;

function verdict(v: Verdict['verdict'], reason: Verdict['reason'] = null): Verdict {
  return { verdict: v, reason, flags: [], normalized: 'a@example.com', suggestion: null, checks: [] };
}

const input = { message, origin, retry: null, event };
const text = (h: Record<string, string | Buffer>, name: string) => h[name]?.toString();

describe('route: outcome → { destination, record, code }', () => {
  it('sends judged verdicts to their result topic, risky as the policy says', () => {
    const ok = route(policy, input, { verdict: verdict('deliverable'), durationMicros: 12 });
    expect(ok.destination).toBe('valid');
    expect(ok.code).toBeNull();
    expect(ok.record.topic).toBe(topics.valid);
    expect(text(ok.record.headers, RESULT_HEADERS.verdict)).toBe('deliverable');
    const result = decodeValidationResult(ok.record.value!);
    expect(result.sourceRecord).toEqual({ topic: 'in', partition: 1, offset: 7 });
    expect(result.durationMicros).toBe(12);
    expect(route(policy, input, { verdict: verdict('risky'), durationMicros: 1 }).record.topic).toBe(topics.invalid);
    expect(route(policy, input, { verdict: verdict('undeliverable'), durationMicros: 1 }).destination).toBe('invalid');
  });

  it('retries an unknown verdict through each tier, then dead-letters it as VALIDATION_UNKNOWN', () => {
    const first = route(policy, input, { verdict: verdict('unknown', 'timeout'), durationMicros: 1 });
    expect(first).toMatchObject({ destination: 'retry', code: null, record: { topic: 'in.retry-1m' } });
    expect(text(first.record.headers, DLQ_HEADERS.attempts)).toBe('1');
    const retried = {
      ...input,
      retry: retryStateOf(first.record.headers, { topic: 'in.retry-1m', partition: 0, offset: '0' }),
    };
    const second = route(policy, retried, { verdict: verdict('unknown', 'timeout'), durationMicros: 1 });
    expect(second.record.topic).toBe('in.retry-10m');
    const third = route(
      policy,
      { ...input, retry: retryStateOf(second.record.headers, origin) },
      { verdict: verdict('unknown', 'dns_unavailable'), durationMicros: 1 },
    );
    expect(third).toMatchObject({
      destination: 'deadLetter',
      code: 'VALIDATION_UNKNOWN',
      record: { topic: topics.deadLetter },
    });
    expect(text(third.record.headers, DLQ_HEADERS.message)).toBe('no verdict after 3 attempts: dns_unavailable');
    expect(text(third.record.headers, DLQ_HEADERS.offset)).toBe('7');
    // Without retry topics an unknown verdict is dead-lettered at once.
    const noRetry = route({ ...policy, retryTopics: [], retryDelaysMs: [] }, input, {
      verdict: verdict('unknown', 'timeout'),
      durationMicros: 1,
    });
    expect(noRetry.code).toBe('VALIDATION_UNKNOWN');
    expect(text(noRetry.record.headers, DLQ_HEADERS.message)).toBe('no verdict: timeout');
  });

  it('dead-letters a failure with its own code and the original bytes', () => {
    const r = route(policy, { ...input, event: null }, { error: new ProcessorError('AVRO_DECODE', 'bad bytes') });
    expect(r).toMatchObject({ destination: 'deadLetter', code: 'AVRO_DECODE', record: { topic: topics.deadLetter } });
    expect(r.record.value).toEqual(message.value);
    expect(text(r.record.headers, DLQ_HEADERS.code)).toBe('AVRO_DECODE');
  });
});
