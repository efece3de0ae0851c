import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { writeValidationResult, writeVerdictResult } from '../../src/contract/result-encoder.js';
import {
  decodeValidationResult,
  encodeValidationResult,
  type SignupEvent,
  validationResultType,
} from '../../src/contract/schemas.js';
import { CHECK_STATUSES } from '../../src/contract/verdicts.js';
import { resultRecord, validationResultOf } from '../../src/pipeline/records.js';
import { FLAGS, REASONS, VERDICTS, type Verdict } from '../../src/validation/types.js';
import { createValidator } from '../../src/validation/validator.js';
import { optional, text } from '../contract/avro-strings.js';

const event: fc.Arbitrary<SignupEvent> = fc.record({
  eventId: text,
  userId: text,
  email: text,
  occurredAt: fc.oneof(fc.integer({ min: 1_500_000_000_000, max: 2_000_000_000_000 }), fc.integer()),
  source: optional,
  locale: optional,
});
const verdict: fc.Arbitrary<Verdict> = fc.record(
  {
    verdict: fc.constantFrom(...VERDICTS),
    reason: fc.oneof(fc.constant(null), fc.constantFrom(...REASONS)),
    flags: fc.uniqueArray(fc.constantFrom(...FLAGS), { maxLength: 4 }),
    normalized: text,
    canonical: optional,
    suggestion: optional,
    checks: fc.array(
      fc.record({
        name: text,
        status: fc.constantFrom(...CHECK_STATUSES),
        reason: fc.oneof(fc.constant(null), fc.constantFrom(...REASONS)),
        detail: optional,
        durationMs: fc.oneof(fc.double({ min: 0, max: 1e6, noNaN: true }), fc.constantFrom(0.0005, 0.0015, 2.4995)),
      }),
      { maxLength: 5 },
    ),
  },
  // A verdict of a library user's validator may leave out `canonical`.
  { requiredKeys: ['verdict', 'reason', 'flags', 'normalized', 'suggestion', 'checks'] },
);
const source = fc.record({
  topic: text,
  partition: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  offset: fc.oneof(fc.nat().map(String), fc.constantFrom('0', '1073741824', '9007199254740990')),
});

describe('a result written straight from its event and verdict', () => {
  it('has the bytes of the ValidationResult they make, for any event and verdict', () => {
    fc.assert(
      fc.property(event, verdict, source, fc.nat(), (e, v, src, micros) => {
        const at = 1_796_150_400_012;
        const general = validationResultOf(e, v, src, at, micros);
        const direct = writeVerdictResult(e, v, src, at, micros);
        expect(direct.equals(writeValidationResult(general))).toBe(true);
        expect(direct.equals(validationResultType.toBuffer(general))).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('is what resultRecord publishes for the validator’s own verdicts', () => {
    const now = 1_796_150_400_012;
    vi.useFakeTimers({ toFake: ['Date'], now });
    const validator = createValidator({ ...loadConfig({}).validation, dnsEnabled: false });
    const addresses = ['jane@gmial.com', 'admin@mailinator.com', 'bad@@x', ' Ünï@BÜCHER.example ', 'a@[192.0.2.1]', ''];
    for (const [i, email] of addresses.entries()) {
      const e = {
        eventId: `e-${i}`,
        userId: `u-${i}`,
        email,
        occurredAt: 1_796_150_400_000,
        source: 'web',
        locale: null,
      };
      const v = validator.validateLocal(email);
      const src = { topic: 'signups', partition: 3, offset: String(18_211 + i) };
      const record = resultRecord(e, v, src, null, 1140, 'signups.valid');
      expect(record.value!.equals(encodeValidationResult(validationResultOf(e, v, src, now, 1140)))).toBe(true);
      expect(decodeValidationResult(record.value!).sourceRecord.offset).toBe(18_211 + i);
    }
  });

  it('is refused as the ValidationResult would be: the same error, so the same dead letter', () => {
    const good: Verdict = {
      verdict: 'deliverable',
      reason: null,
      flags: [],
      normalized: 'a@b.c',
      canonical: 'a@b.c',
      suggestion: null,
      checks: [{ name: 'syntax', status: 'pass', reason: null, detail: null, durationMs: 0.002 }],
    };
    const e = { eventId: 'e', userId: 'u', email: 'a@b.c', occurredAt: 1, source: null, locale: null };
    const src = { topic: 'signups', partition: 0, offset: '5' };
    const bad: unknown[] = [
      { ...good, verdict: 'maybe' },
      { ...good, normalized: 42 },
      { ...good, flags: 'free' },
      { ...good, checks: undefined },
      { ...good, checks: [undefined] },
      { ...good, checks: [{ ...good.checks[0], status: 'ok' }] },
      { ...good, checks: [{ ...good.checks[0], durationMs: Number.NaN }] },
    ];
    for (const v of bad) {
      let general: unknown;
      try {
        encodeValidationResult(validationResultOf(e, v as Verdict, src, 2, 3));
      } catch (err) {
        general = err;
      }
      expect(general).toBeInstanceOf(Error);
      expect(() => resultRecord(e, v as Verdict, src, null, 3, 'signups.valid')).toThrow((general as Error).message);
      // What was written of the refused result is not part of the next one.
      expect(
        writeVerdictResult(e, good, src, 2, 3).equals(writeValidationResult(validationResultOf(e, good, src, 2, 3))),
      ).toBe(true);
    }
    expect(() => resultRecord(e, { ...good, offset: 1 } as Verdict, { ...src, offset: '1e30' }, null, 3, 't')).toThrow(
      'sourceRecord.offset',
    );
  });
});
