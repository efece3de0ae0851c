/**
 * Property-based tests of the decoder: whatever bytes and headers arrive, it returns ok or a
 * known dead-letter code and never throws; what it accepts keeps the event invariants; and a
 * valid event survives encoding and decoding in both wire formats.
 */
import fc from 'fast-check';
import type { IHeaders } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { SIGNUP_CONTENT_TYPE } from '../../src/contract/content-types.js';
import { encodeSignupEvent, type SignupEvent } from '../../src/contract/schemas.js';
import { ErrorCodes } from '../../src/errors.js';
import { type DecodeOptions, decodeSignup, type InputFormat } from '../../src/pipeline/decode.js';

// Bounded so the file runs in a few seconds; FC_RUNS raises it for a longer local hunt.
const RUNS = Number(process.env.FC_RUNS ?? 300);

/** The codes the decoder may return: a subset of the closed set, fixed here so a new one is a visible change. */
const DECODE_CODES = new Set([
  'NULL_VALUE',
  'OVERSIZED',
  'AVRO_DECODE',
  'JSON_DECODE',
  'UNSUPPORTED_CONTENT_TYPE',
  'MISSING_EMAIL',
  'INVALID_EVENT',
  'EMAIL_TOO_LONG',
  'INVALID_UTF8',
  'UNSAFE_CHARACTERS',
  'KEY_TOO_LONG',
  'EVENT_ID_TOO_LONG',
  'USER_ID_TOO_LONG',
]);

const rec = { key: Buffer.from('user-1'), timestamp: '1764300000000', topic: 'signups', partition: 0, offset: '7' };

// biome-ignore lint/suspicious/noControlCharactersInRegex: the decoder's own rule, restated independently.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/** Any UTF-16 code unit, lone surrogates included, weighted towards the characters that matter here. */
const anyUnit = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('a', 'Z', '0', '.', '@', '"', '\\', '{', '}', '[', ']', ':', ',', ' ') },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)) },
  {
    weight: 2,
    arbitrary: fc.constantFrom('\u202e', '\u2066', '\u200f', '\u061c', '\u0085', '\u00a0', '\ufffd', '\ufeff', 'é'),
  },
  { weight: 1, arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) },
);
const anyString = fc.string({ unit: anyUnit, maxLength: 80 });

const headerValue = fc.oneof(
  fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)),
  anyString,
  fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    SIGNUP_CONTENT_TYPE,
    'application/octet-stream',
    'text/plain',
    'AVRO',
    '',
  ),
);
const headers: fc.Arbitrary<IHeaders | undefined> = fc.option(
  fc.dictionary(
    fc.oneof(fc.constantFrom('content-type', 'traceparent', 'tracestate', 'efv-error-code'), anyString),
    fc.oneof(headerValue, fc.array(headerValue, { maxLength: 3 })),
    { maxKeys: 4 },
  ),
  { nil: undefined },
);
const options: fc.Arbitrary<DecodeOptions> = fc.record({
  format: fc.constantFrom<InputFormat>('auto', 'avro', 'json'),
  maxMessageBytes: fc.oneof(fc.constant(65_536), fc.integer({ min: 1, max: 300 })),
});

/** The decoder's contract, checked on every outcome. */
function checkOutcome(value: Buffer | null, h: IHeaders | undefined, o: DecodeOptions): void {
  const r = decodeSignup(value, h, rec, o);
  if (!r.ok) {
    expect(DECODE_CODES.has(r.error.code), r.error.code).toBe(true);
    expect(Object.hasOwn(ErrorCodes, r.error.code)).toBe(true);
    expect(typeof r.error.message).toBe('string');
    return;
  }
  const e = r.value;
  expect(value && value.length <= o.maxMessageBytes).toBe(true);
  for (const f of ['eventId', 'userId', 'email'] as const) expect(typeof e[f]).toBe('string');
  expect(e.email.length).toBeGreaterThan(0);
  expect(Buffer.byteLength(e.email)).toBeLessThanOrEqual(1024);
  expect(e.email).not.toContain('\ufffd');
  expect(UNSAFE.test(e.email.trim())).toBe(false);
  // What is accepted must be representable in UTF-8, as the result topics will carry it.
  expect(Buffer.from(e.email, 'utf8').toString('utf8')).toBe(e.email);
  expect(Number.isSafeInteger(e.occurredAt)).toBe(true);
}

const signupEvent: fc.Arbitrary<SignupEvent> = fc.record({
  eventId: fc.string({ unit: 'binary', maxLength: 40 }),
  userId: fc.string({ unit: 'binary', maxLength: 40 }),
  email: fc.emailAddress(),
  occurredAt: fc.integer({ min: 0, max: 4_102_444_800_000 }),
  source: fc.option(fc.string({ unit: 'binary', maxLength: 20 }), { nil: null }),
  locale: fc.option(fc.constantFrom('en-US', 'de', 'pt-BR', 'ja'), { nil: null }),
});

describe('decodeSignup under arbitrary input (fast-check)', () => {
  it('never throws on arbitrary bytes, headers and options, and returns ok or a known code', () => {
    fc.assert(
      fc.property(
        fc.option(
          fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b)),
          { nil: null, freq: 20 },
        ),
        headers,
        options,
        checkOutcome,
      ),
      { numRuns: RUNS * 3 },
    );
  });

  it('never throws on arbitrary JSON documents and JSON-like text', () => {
    const jsonText = fc.oneof(
      fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
      // An object with an email of any UTF-16 content, lone surrogates and controls included.
      fc
        .record({
          email: fc.oneof(anyString, fc.jsonValue({ maxDepth: 2 })),
          occurredAt: fc.jsonValue({ maxDepth: 1 }),
        })
        .map((o) => JSON.stringify(o)),
      fc.string({ unit: anyUnit, maxLength: 200 }).map((s) => `{${s}`),
    );
    fc.assert(
      fc.property(jsonText, headers, options, (text, h, o) => checkOutcome(Buffer.from(text), h, o)),
      { numRuns: RUNS * 3 },
    );
  });

  it('never throws on valid Avro events with bytes flipped, cut or added', () => {
    const mutated = fc
      .tuple(
        signupEvent,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.option(fc.nat()),
        fc.uint8Array({ maxLength: 8 }),
      )
      .map(([event, flips, cut, extra]) => {
        const b = Buffer.from(encodeSignupEvent(event));
        for (const [at, byte] of flips) b[at % b.length] = byte;
        const kept = cut === null ? b : b.subarray(0, cut % (b.length + 1));
        return Buffer.concat([kept, Buffer.from(extra)]);
      });
    fc.assert(
      fc.property(mutated, headers, (value, h) => checkOutcome(value, h, { format: 'auto', maxMessageBytes: 65_536 })),
      { numRuns: RUNS },
    );
  });

  it('round-trips valid events through Avro binary and through JSON', () => {
    const o: DecodeOptions = { format: 'auto', maxMessageBytes: 65_536 };
    fc.assert(
      fc.property(signupEvent, (event) => {
        expect(decodeSignup(encodeSignupEvent(event), undefined, rec, o)).toEqual({ ok: true, value: event });
        const json = Buffer.from(JSON.stringify(event));
        expect(decodeSignup(json, undefined, rec, o)).toEqual({ ok: true, value: event });
        expect(decodeSignup(json, { 'content-type': 'application/json' }, rec, o)).toEqual({ ok: true, value: event });
        expect(decodeSignup(encodeSignupEvent(event), { 'content-type': SIGNUP_CONTENT_TYPE }, rec, o)).toEqual({
          ok: true,
          value: event,
        });
      }),
      { numRuns: RUNS },
    );
  });
});
