/**
 * Found by the decoder fuzz test (issue 7): a JSON `\ud800` escape put a lone UTF-16
 * surrogate into the email field. It passed the decoder's INVALID_UTF8 check (which looked for
 * U+FFFD only), so the address was judged as one string and published, UTF-8 encoded, as
 * another (U+FFFD in place of the surrogate).
 */
import { describe, expect, it } from 'vitest';
import { decodeSignup } from '../../src/pipeline/decode.js';

const rec = { key: null, timestamp: '1764300000000', topic: 'signups', partition: 0, offset: '1' };
const opts = { format: 'auto' as const, maxMessageBytes: 65_536 };

function outcome(json: string): string {
  const r = decodeSignup(Buffer.from(json), undefined, rec, opts);
  return r.ok ? 'ok' : r.error.code;
}

describe('lone surrogates in the email field', () => {
  it.each([
    ['a high surrogate alone', '{"email":"\\ud800@example.com"}'],
    ['a low surrogate alone', '{"email":"a\\udc00@example.com"}'],
    ['a pair in the wrong order', '{"email":"\\ude00\\ud83d@example.com"}'],
    ['a high surrogate at the end', '{"email":"a@example.com\\ud83d"}'],
  ])('dead-letters %s as INVALID_UTF8', (_name, json) => {
    expect(outcome(json)).toBe('INVALID_UTF8');
  });

  it('still accepts a proper surrogate pair (an astral character)', () => {
    expect(outcome('{"email":"\\ud83d\\ude00@example.com"}')).toBe('ok');
  });
});
