import { describe, expect, it } from 'vitest';
import { VerdictCache } from '../../src/validation/provider-cache.js';
import type { ProviderAnswer } from '../../src/validation/provider-contract.js';

/** The provider's verdict cache on its own: TTL, size, joins and aborts, without a server. */
const answer = (reason: ProviderAnswer['reason'], detail = 'http_200'): ProviderAnswer => ({
  reason,
  flags: [],
  suggestion: null,
  detail,
  attempts: 1,
});
const aborted = () => answer('timeout', 'aborted');
const live = new AbortController().signal;

describe('VerdictCache', () => {
  it('keeps at most `size` addresses, dropping the oldest first', async () => {
    const cache = new VerdictCache({ ttlSeconds: 60, size: 2, now: () => 0 });
    const asked: string[] = [];
    const get = (a: string) =>
      cache.get(
        a,
        live,
        async () => {
          asked.push(a);
          return answer(null);
        },
        aborted,
      );
    await get('a');
    await get('b');
    await get('c');
    expect((await get('c')).detail).toBe('cached');
    expect((await get('b')).detail).toBe('cached');
    expect((await get('a')).detail).toBe('http_200');
    expect(asked).toEqual(['a', 'b', 'c', 'a']);
  });

  it("a joined caller's abort ends its own wait, not the request the others wait for", async () => {
    const cache = new VerdictCache({ ttlSeconds: 60, size: 10, now: () => 0 });
    let finish!: (a: ProviderAnswer) => void;
    let asked = 0;
    const ask = () => {
      asked++;
      return new Promise<ProviderAnswer>((resolve) => {
        finish = resolve;
      });
    };
    const first = cache.get('x', live, ask, aborted);
    const impatient = new AbortController();
    const joined = cache.get('x', impatient.signal, ask, aborted);
    impatient.abort();
    expect(await joined).toMatchObject({ reason: 'timeout', detail: 'aborted' });
    finish(answer('mailbox_not_found'));
    expect((await first).reason).toBe('mailbox_not_found');
    expect(asked).toBe(1);
    expect((await cache.get('x', live, ask, aborted)).detail).toBe('cached');
  });

  it('never keeps an unknown answer, and keeps nothing with TTL 0', async () => {
    for (const [ttlSeconds, reason] of [
      [60, 'rate_limited'],
      [0, null],
    ] as const) {
      const cache = new VerdictCache({ ttlSeconds, size: 10, now: () => 0 });
      let asked = 0;
      const ask = async () => {
        asked++;
        return answer(reason);
      };
      await cache.get('y', live, ask, aborted);
      await cache.get('y', live, ask, aborted);
      expect(asked, `ttl ${ttlSeconds}, ${reason}`).toBe(2);
    }
  });
});
