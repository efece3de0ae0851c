import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalDnsServer, startLocalDnsServer } from '../../src/sim/local-dns-server.js';
import { MxResolver } from '../../src/validation/dns.js';
import { parseDnsServer } from '../../src/validation/dns-transport.js';

/** MX exchanges that are not host names are refused; MX hosts resolve once, cached. */
let dns: LocalDnsServer;

beforeAll(async () => {
  dns = await startLocalDnsServer({
    'mixed.test': {
      mx: [
        { exchange: '127.0.0.1', preference: 1 },
        { exchange: 'localhost', preference: 2 },
        { exchange: '169.0xfea9fe', preference: 3 },
        { exchange: 'mx.good.test', preference: 10 },
      ],
    },
    'allbad.test': {
      mx: [
        { exchange: '10.0.0.1', preference: 1 },
        { exchange: 'mail', preference: 2 },
      ],
    },
    'mx.good.test': { a: ['192.0.2.10', '192.0.2.11'], aaaa: ['2001:db8::10'], ttl: 300 },
    'noaddr.test': { mx: [] },
    'broken.test': { servfail: true },
  });
});
afterAll(async () => {
  await dns?.close();
});

function resolver() {
  return new MxResolver({
    servers: [parseDnsServer(dns.address)],
    timeoutMs: 500,
    tries: 1,
    cacheSize: 100,
    minTtlSeconds: 1,
    maxTtlSeconds: 600,
    maxNegativeTtlSeconds: 60,
  });
}

describe('MX exchanges', () => {
  it('IP literals (any spelling) and single labels are dropped from the MX set', async () => {
    expect(await resolver().resolveMx('mixed.test')).toEqual({
      kind: 'mx',
      hosts: [{ exchange: 'mx.good.test', preference: 10 }],
    });
  });

  it('an MX set of nothing but such exchanges is no MX', async () => {
    expect(await resolver().resolveMx('allbad.test')).toEqual({ kind: 'no_mx' });
  });
});

describe('resolveHost', () => {
  it('returns A and AAAA addresses, cached for their TTL, one query per type', async () => {
    const r = resolver();
    const before = dns.queryCount('mx.good.test', 'A');
    const [x, y] = await Promise.all([r.resolveHost('mx.good.test'), r.resolveHost('mx.good.test')]);
    const z = await r.resolveHost('mx.good.test');
    for (const v of [x, y, z])
      expect(v).toEqual({ kind: 'addresses', v4: ['192.0.2.10', '192.0.2.11'], v6: ['2001:db8::10'] });
    expect(dns.queryCount('mx.good.test', 'A') - before).toBe(1);
  });

  it('a name without addresses is none; SERVFAIL is unavailable and not cached', async () => {
    const r = resolver();
    expect(await r.resolveHost('nothing.test')).toEqual({ kind: 'none' });
    const before = dns.queryCount('broken.test', 'A');
    expect((await r.resolveHost('broken.test')).kind).toBe('unavailable');
    await r.resolveHost('broken.test');
    expect(dns.queryCount('broken.test', 'A') - before).toBe(2);
  });
});
