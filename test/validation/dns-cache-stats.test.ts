import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { type LocalDnsServer, startLocalDnsServer } from '../../src/sim/local-dns-server.js';
import { createValidator } from '../../src/validation/validator.js';

let dns: LocalDnsServer;
beforeAll(async () => {
  dns = await startLocalDnsServer({ 'stats.test': { mx: [{ exchange: 'mx.stats.test', preference: 1 }], ttl: 60 } });
});
afterAll(() => dns?.close());

describe('MX cache statistics (the hit-ratio metric)', () => {
  it('counts one miss per lookup that went to the server and one hit per cached answer', async () => {
    const validator = createValidator(
      loadConfig({ CHECK_DNS: 'true', DNS_SERVERS: `127.0.0.1:${dns.port}` }).validation,
    );
    expect(validator.dnsCacheStats).toEqual({ hits: 0, misses: 0, size: 0 });
    const signal = new AbortController().signal;
    // Concurrent lookups of one domain share one query: each is a miss, none a hit.
    await Promise.all([validator.validate('a@stats.test', { signal }), validator.validate('b@stats.test', { signal })]);
    expect(validator.dnsCacheStats).toEqual({ hits: 0, misses: 2, size: 1 });
    expect(dns.queryCount('stats.test', 'MX')).toBe(1);
    await validator.validate('c@stats.test', { signal });
    await validator.validate('d@stats.test', { signal });
    expect(validator.dnsCacheStats).toEqual({ hits: 2, misses: 2, size: 1 });
    await validator.close();
  });

  it('is null while the DNS check is off', () => {
    expect(createValidator(loadConfig({ CHECK_DNS: 'false' }).validation).dnsCacheStats).toBeNull();
  });
});
