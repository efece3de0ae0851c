import { describe, expect, it } from 'vitest';
import { isUnknownAnswer, mapProviderResponse, parseRetryAfter } from '../../src/validation/provider-contract.js';

/** The provider's response contract and its mapping to our verdicts: pure, no server. */
describe('response mapping', () => {
  it.each([
    [{ result: 'deliverable', reason: null }, null],
    [{ result: 'undeliverable', reason: 'mailbox_not_found' }, 'mailbox_not_found'],
    [{ result: 'undeliverable', reason: 'mailbox_disabled' }, 'mailbox_disabled'],
    [{ result: 'risky', reason: 'accept_all' }, 'accept_all'],
    [{ result: 'risky', reason: 'mailbox_full' }, 'mailbox_full'],
    [{ result: 'unknown', reason: 'greylisted' }, 'greylisted'],
    [{ result: 'unknown', reason: null }, 'provider_unavailable'],
    [{ result: 'unknown', reason: 'whatever' }, 'provider_unavailable'],
  ])('%j → %s', (body, reason) => {
    expect(mapProviderResponse(body)?.reason).toBe(reason);
  });

  it.each([
    [{ result: 'undeliverable' }],
    [{ result: 'undeliverable', reason: 'timeout' }],
    [{ result: 'risky', reason: 'mailbox_not_found' }],
    [{ result: 'valid' }],
    ['deliverable'],
    [null],
  ])('rejects %j (never guesses undeliverable)', (body) => {
    expect(mapProviderResponse(body)).toBeNull();
  });

  it('keeps known flags and a suggestion', () => {
    expect(
      mapProviderResponse({
        result: 'risky',
        reason: 'accept_all',
        flags: ['accept_all', 'bogus'],
        suggestion: 'a@b.c',
      }),
    ).toEqual({ reason: 'accept_all', flags: ['accept_all'], suggestion: 'a@b.c' });
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(parseRetryAfter('soon')).toBeNull();
    expect(parseRetryAfter(undefined)).toBeNull();
  });
});

describe('definitive answers', () => {
  it('unknown reasons are not definitive; a pass and a verdict reason are', () => {
    const answer = (reason: string | null) =>
      ({ reason, flags: [], suggestion: null, detail: 'http_200', attempts: 1 }) as Parameters<
        typeof isUnknownAnswer
      >[0];
    expect(isUnknownAnswer(answer('provider_unavailable'))).toBe(true);
    expect(isUnknownAnswer(answer('rate_limited'))).toBe(true);
    expect(isUnknownAnswer(answer('timeout'))).toBe(true);
    expect(isUnknownAnswer(answer(null))).toBe(false);
    expect(isUnknownAnswer(answer('mailbox_not_found'))).toBe(false);
    expect(isUnknownAnswer(answer('accept_all'))).toBe(false);
  });
});
