import fc from 'fast-check';

/**
 * Strings for the Avro writers' tests: full Unicode (surrogate pairs included), ASCII, and
 * lengths around the one-byte length edge (63/64 bytes), in one- and two-byte characters.
 */
export const text = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 80 }),
  fc.string({ maxLength: 130 }),
  fc.integer({ min: 60, max: 70 }).map((n) => 'a'.repeat(n)),
  fc.integer({ min: 0, max: 70 }).map((n) => `${'é'.repeat(n)}x`),
);

/** `text` or null, for the schema's optional strings. */
export const optional = fc.oneof(fc.constant(null), text);
