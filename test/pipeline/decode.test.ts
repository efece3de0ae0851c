import avro from 'avsc';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeSignupEvent, type SignupEvent, signupEventType } from '../../src/contract/schemas.js';
import { type DecodeOptions, decodeSignup } from '../../src/pipeline/decode.js';

const rec = { key: Buffer.from('user-1'), timestamp: '1764300000000', topic: 'signups', partition: 3, offset: '42' };
const opts: DecodeOptions = { format: 'auto', maxMessageBytes: 4096 };
const event: SignupEvent = {
  eventId: 'e1',
  userId: 'user-1',
  email: 'Anna@Example.com',
  occurredAt: 1_764_300_000_000,
  source: 'web',
  locale: null,
};

function code(value: Buffer | null, headers?: Record<string, string>, o = opts): string {
  const r = decodeSignup(value, headers, rec, o);
  if (r.ok) throw new Error('expected a failure');
  return r.error.code;
}

describe('decodeSignup', () => {
  it('decodes Avro binary written with the SignupEvent schema', () => {
    const r = decodeSignup(encodeSignupEvent(event), undefined, rec, opts);
    expect(r).toEqual({ ok: true, value: event });
  });

  it('decodes JSON, detected from the leading brace or named by content-type', () => {
    const json = Buffer.from(JSON.stringify(event));
    expect(decodeSignup(json, undefined, rec, opts)).toEqual({ ok: true, value: event });
    expect(
      decodeSignup(Buffer.from(`  \n${JSON.stringify(event)}`), { 'content-type': 'application/json' }, rec, opts),
    ).toEqual({
      ok: true,
      value: event,
    });
  });

  it('fills optional JSON fields from the record: eventId from coordinates, userId from key, time from timestamp', () => {
    const r = decodeSignup(Buffer.from('{"email":"a@b.example"}'), undefined, rec, opts);
    expect(r).toEqual({
      ok: true,
      value: {
        eventId: 'signups/3/42',
        userId: 'user-1',
        email: 'a@b.example',
        occurredAt: 1764300000000,
        source: null,
        locale: null,
      },
    });
  });

  it('accepts ISO 8601 occurredAt in JSON', () => {
    const r = decodeSignup(
      Buffer.from('{"email":"a@b.example","occurredAt":"2026-11-28T00:00:00Z"}'),
      undefined,
      rec,
      opts,
    );
    expect(r.ok && r.value.occurredAt).toBe(Date.parse('2026-11-28T00:00:00Z'));
  });

  it.each([
    ['null value (tombstone)', null, 'NULL_VALUE'],
    ['empty value', Buffer.alloc(0), 'NULL_VALUE'],
    ['garbage bytes', Buffer.from([0xff, 0x00, 0x13, 0x37, 0x99]), 'AVRO_DECODE'],
    ['truncated Avro', encodeSignupEvent(event).subarray(0, 12), 'AVRO_DECODE'],
    ['Avro with trailing bytes', Buffer.concat([encodeSignupEvent(event), Buffer.from([1, 2, 3])]), 'AVRO_DECODE'],
    ['JSON without email', Buffer.from('{"userId":"u"}'), 'MISSING_EMAIL'],
    ['JSON with a numeric email', Buffer.from('{"email":42}'), 'MISSING_EMAIL'],
    ['JSON with an empty email', Buffer.from('{"email":""}'), 'MISSING_EMAIL'],
    ['broken JSON', Buffer.from('{"email": "a@b.c"'), 'JSON_DECODE'],
    ['JSON array', Buffer.from('  [1,2]'), 'JSON_DECODE'],
    [
      'invalid UTF-8 in JSON',
      Buffer.concat([Buffer.from('{"email":"a'), Buffer.from([0xc3, 0x28]), Buffer.from('@b.c"}')]),
      'JSON_DECODE',
    ],
    ['JSON with a wrong field type', Buffer.from('{"email":"a@b.c","userId":7}'), 'INVALID_EVENT'],
    ['JSON with a bad time', Buffer.from('{"email":"a@b.c","occurredAt":"yesterday"}'), 'INVALID_EVENT'],
  ])('routes %s to the dead-letter code', (_name, value, expected) => {
    expect(code(value)).toBe(expected);
  });

  it('rejects a record written with another Avro schema', () => {
    const other = avro.Type.forSchema({
      type: 'record',
      name: 'Order',
      fields: [
        { name: 'id', type: 'long' },
        { name: 'amount', type: 'double' },
      ],
    });
    expect(code(other.toBuffer({ id: 123456789, amount: 9.99 }))).toBe('AVRO_DECODE');
  });

  it('rejects oversized values before parsing them', () => {
    expect(code(Buffer.alloc(5000, 0x7b))).toBe('OVERSIZED');
  });

  it('decides each record by its own content-type bytes, however they alternate', () => {
    const avroValue = encodeSignupEvent(event);
    const jsonValue = Buffer.from(JSON.stringify(event));
    const h = (ct: string) => ({ 'content-type': Buffer.from(ct) });
    const seq: [Buffer, Record<string, Buffer>, string][] = [
      [avroValue, h('application/vnd.efv.signup+avro'), 'ok'],
      [avroValue, h('application/vnd.efv.signup+avro'), 'ok'],
      [avroValue, h('application/json'), 'JSON_DECODE'],
      [jsonValue, h('application/json'), 'ok'],
      [jsonValue, h('application/vnd.efv.signup+avro'), 'AVRO_DECODE'],
      [jsonValue, h('text/xml'), 'UNSUPPORTED_CONTENT_TYPE'],
      [jsonValue, h('text/xml'), 'UNSUPPORTED_CONTENT_TYPE'],
      [avroValue, h('APPLICATION/OCTET-STREAM'), 'ok'],
    ];
    for (const [value, headers, want] of seq) {
      const r = decodeSignup(value, headers, rec, opts);
      expect(r.ok ? 'ok' : r.error.code).toBe(want);
    }
  });

  it('rejects an unsupported content-type instead of guessing', () => {
    expect(code(Buffer.from('<signup/>'), { 'content-type': 'application/xml' })).toBe('UNSUPPORTED_CONTENT_TYPE');
  });

  it('with INPUT_FORMAT=json, Avro bytes fail as JSON', () => {
    expect(code(encodeSignupEvent(event), undefined, { ...opts, format: 'json' })).toBe('JSON_DECODE');
  });
});

describe('decodeSignup, hostile addresses', () => {
  const withEmail = (email: string) => encodeSignupEvent({ ...event, email });
  it.each([
    ['a 10 KB address', `${'a'.repeat(10_000)}@example.com`, 'EMAIL_TOO_LONG'],
    ['a bidi override', 'admin\u202e@example.com', 'UNSAFE_CHARACTERS'],
    ['a right-to-left mark', 'a\u200f@example.com', 'UNSAFE_CHARACTERS'],
    ['a NUL byte', 'a\u0000b@example.com', 'UNSAFE_CHARACTERS'],
    ['an embedded newline', 'a\nb@example.com', 'UNSAFE_CHARACTERS'],
    ['a C1 control', 'a\u0085b@example.com', 'UNSAFE_CHARACTERS'],
  ])('dead-letters %s', (_name, email, expected) => {
    expect(code(withEmail(email), undefined, { ...opts, maxMessageBytes: 65_536 })).toBe(expected);
  });

  it('dead-letters invalid UTF-8 inside an Avro string', () => {
    const good = withEmail('abc@example.com');
    const at = good.indexOf(Buffer.from('abc@'));
    good[at + 1] = 0xff;
    expect(code(good)).toBe('INVALID_UTF8');
  });

  it('keeps a pasted trailing newline and a long-but-plausible address for the validator to judge', () => {
    expect(decodeSignup(withEmail('anna@example.com\n'), undefined, rec, opts).ok).toBe(true);
    expect(decodeSignup(withEmail(`${'a'.repeat(300)}@example.com`), undefined, rec, opts).ok).toBe(true);
  });

  it('refuses addresses by the same rules as the regular expressions, for any string', () => {
    // The rules as written before the printable-ASCII shortcut: the reference to agree with.
    const reference = (email: string): string | undefined => {
      if (email.length === 0) return 'MISSING_EMAIL';
      if (Buffer.byteLength(email) > 1024) return 'EMAIL_TOO_LONG';
      if (email.includes('\ufffd') || /\p{Cs}/u.test(email)) return 'INVALID_UTF8';
      // biome-ignore lint/suspicious/noControlCharactersInRegex: the rule under test.
      if (/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/.test(email.trim()))
        return 'UNSAFE_CHARACTERS';
      return undefined;
    };
    const email = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.string({ unit: 'binary', maxLength: 20 }),
      fc.string({
        unit: fc.constantFrom('a', '@', ' ', '\n', '\t', '\u007f', '\u0085', '\u202e', '\ufffd', 'é', '~'),
        maxLength: 12,
      }),
      fc.integer({ min: 1020, max: 1030 }).map((n) => 'a'.repeat(n)),
      fc.integer({ min: 250, max: 260 }).map((n) => `${'€'.repeat(n)}a`),
    );
    fc.assert(
      fc.property(email, (e) => {
        const want = reference(e);
        const json = decodeSignup(Buffer.from(JSON.stringify({ ...event, email: e })), undefined, rec, opts);
        expect(json.ok ? undefined : json.error.code).toBe(want);
        // Avro carries UTF-8: a lone surrogate arrives as U+FFFD, which the reference refuses too.
        const avroCode = decodeSignup(signupEventType.toBuffer({ ...event, email: e }), undefined, rec, opts);
        const wire = Buffer.from(e).toString();
        expect(avroCode.ok ? undefined : avroCode.error.code).toBe(reference(wire));
      }),
      { numRuns: 3000 },
    );
  });

  it('dead-letters any corrupted Avro record with AVRO_DECODE or a check code, never throwing', () => {
    const known = new Set([
      'AVRO_DECODE',
      'MISSING_EMAIL',
      'EMAIL_TOO_LONG',
      'INVALID_UTF8',
      'UNSAFE_CHARACTERS',
      'EVENT_ID_TOO_LONG',
      'USER_ID_TOO_LONG',
    ]);
    const good = encodeSignupEvent(event);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }),
        fc.nat(),
        (flips, cut) => {
          const bytes = Buffer.from(good);
          for (const [at, b] of flips) bytes[at % bytes.length] = b;
          const value = bytes.subarray(0, 1 + (cut % bytes.length));
          let avscSays: string | undefined;
          try {
            signupEventType.fromBuffer(value);
          } catch (err) {
            avscSays = (err as Error).message;
          }
          const r = decodeSignup(value, { 'content-type': 'application/avro' }, rec, opts);
          if (avscSays !== undefined) {
            expect(r).toMatchObject({ ok: false, error: { code: 'AVRO_DECODE' } });
            expect(r.ok ? '' : r.error.message).toBe(`not a SignupEvent in Avro binary: ${avscSays}`);
          } else if (!r.ok) expect(known.has(r.error.code)).toBe(true);
        },
      ),
      { numRuns: 3000 },
    );
  });
});
