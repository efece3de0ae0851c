/**
 * The exported `ValidationResult` type against the result schema: a result typed by it has
 * exactly the schema's fields. tsc (npm run lint) refuses the literal below if the type lacks
 * one of them or requires one the schema does not have; the test refuses a schema field the
 * literal does not name.
 */
import type avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { loadSchema, validationResultType } from '../../src/contract/schemas.js';
import type { ValidationResult } from '../../src/index.js';

describe('the ValidationResult type', () => {
  it('names every field of the result schema, the optional canonicalEmail too', () => {
    const result: Required<ValidationResult> = {
      eventId: 'e1',
      userId: 'u1',
      email: 'Jane@Example.com',
      normalizedEmail: 'Jane@example.com',
      verdict: 'risky',
      reason: 'role',
      flags: ['role'],
      suggestion: null,
      checks: [{ name: 'syntax', status: 'pass', reason: null, detail: null, durationMicros: 3 }],
      sourceRecord: { topic: 'signups', partition: 0, offset: 7 },
      occurredAt: 1,
      validatedAt: 2,
      durationMicros: 3,
      processorVersion: 'x',
      canonicalEmail: 'jane@example.com',
    };
    const fields = (loadSchema('ValidationResult') as avro.schema.RecordType).fields.map((f) => f.name);
    expect(Object.keys(result).sort()).toEqual([...fields].sort());
    expect(validationResultType.isValid(result)).toBe(true);
  });
});
