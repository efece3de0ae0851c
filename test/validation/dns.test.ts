import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { type LocalDnsServer, startLocalDnsServer } from '../../src/sim/local-dns-server.js';
import { MxResolver, type MxResolverOptions } from '../../src/validation/dns.js';
import { parseDnsServer } from '../../src/validation/dns-transport.js';
import { createValidator } from '../../src/validation/validator.js';

let server: LocalDnsServer;
/** A resolver address that never answers: a bound UDP port whose server drops everything. */
let silent: LocalDnsServer;

beforeAll(async () => {
  server = await startLocalDnsServer({
    'mx.test': {
      mx: [
        { exchange: 'mx2.mx.test', preference: 20 },
        { exchange: 'mx1.mx.test', preference: 10 },
      ],
      ttl: 60,
    },
    'nullmx.test': { mx: [{ exchange: '.', preference: 0 }], a: ['192.0.2.1'] },
    'implicit.test': { a: ['192.0.2.2'], aaaa: ['2001:db8::2'], ttl: 30 },
    'v6only.test': { aaaa: ['2001:db8::3'] },
    'nomail.test': { negativeTtl: 120 },
    'gone.test': { nxdomain: true, negativeTtl: 90 },
    'broken.test': { servfail: true },
    'blackhole.test': { drop: true },
    'slow.test': { mx: [{ exchange: 'mx.slow.test', preference: 5 }], delayMs: 150 },
    'big.test': { mx: [{ exchange: 'mx.big.test', preference: 1 }], truncate: true },
    'shortttl.test': { mx: [{ exchange: 'mx.shortttl.test', preference: 1 }], ttl: 0 },
  });
  silent = await startLocalDnsServer({});
  for (const name of ['a.test', 'b.test']) silent.zones.set(name, { drop: true });
});

afterAll(async () => {
  await server?.close();
  await silent?.close();
});

function resolver(overrides: Partial<MxResolverOptions> = {}): MxResolver {
  return new MxResolver({
    servers: [parseDnsServer(server.address)],
    timeoutMs: 1000,
    tries: 2,
    cacheSize: 1000,
    minTtlSeconds: 0,
    maxTtlSeconds: 3600,
    maxNegativeTtlSeconds: 300,
    ...overrides,
  });
}

describe('MxResolver against a real DNS server on 127.0.0.1', () => {
  it('returns MX hosts best preference first', async () => {
    expect(await resolver().resolveMx('mx.test')).toEqual({
      kind: 'mx',
      hosts: [
        { exchange: 'mx1.mx.test', preference: 10 },
        { exchange: 'mx2.mx.test', preference: 20 },
      ],
    });
  });

  it('recognises a null MX (RFC 7505) even when the domain has an A record', async () => {
    expect(await resolver().resolveMx('nullmx.test')).toEqual({ kind: 'null_mx' });
  });

  it('falls back to A/AAAA as an implicit MX (RFC 5321 §5.1)', async () => {
    expect(await resolver().resolveMx('implicit.test')).toEqual({
      kind: 'implicit_mx',
      hosts: [{ exchange: 'implicit.test', preference: 0 }],
    });
    expect((await resolver().resolveMx('v6only.test')).kind).toBe('implicit_mx');
  });

  it('no MX and no address → no_mx; NXDOMAIN → nxdomain', async () => {
    expect(await resolver().resolveMx('nomail.test')).toEqual({ kind: 'no_mx' });
    expect(await resolver().resolveMx('gone.test')).toEqual({ kind: 'nxdomain' });
  });

  it('SERVFAIL is unavailable, retried, and not cached', async () => {
    const r = resolver();
    const before = server.queryCount('broken.test', 'MX');
    expect(await r.resolveMx('broken.test')).toEqual({ kind: 'unavailable', detail: 'servfail' });
    expect(server.queryCount('broken.test', 'MX') - before).toBe(2); // DNS_TRIES = 2
    await r.resolveMx('broken.test');
    expect(server.queryCount('broken.test', 'MX') - before).toBe(4);
  });

  it('a server that never answers is a timeout after every try', async () => {
    const r = resolver({ timeoutMs: 100, tries: 3 });
    const before = server.queryCount('blackhole.test', 'MX');
    expect(await r.resolveMx('blackhole.test')).toEqual({ kind: 'unavailable', detail: 'timeout' });
    expect(server.queryCount('blackhole.test', 'MX') - before).toBe(3);
  });

  it('a slow answer within the timeout is used', async () => {
    expect((await resolver({ timeoutMs: 2000 }).resolveMx('slow.test')).kind).toBe('mx');
  });

  it('a slow answer past the timeout is unavailable, never undeliverable', async () => {
    expect(await resolver({ timeoutMs: 50, tries: 1 }).resolveMx('slow.test')).toEqual({
      kind: 'unavailable',
      detail: 'timeout',
    });
  });

  it('retries over TCP when the UDP answer is truncated', async () => {
    const r = resolver();
    expect(await r.resolveMx('big.test')).toEqual({ kind: 'mx', hosts: [{ exchange: 'mx.big.test', preference: 1 }] });
    // One UDP query (truncated) and one TCP query.
    expect(server.queryCount('big.test', 'MX')).toBe(2);
  });

  it('moves on to the next server when the first does not answer', async () => {
    silent.zones.set('mx.test', { drop: true });
    const r = resolver({ servers: [parseDnsServer(silent.address), parseDnsServer(server.address)], timeoutMs: 100 });
    expect((await r.resolveMx('mx.test')).kind).toBe('mx');
    expect(silent.queryCount('mx.test', 'MX')).toBe(1);
  });
});

describe('MX cache', () => {
  it('serves repeats from the cache until the TTL passes', async () => {
    let now = 1_000_000;
    const r = resolver({ now: () => now });
    server.zones.set('ttl.test', { mx: [{ exchange: 'mx.ttl.test', preference: 1 }], ttl: 60 });
    for (let i = 0; i < 5; i++) await r.resolveMx('ttl.test');
    expect(server.queryCount('ttl.test', 'MX')).toBe(1);
    expect(r.cached('ttl.test')?.kind).toBe('mx');
    now += 59_000;
    await r.resolveMx('ttl.test');
    expect(server.queryCount('ttl.test', 'MX')).toBe(1);
    now += 2_000;
    expect(r.cached('ttl.test')).toBeUndefined();
    await r.resolveMx('ttl.test');
    expect(server.queryCount('ttl.test', 'MX')).toBe(2);
  });

  it('caps positive TTLs at DNS_MAX_TTL_SECONDS and lifts them to DNS_MIN_TTL_SECONDS', async () => {
    let now = 0;
    const r = resolver({ now: () => now, maxTtlSeconds: 10, minTtlSeconds: 3 });
    server.zones.set('cap.test', { mx: [{ exchange: 'mx.cap.test', preference: 1 }], ttl: 86_400 });
    await r.resolveMx('cap.test');
    now += 11_000;
    await r.resolveMx('cap.test');
    expect(server.queryCount('cap.test', 'MX')).toBe(2);

    await r.resolveMx('shortttl.test'); // TTL 0, lifted to 3 s
    now += 2_000;
    await r.resolveMx('shortttl.test');
    expect(server.queryCount('shortttl.test', 'MX')).toBe(1);
  });

  it('caches NXDOMAIN for the SOA minimum (RFC 2308), capped', async () => {
    let now = 0;
    const r = resolver({ now: () => now, maxNegativeTtlSeconds: 300 });
    server.zones.set('neg.test', { nxdomain: true, negativeTtl: 90 });
    await r.resolveMx('neg.test');
    now += 89_000;
    expect(await r.resolveMx('neg.test')).toEqual({ kind: 'nxdomain' });
    expect(server.queryCount('neg.test', 'MX')).toBe(1);
    now += 2_000;
    await r.resolveMx('neg.test');
    expect(server.queryCount('neg.test', 'MX')).toBe(2);

    const capped = resolver({ now: () => now, maxNegativeTtlSeconds: 10 });
    server.zones.set('neg2.test', { nxdomain: true, negativeTtl: 3600 });
    await capped.resolveMx('neg2.test');
    now += 11_000;
    await capped.resolveMx('neg2.test');
    expect(server.queryCount('neg2.test', 'MX')).toBe(2);
  });

  it('caches "no MX" negatively too, including the A/AAAA fallback queries', async () => {
    const r = resolver();
    server.zones.set('nomail2.test', { negativeTtl: 120 });
    await r.resolveMx('nomail2.test');
    await r.resolveMx('nomail2.test');
    expect(server.queryCount('nomail2.test', 'MX')).toBe(1);
    expect(server.queryCount('nomail2.test', 'A')).toBe(1);
    expect(server.queryCount('nomail2.test', 'AAAA')).toBe(1);
  });

  it('concurrent lookups of one domain share one query (single-flight)', async () => {
    const r = resolver();
    server.zones.set('burst.test', { mx: [{ exchange: 'mx.burst.test', preference: 1 }], delayMs: 100 });
    const results = await Promise.all(Array.from({ length: 50 }, () => r.resolveMx('burst.test')));
    expect(new Set(results.map((x) => x.kind))).toEqual(new Set(['mx']));
    expect(server.queryCount('burst.test', 'MX')).toBe(1);
  });

  it('an aborted caller stops waiting but the shared query still fills the cache', async () => {
    const r = resolver();
    server.zones.set('abort.test', { mx: [{ exchange: 'mx.abort.test', preference: 1 }], delayMs: 100 });
    const ac = new AbortController();
    const waiting = r.resolveMx('abort.test', ac.signal);
    const other = r.resolveMx('abort.test');
    ac.abort();
    await expect(waiting).rejects.toThrow(/aborted/);
    expect((await other).kind).toBe('mx');
    expect(r.cached('abort.test')?.kind).toBe('mx');
    expect(server.queryCount('abort.test', 'MX')).toBe(1);
  });

  it('stays within DNS_CACHE_SIZE', async () => {
    const r = resolver({ cacheSize: 2 });
    for (const d of ['c1.test', 'c2.test', 'c3.test']) {
      server.zones.set(d, { mx: [{ exchange: `mx.${d}`, preference: 1 }] });
      await r.resolveMx(d);
    }
    expect(r.cacheSize).toBe(2);
    expect(r.cached('c1.test')).toBeUndefined();
  });
});

describe('parseDnsServer', () => {
  it.each([
    ['127.0.0.1', { host: '127.0.0.1', port: 53 }],
    ['127.0.0.1:5353', { host: '127.0.0.1', port: 5353 }],
    ['::1', { host: '::1', port: 53 }],
    ['[::1]:5353', { host: '::1', port: 5353 }],
    ['[::1]', { host: '::1', port: 53 }],
  ])('%s', (spec, expected) => {
    expect(parseDnsServer(spec)).toEqual(expected);
  });

  it('rejects a bad port', () => {
    expect(() => parseDnsServer('127.0.0.1:99999')).toThrow(/port/);
  });
});

describe('validator with DNS', () => {
  const signal = new AbortController().signal;
  const validatorFor = (extra: Record<string, string> = {}) =>
    createValidator(
      loadConfig({}, { DNS_SERVERS: server.address, DNS_TIMEOUT_MS: '200', DNS_TRIES: '1', ...extra }).validation,
    );

  it.each([
    ['jane@mx.test', 'deliverable', null, ['has_mx'], 'mx=mx1.mx.test'],
    ['jane@implicit.test', 'deliverable', null, [], 'implicit_mx'],
    ['jane@nullmx.test', 'undeliverable', 'null_mx', [], 'null_mx'],
    ['jane@nomail.test', 'undeliverable', 'no_mx', [], 'no_mx'],
    ['jane@gone.test', 'undeliverable', 'invalid_domain', [], 'nxdomain'],
    ['jane@broken.test', 'unknown', 'dns_unavailable', [], 'servfail'],
    ['jane@blackhole.test', 'unknown', 'dns_unavailable', [], 'timeout'],
    ['admin@mx.test', 'risky', 'role', ['role', 'has_mx'], 'mx=mx1.mx.test'],
    ['admin@broken.test', 'risky', 'role', ['role'], 'servfail'],
  ])('%s → %s / %s', async (address, verdict, reason, flags, dnsDetail) => {
    const v = await validatorFor().validate(address, { signal });
    expect(v).toMatchObject({ verdict, reason, flags });
    expect(v.checks.find((c) => c.name === 'dns')?.detail).toBe(dnsDetail);
  });

  it('an aborted event is unknown (timeout), never undeliverable', async () => {
    const ac = new AbortController();
    const pending = validatorFor({ DNS_TIMEOUT_MS: '5000' }).validate('jane@blackhole.test', { signal: ac.signal });
    ac.abort();
    expect(await pending).toMatchObject({ verdict: 'unknown', reason: 'timeout' });
  });

  it('skips DNS for address literals and after a syntax failure', async () => {
    const v = await validatorFor().validate('jane@[192.0.2.1]', { signal });
    expect(v.checks.map((c) => c.name)).toEqual(['syntax']);
    const bad = await validatorFor().validate('jane@@mx.test', { signal });
    expect(bad.checks.map((c) => c.name)).toEqual(['syntax']);
  });

  it('looks up the A-label of an internationalised domain', async () => {
    server.zones.set('xn--bcher-kva.test', { mx: [{ exchange: 'mx.xn--bcher-kva.test', preference: 1 }] });
    const v = await validatorFor().validate('jane@bücher.test', { signal });
    expect(v).toMatchObject({ verdict: 'deliverable', normalized: 'jane@bücher.test', flags: ['has_mx'] });
  });
});
