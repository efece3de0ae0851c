import { describe, expect, it } from 'vitest';
import { DLQ_HEADERS } from '../../src/contract/headers.js';
import { RETRY_CLOCK_SLACK_MS, retryDueAt, retryHeaderCheck } from '../../src/pipeline/records.js';

const check = retryHeaderCheck('signups', ['signups.retry.1m', 'signups.retry.10m'], [60_000, 600_000]);
const good = (tier: number, dueIn = 1000) => ({
  [DLQ_HEADERS.attempts]: String(tier + 1),
  [DLQ_HEADERS.topic]: 'signups',
  [DLQ_HEADERS.partition]: '3',
  [DLQ_HEADERS.offset]: '12345',
  [DLQ_HEADERS.retryDueAt]: String(Date.now() + dueIn),
  [DLQ_HEADERS.firstFailureAt]: new Date().toISOString(),
});

describe('retry-topic headers', () => {
  it('accepts what retryRecord writes, in each tier', () => {
    expect(check('signups.retry.1m', good(0))).toBeUndefined();
    expect(check('signups.retry.10m', good(1, 500_000))).toBeUndefined();
    // Not a retry topic: nothing to check.
    expect(check('signups', {})).toBeUndefined();
  });

  it('refuses forged or broken headers, naming which', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ ...good(0), [DLQ_HEADERS.attempts]: '2' }, /efv-attempts/],
      [{ ...good(0), [DLQ_HEADERS.attempts]: 'abc' }, /efv-attempts/],
      [{ ...good(0), [DLQ_HEADERS.topic]: 'elsewhere' }, /efv-source-topic/],
      [{ ...good(0), [DLQ_HEADERS.partition]: '-1' }, /efv-source-partition/],
      [{ ...good(0), [DLQ_HEADERS.offset]: '1e3' }, /efv-source-offset/],
      [{ ...good(0), [DLQ_HEADERS.retryDueAt]: '1e20' }, /efv-retry-due-at/],
      [{ ...good(0), [DLQ_HEADERS.retryDueAt]: String(Date.now() + 3_600_000) }, /ms away/],
      [{ ...good(0), [DLQ_HEADERS.firstFailureAt]: 'yesterday' }, /efv-first-failure-at/],
    ];
    for (const [headers, why] of cases) expect(check('signups.retry.1m', headers)).toMatch(why);
    const { [DLQ_HEADERS.attempts]: _a, ...noAttempts } = good(0);
    expect(check('signups.retry.1m', noAttempts)).toMatch(/efv-attempts/);
  });

  it('never waits longer than the tier delay (or a timer can) for a due time', () => {
    const now = 1_000_000_000_000;
    const h = (due: number) => ({ [DLQ_HEADERS.retryDueAt]: String(due) });
    expect(retryDueAt(h(now + 30_000), 60_000, now)).toBe(now + 30_000);
    expect(retryDueAt(h(now + 60_000 + RETRY_CLOCK_SLACK_MS + 1), 60_000, now)).toBe(0);
    // Past 2^31-1 ms Node fires the timer after 1 ms: such a wait is never taken.
    expect(retryDueAt(h(now + 2 ** 31), undefined, now)).toBe(0);
    expect(retryDueAt(h(1e20), undefined, now)).toBe(0);
  });
});
