/**
 * Found by the decoder fuzz test (issue 7): a JSON event with `"occurredAt": 1e300` (or any
 * number past 2^53) decoded fine, but the result's Avro long then refused it, so building the
 * result threw and the processor stopped: one hostile event took the whole consumer down.
 * A record timestamp past 2^53 (brokers before Kafka 4 accept any future CreateTime) did the
 * same for a JSON event without occurredAt.
 */
import { describe, expect, it } from 'vitest';
import { decodeSignup } from '../../src/pipeline/decode.js';
import { resultRecord } from '../../src/pipeline/records.js';

const rec = { key: null, timestamp: '1764300000000', topic: 'signups', partition: 0, offset: '1' };
const opts = { format: 'auto' as const, maxMessageBytes: 65_536 };

function outcome(json: string, timestamp = rec.timestamp): string {
  const r = decodeSignup(Buffer.from(json), undefined, { ...rec, timestamp }, opts);
  return r.ok ? 'ok' : r.error.code;
}

describe('occurredAt outside the range of a date', () => {
  it.each([
    ['1e300', '{"email":"a@example.com","occurredAt":1e300}'],
    ['2^53', '{"email":"a@example.com","occurredAt":9007199254740992}'],
    ['-2^53', '{"email":"a@example.com","occurredAt":-9007199254740992}'],
    ['just past the last date', '{"email":"a@example.com","occurredAt":8640000000000001}'],
  ])('dead-letters %s as INVALID_EVENT', (_name, json) => {
    expect(outcome(json)).toBe('INVALID_EVENT');
  });

  it('dead-letters a JSON event without occurredAt whose record timestamp is past 2^53', () => {
    expect(outcome('{"email":"a@example.com"}', '9223372036854775807')).toBe('INVALID_EVENT');
  });

  it('accepts the whole range of a date, and every accepted time encodes as a result', () => {
    for (const t of [0, -8.64e15, 8.64e15, 1_764_300_000_000]) {
      const r = decodeSignup(
        Buffer.from(JSON.stringify({ email: 'a@example.com', occurredAt: t })),
        undefined,
        rec,
        opts,
      );
      expect(r.ok, String(t)).toBe(true);
      if (!r.ok) continue;
      const verdict = {
        verdict: 'deliverable' as const,
        reason: null,
        flags: [],
        normalized: 'a@example.com',
        suggestion: null,
        checks: [],
      };
      const src = { topic: 'signups', partition: 0, offset: '1' };
      expect(() => resultRecord(r.value, verdict, src, null, 1, 'signups.valid')).not.toThrow();
    }
  });
});
