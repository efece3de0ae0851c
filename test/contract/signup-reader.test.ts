import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeSignupEvent,
  HAND_WRITTEN_SIGNUP_READER,
  type SignupEvent,
  signupEventType,
} from '../../src/contract/schemas.js';
import { readSignupEvent } from '../../src/contract/signup-reader.js';

// Full Unicode (surrogate pairs included), ASCII, lengths around the one-byte length edge
// (63/64 bytes), and the optional fields' small vocabulary (so the reader's string cache hits
// and collides).
const text = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ maxLength: 80 }),
  fc.integer({ min: 0, max: 70 }).map((n) => 'a'.repeat(n)),
  fc.integer({ min: 0, max: 30 }).map((n) => `${'é'.repeat(n)}x`),
);
const word = fc.oneof(
  fc.constantFrom('web', 'ios', 'android', 'partner-api', 'en-US', 'de-CH', 'fr-FR', 'ja-JP', 'wéb', 'x', ''),
  fc.string({ maxLength: 26 }),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
);
const long = fc.oneof(
  fc.integer({ min: -2_000_000, max: 2_000_000 }),
  fc.constantFrom(0, -1, 2 ** 28, 2 ** 30, -(2 ** 30) - 1, 2 ** 52, -(2 ** 52), 9007199254740990, -9007199254740990),
  fc.integer({ min: 1_500_000_000_000, max: 2_000_000_000_000 }),
);
const event: fc.Arbitrary<SignupEvent> = fc.record({
  eventId: text,
  userId: text,
  email: text,
  occurredAt: long,
  source: fc.oneof(fc.constant(null), word),
  locale: fc.oneof(fc.constant(null), word),
});

type Outcome = { value: unknown } | { error: string };

function outcome(read: (b: Buffer) => unknown, bytes: Buffer): Outcome {
  try {
    // A plain object either way: avsc returns an instance of its record class.
    return { value: { ...(read(bytes) as object) } };
  } catch (err) {
    return { error: `${(err as Error).constructor.name}: ${(err as Error).message}` };
  }
}

const avsc = (b: Buffer) => signupEventType.fromBuffer(b);

function sameAsAvsc(bytes: Buffer): void {
  expect(outcome(readSignupEvent, bytes)).toEqual(outcome(avsc, bytes));
}

const varint = (n: number): number[] => {
  const out: number[] = [];
  let m = n >= 0 ? n * 2 : -n * 2 - 1;
  while (m >= 0x80) {
    out.push((m % 128) | 0x80);
    m = Math.floor(m / 128);
  }
  out.push(m);
  return out;
};
const str = (s: string): number[] => {
  const b = Buffer.from(s);
  return [...varint(b.length), ...b];
};

describe('readSignupEvent', () => {
  it('is used: the schema is the one it was written for', () => {
    expect(HAND_WRITTEN_SIGNUP_READER).toBe(true);
    expect(decodeSignupEvent).toBe(readSignupEvent);
  });

  it('reads what avsc reads from generated events', () => {
    fc.assert(
      fc.property(event, (e) => {
        const bytes = signupEventType.toBuffer(e);
        sameAsAvsc(bytes);
        // avsc writes longs near -2^53 inexactly (float arithmetic): those round-trip to another value.
        if (Math.abs(e.occurredAt) <= 2 ** 52) expect(readSignupEvent(bytes)).toEqual(e);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses every truncation of an event, and trailing bytes, as avsc does', () => {
    fc.assert(
      fc.property(event, fc.uint8Array({ minLength: 1, maxLength: 4 }), (e, extra) => {
        const bytes = signupEventType.toBuffer(e);
        for (let n = 0; n < bytes.length; n++) sameAsAvsc(bytes.subarray(0, n));
        sameAsAvsc(Buffer.concat([bytes, extra]));
      }),
      { numRuns: 300 },
    );
  });

  it('gives avsc’s value or refusal for corrupted events', () => {
    fc.assert(
      fc.property(
        event,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        (e, flips) => {
          const bytes = Buffer.from(signupEventType.toBuffer(e));
          for (const [at, b] of flips) bytes[at % bytes.length] = b;
          sameAsAvsc(bytes);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('gives avsc’s value or refusal for random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => sameAsAvsc(Buffer.from(b))),
      { numRuns: 5000 },
    );
    // Mostly small varints: short strings and union indexes near 0, 1 and 2.
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 8 }), { maxLength: 24 }), (b) => sameAsAvsc(Buffer.from(b))),
      { numRuns: 5000 },
    );
  });

  it('refuses as avsc does: bad union indexes, negative lengths, longs past 2^53, endless varints', () => {
    const head = [...str('e1'), ...str('u1'), ...str('a@b.example')];
    const cases: number[][] = [
      [...head, ...varint(1), 4, ...str('web'), 0], // index 2 for source
      [...head, ...varint(1), 1, 0], // index -1
      [...head, ...varint(1), 0, 6, 0], // index 3 for locale
      [...head, ...varint(2 ** 53), 0, 0], // occurredAt past the safe range
      [...head, ...varint(-(2 ** 53)), 0, 0],
      [...head, ...Array(12).fill(0xff), 0x01, 0, 0], // an 13-byte long
      [...head, ...Array(160).fill(0x80), 0x00, 0, 0], // a varint so long it reads NaN
      [...head, ...Array(160).fill(0xff), 0x7f, 0, 0], // … or Infinity
      [...varint(-3), ...str('u1'), ...str('a@b.example'), 0, 0, 0], // negative string length
      [...Array(160).fill(0x80), 0x00, ...str('u1'), ...str('a'), 0, 0, 0], // NaN string length
      [...head, ...varint(1), 2, ...varint(-1), 0], // negative length of a source
      [...head, ...varint(1), 2, ...varint(99), 0x77], // a source past the end
      [...head, ...varint(1), 2, ...varint(3), 0xc3, 0xa9, 0x41, 0], // non-ASCII source
      [...head, ...varint(1), 2, ...varint(2), 0xff, 0xfe, 0], // invalid UTF-8 source
    ];
    for (const c of cases) sameAsAvsc(Buffer.from(c));
    expect(outcome(readSignupEvent, Buffer.from(cases[0]!))).toEqual({ error: 'Error: invalid union index: 2' });
    expect(outcome(readSignupEvent, Buffer.from(cases[3]!))).toEqual({ error: 'Error: potential precision loss' });
  });

  it('keeps the optional fields’ strings apart when their bytes collide in its cache', () => {
    // Same length, first and last byte: one cache slot; and a value of U+FFFD units.
    const values = ['wab', 'web', 'wxb', 'web', '\ufffd', 'w\u00e9b', 'web', 'wab'];
    const raw = [[0xff], [0x77, 0x65, 0x62]];
    for (const v of values) {
      const e = { eventId: 'e', userId: 'u', email: 'a@b', occurredAt: 1, source: v, locale: v };
      expect(readSignupEvent(signupEventType.toBuffer(e))).toEqual(e);
    }
    for (const r of raw) {
      const bytes = Buffer.from([...str('e'), ...str('u'), ...str('a@b'), 2, 2, ...varint(r.length), ...r, 0]);
      sameAsAvsc(bytes);
      sameAsAvsc(bytes);
    }
  });
});
