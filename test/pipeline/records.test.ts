import type { IHeaders, KafkaMessage, RecordBatchEntry } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { RESULT_CONTENT_TYPE } from '../../src/contract/content-types.js';
import { DLQ_HEADERS, DLQ_MAX_VALUE_BYTES } from '../../src/contract/headers.js';
import {
  decodeValidationResult,
  encodeValidationResult,
  type ValidationResult,
  validationResultType,
} from '../../src/contract/schemas.js';
import { ProcessorError } from '../../src/errors.js';
import { MAX_REQUEST_BYTES, recordBytes } from '../../src/pipeline/publish/batcher.js';
import { batchBytesOf } from '../../src/pipeline/publish/message-size.js';
import { deadLetterRecord, resultHeaders, retryStateOf } from '../../src/pipeline/records.js';

const src = { topic: 'signups', partition: 2, offset: '17' };

function message(value: Buffer | null, headers: IHeaders = {}): KafkaMessage {
  const m: RecordBatchEntry = {
    key: Buffer.from('k'),
    value,
    timestamp: '1',
    attributes: 0,
    offset: '17',
    headers,
  };
  return m;
}

describe('deadLetterRecord', () => {
  it('keeps the original bytes and the replay provenance, and states why', () => {
    const value = Buffer.from([1, 2, 3]);
    const r = deadLetterRecord(
      message(value, { 'efv-replay-of': 'signups.dlq/0/5', 'efv-error-code': 'OLD', traceparent: 'x', 'x-app': 'y' }),
      src,
      new ProcessorError('AVRO_DECODE', 'bad'),
      'signups.dlq',
    );
    expect(r.value).toBe(value);
    expect(r.headers['efv-replay-of']).toBe('signups.dlq/0/5');
    expect(r.headers['x-app']?.toString()).toBe('y');
    expect(r.headers.traceparent).toBeUndefined();
    expect(r.headers[DLQ_HEADERS.code]).toBe('AVRO_DECODE');
    expect(r.headers[DLQ_HEADERS.offset]).toBe('17');
  });

  it('leaves out a value too large to publish, with its size and hash, instead of blocking the partition', () => {
    const big = Buffer.alloc(DLQ_MAX_VALUE_BYTES + 1, 7);
    const r = deadLetterRecord(message(big), src, new ProcessorError('OVERSIZED', 'big'), 'signups.dlq');
    expect(r.value).toBeNull();
    expect(r.headers[DLQ_HEADERS.valueDropped]).toBe('true');
    expect(r.headers[DLQ_HEADERS.valueBytes]).toBe(String(big.length));
    expect(r.headers[DLQ_HEADERS.valueSha256]).toMatch(/^[0-9a-f]{64}$/);
    expect(recordBytes(r)).toBeLessThan(MAX_REQUEST_BYTES);
  });

  it('carries the attempt history forward from a retry record', () => {
    const retry = retryStateOf(
      {
        [DLQ_HEADERS.attempts]: '2',
        [DLQ_HEADERS.firstFailureAt]: '2026-11-28T00:00:00.000Z',
        [DLQ_HEADERS.retryHistory]: 'timeout@2026-11-28T00:00:00.000Z;timeout@2026-11-28T00:01:00.000Z',
        [DLQ_HEADERS.topic]: 'signups',
        [DLQ_HEADERS.partition]: '4',
        [DLQ_HEADERS.offset]: '99',
      },
      { topic: 'signups.retry.1m', partition: 0, offset: '3' },
    );
    expect(retry.origin).toEqual({ topic: 'signups', partition: 4, offset: '99' });
    const r = deadLetterRecord(
      message(Buffer.from('v')),
      retry.origin,
      new ProcessorError('VALIDATION_UNKNOWN', 'x'),
      'dlq',
      {
        retry,
        verdictReason: 'dns_unavailable',
      },
    );
    expect(r.headers[DLQ_HEADERS.attempts]).toBe('3');
    expect(r.headers[DLQ_HEADERS.firstFailureAt]).toBe('2026-11-28T00:00:00.000Z');
    expect(String(r.headers[DLQ_HEADERS.retryHistory]).split(';')).toHaveLength(3);
    expect(r.headers[DLQ_HEADERS.partition]).toBe('4');
  });
});

describe('encodeValidationResult', () => {
  it('gives each result bytes of its own, also across slabs and past a slab size', () => {
    const result = (i: number, detail: string): ValidationResult => ({
      eventId: `evt-${i}`,
      userId: `user-${i}`,
      email: `u${i}@example.com`,
      normalizedEmail: `u${i}@example.com`,
      verdict: 'deliverable',
      reason: null,
      flags: [],
      suggestion: null,
      checks: [{ name: 'syntax', status: 'pass', reason: null, detail, durationMicros: i }],
      sourceRecord: { topic: 'signups', partition: 0, offset: i },
      occurredAt: 1,
      validatedAt: 2,
      durationMicros: 3,
      processorVersion: 'test',
      canonicalEmail: null,
    });
    const inputs = Array.from({ length: 3000 }, (_, i) =>
      result(i, i === 1500 ? 'x'.repeat(100_000) : 'd'.repeat(i % 50)),
    );
    // Encoded one after another, then all decoded: a later result never overwrote an earlier one.
    const encoded = inputs.map((r) => encodeValidationResult(r));
    encoded.forEach((buf, i) => {
      expect(buf.equals(validationResultType.toBuffer(inputs[i]))).toBe(true);
      expect(decodeValidationResult(buf).eventId).toBe(`evt-${i}`);
    });
  });
});

describe('resultHeaders', () => {
  it('shares one frozen object per verdict and reason, so encoders and size estimates work it out once', () => {
    const a = resultHeaders('risky', 'possible_typo');
    expect(a).toBe(resultHeaders('risky', 'possible_typo'));
    expect(Object.isFrozen(a)).toBe(true);
    expect(a).toEqual({ 'content-type': RESULT_CONTENT_TYPE, 'efv-verdict': 'risky', 'efv-reason': 'possible_typo' });
    expect(resultHeaders('risky', 'disposable')).not.toBe(a);
    expect(resultHeaders('deliverable', '')['efv-reason']).toBe('');
  });

  it('keeps the size estimates of shared headers equal to those of a fresh copy', () => {
    const shared = { topic: 't', key: 'k', value: Buffer.alloc(10), headers: resultHeaders('deliverable', '') };
    const fresh = { ...shared, headers: { ...shared.headers } };
    expect(recordBytes(shared)).toBe(recordBytes(fresh));
    expect(batchBytesOf(shared)).toBe(batchBytesOf(fresh));
  });
});
