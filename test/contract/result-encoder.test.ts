import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { writeValidationResult } from '../../src/contract/result-encoder.js';
import {
  decodeValidationResult,
  encodeValidationResult,
  HAND_WRITTEN_RESULT_ENCODER,
  type ValidationResult,
  validationResultType,
} from '../../src/contract/schemas.js';
import { CHECK_STATUSES, VERDICTS } from '../../src/contract/verdicts.js';
import { optional, text } from './avro-strings.js';

const long = fc.oneof(
  fc.integer({ min: -2_000_000, max: 2_000_000 }),
  fc.constantFrom(0, -1, 2 ** 30 - 1, 2 ** 30, -(2 ** 30), -(2 ** 30) - 1, 2 ** 52, -(2 ** 52), 9007199254740990),
  fc.integer({ min: 1_500_000_000_000, max: 2_000_000_000_000 }),
  fc.maxSafeInteger().filter((n) => Math.abs(n) <= 9007199254740990),
);
const result: fc.Arbitrary<ValidationResult> = fc.record({
  eventId: text,
  userId: text,
  email: text,
  normalizedEmail: text,
  verdict: fc.constantFrom(...VERDICTS),
  reason: optional,
  flags: fc.array(text, { maxLength: 4 }),
  suggestion: optional,
  checks: fc.array(
    fc.record({
      name: text,
      status: fc.constantFrom(...CHECK_STATUSES),
      reason: optional,
      detail: optional,
      durationMicros: long,
    }),
    { maxLength: 5 },
  ),
  sourceRecord: fc.record({
    topic: text,
    partition: fc.oneof(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: -(2 ** 31), max: -1 })),
    offset: long,
  }),
  occurredAt: long,
  validatedAt: long,
  durationMicros: long,
  processorVersion: text,
  canonicalEmail: optional,
}) as fc.Arbitrary<ValidationResult>;

describe('the hand-written result encoder', () => {
  it('is the one in use for the schema it was written for', () => {
    expect(HAND_WRITTEN_RESULT_ENCODER).toBe(true);
    expect(encodeValidationResult).toBe(writeValidationResult);
  });

  it('writes the bytes avsc writes, for any result', () => {
    fc.assert(
      fc.property(result, (r) => {
        const ours = writeValidationResult(r);
        expect(ours.equals(validationResultType.toBuffer(r))).toBe(true);
        expect(decodeValidationResult(ours).eventId).toBe(r.eventId);
      }),
      { numRuns: 3000 },
    );
  });

  it('writes the defaults of absent optional fields as avsc does', () => {
    const r = {
      eventId: 'e',
      userId: 'u',
      email: 'a@b.c',
      normalizedEmail: 'a@b.c',
      verdict: 'risky',
      checks: [{ name: 'syntax', status: 'pass', durationMicros: 3 }],
      sourceRecord: { topic: 't', partition: 1, offset: 2 },
      occurredAt: 1,
      validatedAt: 2,
      durationMicros: 3,
      processorVersion: 'v',
    } as unknown as ValidationResult;
    expect(writeValidationResult(r).equals(validationResultType.toBuffer(r))).toBe(true);
  });

  it('refuses what avsc refuses, and the next result is whole', () => {
    const good: ValidationResult = {
      eventId: 'e',
      userId: 'u',
      email: 'a@b.c',
      normalizedEmail: 'a@b.c',
      verdict: 'deliverable',
      reason: null,
      flags: [],
      suggestion: null,
      checks: [{ name: 'syntax', status: 'pass', reason: null, detail: null, durationMicros: 1 }],
      sourceRecord: { topic: 't', partition: 0, offset: 5 },
      occurredAt: 1,
      validatedAt: 2,
      durationMicros: 3,
      processorVersion: 'v',
      canonicalEmail: null,
    };
    const bad: unknown[] = [
      { ...good, durationMicros: Number.NaN },
      { ...good, durationMicros: 1.5 },
      { ...good, occurredAt: 2 ** 60 },
      { ...good, verdict: 'maybe' },
      { ...good, email: 42 },
      { ...good, flags: 'free' },
      { ...good, sourceRecord: { topic: 't', partition: 2 ** 31, offset: 0 } },
      { ...good, checks: [{ ...good.checks[0], status: 'ok' }] },
      { ...good, checks: [{ ...good.checks[0], durationMicros: Number.NaN }] },
    ];
    for (const b of bad) {
      expect(() => validationResultType.toBuffer(b)).toThrow();
      expect(() => writeValidationResult(b as ValidationResult)).toThrow(TypeError);
      expect(writeValidationResult(good).equals(validationResultType.toBuffer(good))).toBe(true);
    }
  });
});
