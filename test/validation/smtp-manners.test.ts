import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalDnsServer, type LocalZone, startLocalDnsServer } from '../../src/sim/local-dns-server.js';
import { ProcessorMetrics } from '../../src/telemetry/metrics.js';
import { MxResolver } from '../../src/validation/dns.js';
import { parseDnsServer } from '../../src/validation/dns-transport.js';
import { providerOf } from '../../src/validation/probe/manners.js';
import { SmtpProber } from '../../src/validation/smtp.js';
import { type Counted, type Group, rcptError, startSmtp } from './smtp-servers.js';

/**
 * Manners per mail provider, against real smtp-server instances on several loopback
 * addresses (one port number, as SMTP_PORT is one setting):
 * - provider-a.test: two MX hosts, 127.0.0.2 and 127.0.0.3, limit 3 connections;
 * - provider-b.test: one MX host, 127.0.0.4, limit 2;
 * - provider-c.test (127.0.0.5) answers RCPT with 421, provider-e.test (127.0.0.7) with a
 *   blocklist refusal: both must be backed off;
 * - provider-d.test (127.0.0.6) accepts every recipient (catch-all).
 */
let dns: LocalDnsServer;
const servers: Counted[] = [];
const groupA: Group = { open: 0, maxOpen: 0 };
const groupB: Group = { open: 0, maxOpen: 0 };
let a1: Counted;
let a2: Counted;
let b: Counted;
let c: Counted;
let d: Counted;
let e: Counted;
let port: number;
const onlyJane = (addr: string) => (addr.startsWith('jane') ? undefined : rcptError(550, '5.1.1 No such user'));

beforeAll(async () => {
  a1 = await startSmtp('127.0.0.2', 0, onlyJane, {}, { group: groupA, rcptDelayMs: 30 });
  port = a1.port;
  a2 = await startSmtp('127.0.0.3', port, onlyJane, {}, { group: groupA, rcptDelayMs: 30 });
  b = await startSmtp('127.0.0.4', port, onlyJane, {}, { group: groupB, rcptDelayMs: 30 });
  c = await startSmtp('127.0.0.5', port, () => rcptError(421, '4.7.0 Too many connections, try again later'));
  d = await startSmtp('127.0.0.6', port);
  e = await startSmtp('127.0.0.7', port, () =>
    rcptError(554, '5.7.1 Service unavailable; Client host [127.0.0.1] blocked using zen.spamhaus.org'),
  );
  servers.push(a1, a2, b, c, d, e);
  const zones: Record<string, LocalZone> = {
    'mx1.provider-a.test': { a: ['127.0.0.2'] },
    'mx2.provider-a.test': { a: ['127.0.0.3'] },
    'mx.provider-b.test': { a: ['127.0.0.4'] },
    'mx.provider-c.test': { a: ['127.0.0.5'] },
    'mx.provider-d.test': { a: ['127.0.0.6'] },
    'mx.provider-e.test': { a: ['127.0.0.7'] },
  };
  for (let i = 0; i < 20; i++) {
    zones[`a${i}.test`] = { mx: [{ exchange: `mx${(i % 2) + 1}.provider-a.test`, preference: 10 }] };
    zones[`b${i}.test`] = { mx: [{ exchange: 'mx.provider-b.test', preference: 10 }] };
    zones[`c${i}.test`] = { mx: [{ exchange: 'mx.provider-c.test', preference: 10 }] };
    zones[`d${i}.test`] = { mx: [{ exchange: 'mx.provider-d.test', preference: 10 }] };
    zones[`e${i}.test`] = { mx: [{ exchange: 'mx.provider-e.test', preference: 10 }] };
  }
  dns = await startLocalDnsServer(zones);
});

afterAll(async () => {
  for (const s of servers) await s.close();
  await dns?.close();
});

function prober(overrides: Partial<ConstructorParameters<typeof SmtpProber>[0]> = {}) {
  const resolver = new MxResolver({
    servers: [parseDnsServer(dns.address)],
    timeoutMs: 1000,
    tries: 2,
    cacheSize: 1000,
    minTtlSeconds: 60,
    maxTtlSeconds: 600,
    maxNegativeTtlSeconds: 60,
  });
  return new SmtpProber(
    {
      helo: 'probe.test',
      from: '',
      port,
      timeoutMs: 5000,
      catchAllCheck: true,
      allowPrivateNetworks: true,
      conversationTimeoutMs: 60_000,
      providerLimits: {
        'provider-a.test': { concurrency: 3, ratePerMinute: 1_000_000 },
        'provider-b.test': { concurrency: 2, ratePerMinute: 1_000_000 },
      },
      defaultProviderLimit: { concurrency: 2, ratePerMinute: 1_000_000 },
      ...overrides,
    },
    resolver,
  );
}

const never = new AbortController().signal;
function probe(p: SmtpProber, local: string, domain: string, exchange: string) {
  return p.probe(local, domain, [{ exchange, preference: 10 }], never, false);
}

describe('per-provider limits', () => {
  it('providers are registrable domains of the MX hosts', () => {
    expect(providerOf('aspmx.l.google.com')).toBe('google.com');
    expect(providerOf('alt1.aspmx.l.google.com')).toBe('google.com');
    expect(providerOf('example-com.mail.protection.outlook.com')).toBe('outlook.com');
    expect(providerOf('mta5.am0.yahoodns.net')).toBe('yahoodns.net');
    expect(providerOf('mx1.provider-a.test')).toBe('provider-a.test');
  });

  it('never more sessions open at once than the provider allows, across its MX hosts', async () => {
    const observed: string[] = [];
    const p = prober({ observer: { probe: (provider) => observed.push(provider) } });
    const jobs: Promise<unknown>[] = [];
    for (let i = 0; i < 40; i++) {
      jobs.push(
        probe(p, i % 4 === 0 ? 'nobody' : 'jane', `a${i % 20}.test`, `mx${(i % 20) % 2 === 0 ? 1 : 2}.provider-a.test`),
      );
      jobs.push(probe(p, 'jane', `b${i % 20}.test`, 'mx.provider-b.test'));
    }
    const answers = (await Promise.all(jobs)) as { reason: string | null; detail: string }[];
    const reasons = new Set(answers.map((a) => a.reason));
    expect([...reasons].sort()).toEqual(['mailbox_not_found', null].sort());
    console.log(
      `provider-a: max ${groupA.maxOpen} open (limit 3), ${a1.connections + a2.connections} connections for 40 probes; provider-b: max ${groupB.maxOpen} open (limit 2), ${b.connections} connections for 40 probes`,
    );
    expect(groupA.maxOpen).toBeLessThanOrEqual(3);
    expect(groupA.maxOpen).toBeGreaterThanOrEqual(2);
    expect(groupB.maxOpen).toBeLessThanOrEqual(2);
    expect(groupB.maxOpen).toBeGreaterThanOrEqual(1);
    // Connections are reused (RSET between probes): far fewer than probes.
    expect(b.connections).toBeLessThan(20);
    // Metrics are labelled by provider, never by address or domain.
    expect(new Set(observed)).toEqual(new Set(['provider-a.test', 'provider-b.test']));
    p.close();
    await expect.poll(() => groupA.open + groupB.open, { timeout: 5000 }).toBe(0);
  });

  it('a connection carries at most SMTP_RCPTS_PER_CONNECTION recipients', async () => {
    const before = b.connections;
    const p = prober({ rcptsPerConnection: 3, catchAllCheck: false });
    for (let i = 0; i < 9; i++) expect((await probe(p, 'jane', `b${i}.test`, 'mx.provider-b.test')).reason).toBeNull();
    expect(b.connections - before).toBe(3);
    p.close();
  });
});

describe('back-off', () => {
  it.each([
    ['421', () => c, 'c', 'greylisted'],
    ['a blocklist refusal', () => e, 'e', 'smtp_unavailable'],
  ])(
    'after %s the provider is left alone: its probes answer rate_limited without a connection',
    async (_n, server, x, firstReason) => {
      const backoffs: [string, boolean][] = [];
      const p = prober({ observer: { backoff: (provider, on) => backoffs.push([provider, on]) } });
      const exchange = `mx.provider-${x}.test`;
      const first = await probe(p, 'jane', `${x}0.test`, exchange);
      expect(first.reason).toBe(firstReason);
      const connections = server().connections;
      const rcpts = server().rcpts.length;
      for (let i = 1; i < 6; i++) {
        const a = await probe(p, 'jane', `${x}${i}.test`, exchange);
        expect(a).toMatchObject({ reason: 'rate_limited' });
        expect(a.detail).toMatch(/^provider_backoff \d+s$/);
      }
      expect(server().connections).toBe(connections);
      expect(server().rcpts.length).toBe(rcpts);
      // Not one of the providers with limits of their own: labelled "other".
      expect(backoffs).toEqual([['other', true]]);
      // Another provider is not affected.
      expect((await probe(p, 'jane', 'b1.test', 'mx.provider-b.test')).reason).toBeNull();
      p.close();
    },
  );

  it('probes queued for the provider when it defers go no further', async () => {
    const p = prober({ defaultProviderLimit: { concurrency: 1, ratePerMinute: 1_000_000 } });
    const before = c.connections;
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) => probe(p, 'jane', `c${i + 20}.test`, 'mx.provider-c.test')),
    );
    expect(answers.map((a) => a.reason).sort()).toEqual(['greylisted', ...Array(5).fill('rate_limited')].sort());
    expect(c.connections - before).toBe(1);
    p.close();
  });

  it('the back-off ends after SMTP_BACKOFF_MS', async () => {
    let now = 1_000_000;
    const p = prober({ backoffMs: 60_000, now: () => now });
    await probe(p, 'jane', 'c10.test', 'mx.provider-c.test');
    expect((await probe(p, 'jane', 'c11.test', 'mx.provider-c.test')).reason).toBe('rate_limited');
    const before = c.connections;
    now += 61_000;
    expect((await probe(p, 'jane', 'c12.test', 'mx.provider-c.test')).reason).toBe('greylisted');
    expect(c.connections).toBe(before + 1);
    p.close();
  });
});

describe('catch-all cached per domain', () => {
  const randoms = () => d.rcpts.filter((r) => /^[0-9a-f]{24}@/.test(r));

  it('is probed once per domain per TTL, also when probes of one domain run at once', async () => {
    let now = 5_000_000;
    const p = prober({ catchAllTtlSeconds: 600, now: () => now });
    const start = randoms().length;
    for (let i = 0; i < 4; i++) {
      const a = await probe(p, `user${i}`, 'd1.test', 'mx.provider-d.test');
      expect(a).toMatchObject({ reason: 'accept_all', acceptAll: true });
    }
    expect(randoms().length - start).toBe(1);
    const together = await Promise.all(
      Array.from({ length: 6 }, (_, i) => probe(p, `user${i}`, 'd2.test', 'mx.provider-d.test')),
    );
    expect(together.every((a) => a.reason === 'accept_all')).toBe(true);
    expect(randoms().length - start).toBe(2);
    now += 601_000;
    await probe(p, 'user9', 'd1.test', 'mx.provider-d.test');
    expect(randoms().length - start).toBe(3);
    p.close();
  });
});

describe('metrics per provider', () => {
  it('probes, deferrals and back-off by provider label, never an address or a domain', async () => {
    const metrics = new ProcessorMetrics({ defaultMetrics: false });
    const p = prober({
      providerLimits: { 'provider-c.test': { concurrency: 2, ratePerMinute: 1_000_000 } },
      observer: { probe: (provider, outcome) => metrics.smtpProbe(provider, outcome) },
      catchAllCheck: false,
    });
    metrics.watchSmtpProviders(() => p.providers());
    await probe(p, 'jane', 'd5.test', 'mx.provider-d.test');
    await probe(p, 'jane', 'c15.test', 'mx.provider-c.test');
    await probe(p, 'jane', 'c16.test', 'mx.provider-c.test');
    const text = await metrics.scrape();
    expect(text).toContain('efv_smtp_probes_total{provider="other",outcome="pass"} 1');
    expect(text).toContain('efv_smtp_probes_total{provider="provider-c.test",outcome="deferral"} 1');
    expect(text).toContain('efv_smtp_probes_total{provider="provider-c.test",outcome="backoff"} 1');
    expect(text).toContain('efv_smtp_provider_backoff{provider="provider-c.test"} 1');
    expect(text).toMatch(/efv_smtp_connections\{provider="other",state="open"\} 1/);
    expect(text).not.toMatch(/jane|@|d5\.test|provider-d\.test/);
    p.close();
  });
});
