/**
 * Found by the syntax fuzz test (issue 7): parseAddress accepted a lone UTF-16 surrogate in
 * the local part as if it were UTF-8 text, and counted it as 2 octets where the UTF-8 encoder
 * writes U+FFFD (3 octets). So `"\ud800"@example.com` was accepted as an address that cannot
 * be sent, and 22 lone surrogates (66 octets on the wire) passed the 64-octet local-part limit.
 */
import { describe, expect, it } from 'vitest';
import { MAX_LOCAL_OCTETS, parseAddress } from '../../src/validation/syntax.js';

describe('lone surrogates in the local part', () => {
  it.each([
    ['a high surrogate in a dot-string', '\ud800@example.com'],
    ['a low surrogate in a dot-string', 'ab\udc00cd@example.com'],
    ['a reversed pair', '\ude00\ud83d@example.com'],
    ['a high surrogate before the @', 'abc\ud83d@example.com'],
    ['a lone surrogate in a quoted string', '"a\ud800b"@example.com'],
  ])('rejects %s', (_name, input) => {
    const r = parseAddress(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect([r.reason, r.detail]).toEqual(['invalid_syntax', 'lone_surrogate']);
  });

  it('no longer lets surrogates slip past the local-part octet limit', () => {
    const local = '\ud800'.repeat(22);
    expect(Buffer.byteLength(local)).toBeGreaterThan(MAX_LOCAL_OCTETS);
    expect(parseAddress(`${local}@example.com`).ok).toBe(false);
  });

  it('still accepts astral characters (proper pairs), counted as 4 octets each', () => {
    const r = parseAddress('😀@example.com');
    expect(r.ok && r.smtputf8).toBe(true);
    expect(parseAddress(`${'😀'.repeat(16)}@example.com`).ok).toBe(true);
    expect(parseAddress(`${'😀'.repeat(16)}a@example.com`).ok).toBe(false);
  });
});
