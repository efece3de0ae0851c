import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { type LocalDnsServer, type LocalZone, startLocalDnsServer } from '../../src/sim/local-dns-server.js';
import { isProbeableHost, isPublicAddress } from '../../src/validation/probe/address.js';
import { createValidator } from '../../src/validation/validator.js';
import { type Counted, rcptError, startSmtp } from './smtp-servers.js';

/**
 * The probe reaches only public addresses: MX records pointing at loopback, private,
 * link-local, CGNAT, ULA or IPv4-embedding addresses, MX exchanges that are IP literals in
 * any inet_aton spelling, and single-label exchanges never make a connection with default
 * settings. A real SMTP server listens on 127.0.0.1 and counts connections.
 */
let smtp: Counted;
let dns: LocalDnsServer;
const signal = new AbortController().signal;

/** Zones: `<name>.test` has MX `mx.<name>.test`, whose address is the given one. */
function mxTo(name: string, address: string): Record<string, LocalZone> {
  const v6 = address.includes(':');
  return {
    [`${name}.test`]: { mx: [{ exchange: `mx.${name}.test`, preference: 10 }] },
    [`mx.${name}.test`]: v6 ? { aaaa: [address] } : { a: [address] },
  };
}

const PRIVATE_TARGETS: [string, string][] = [
  ['loop', '127.0.0.1'],
  ['loop2', '127.1.2.3'],
  ['ten', '10.0.0.1'],
  ['rfc1918', '192.168.1.1'],
  ['shared', '172.16.0.1'],
  ['cgnat', '100.64.0.1'],
  ['meta', '169.254.169.254'],
  ['zero', '0.0.0.0'],
  ['bcast', '255.255.255.255'],
  ['mcast', '224.0.0.1'],
  ['reserved', '240.0.0.1'],
  ['v6loop', '::1'],
  ['v6mapped', '::ffff:127.0.0.1'],
  ['nat64', '64:ff9b::7f00:1'],
  ['ula', 'fd00::1'],
  ['v6link', 'fe80::1'],
  ['v6unspec', '::'],
  ['sixtofour', '2002:7f00:1::1'],
  ['doc', '2001:db8::1'],
];

beforeAll(async () => {
  smtp = await startSmtp('127.0.0.1', 0, (a) =>
    a.startsWith('jane@') ? undefined : rcptError(550, '5.1.1 No such user'),
  );
  const zones: Record<string, LocalZone> = {};
  for (const [name, ip] of PRIVATE_TARGETS) Object.assign(zones, mxTo(name, ip));
  Object.assign(zones, {
    // MX exchanges that are addresses (in inet_aton spellings too) or single labels.
    'litmx.test': { mx: [{ exchange: '127.0.0.1', preference: 10 }] },
    'hexmx.test': { mx: [{ exchange: '127.0x1', preference: 10 }] },
    'metahex.test': { mx: [{ exchange: '169.0xfea9fe', preference: 10 }] },
    'intmx.test': { mx: [{ exchange: '2130706433', preference: 10 }] },
    'octmx.test': { mx: [{ exchange: '0177.0.0.1', preference: 10 }] },
    'localmx.test': { mx: [{ exchange: 'localhost', preference: 10 }] },
    localhost: { a: ['127.0.0.1'] },
    // Implicit MX: the domain's own address.
    'implicit.test': { a: ['127.0.0.1'] },
    // A resolver that answers for inet_aton spellings (the syntax check lets some through).
    '127.0x1': { a: ['127.0.0.1'] },
    '169.0xfea9fe': { a: ['127.0.0.1'] },
    // One public-looking and one loopback MX: only the loopback one could answer here.
    'mixed.test': {
      mx: [
        { exchange: 'mx.loop.test', preference: 5 },
        { exchange: 'mx.ten.test', preference: 10 },
      ],
    },
    // Known to this resolver only: the system resolver cannot resolve it.
    'pinned.test': { mx: [{ exchange: 'mx.pinned.test', preference: 10 }] },
    'mx.pinned.test': { a: ['127.0.0.1'] },
  });
  dns = await startLocalDnsServer(zones);
});

afterAll(async () => {
  await smtp?.close();
  await dns?.close();
});

function validator(env: Record<string, string> = {}) {
  return createValidator(
    loadConfig(
      {},
      {
        DNS_SERVERS: dns.address,
        CHECK_SMTP: 'true',
        SMTP_PORT: String(smtp.port),
        SMTP_TIMEOUT_MS: '2000',
        ...env,
      },
    ).validation,
  );
}

describe('with default settings the probe reaches no private address', () => {
  it.each(PRIVATE_TARGETS)('MX host at %s (%s): no connection, undeliverable (mx_not_public)', async (name) => {
    const before = smtp.connections;
    const v = await validator().validate(`jane@${name}.test`, { signal });
    expect(smtp.connections).toBe(before);
    const probe = v.checks.find((c) => c.name === 'smtp');
    expect(probe).toMatchObject({ reason: 'no_mx', detail: 'mx_not_public' });
    expect(v.verdict).toBe('undeliverable');
  });

  it.each([['litmx.test'], ['hexmx.test'], ['metahex.test'], ['intmx.test'], ['octmx.test'], ['localmx.test']])(
    'MX exchange that is an address or a single label (%s): refused in DNS, no connection',
    async (domain) => {
      const before = smtp.connections;
      const v = await validator().validate(`jane@${domain}`, { signal });
      expect(smtp.connections).toBe(before);
      expect(v).toMatchObject({ verdict: 'undeliverable', reason: 'no_mx' });
      expect(v.checks.find((c) => c.name === 'smtp')).toBeUndefined();
    },
  );

  it('implicit MX on a loopback address: no connection', async () => {
    const before = smtp.connections;
    const v = await validator().validate('jane@implicit.test', { signal });
    expect(smtp.connections).toBe(before);
    expect(v.checks.find((c) => c.name === 'smtp')).toMatchObject({ reason: 'no_mx', detail: 'mx_not_public' });
  });

  it.each([['u@127.0x1'], ['u@169.0xfea9fe']])(
    '%s, with and without the DNS check: no connection, undeliverable',
    async (address) => {
      const before = smtp.connections;
      for (const env of [{}, { CHECK_DNS: 'false' }] as Record<string, string>[]) {
        const v = await validator(env).validate(address, { signal });
        expect(v.verdict).toBe('undeliverable');
      }
      expect(smtp.connections).toBe(before);
    },
  );

  it('a loopback MX that is the better one is skipped, the private second one too', async () => {
    const before = smtp.connections;
    const v = await validator().validate('jane@mixed.test', { signal });
    expect(smtp.connections).toBe(before);
    expect(v.checks.find((c) => c.name === 'smtp')).toMatchObject({ detail: 'mx_not_public' });
  });
});

describe('SMTP_ALLOW_PRIVATE_NETWORKS=true', () => {
  it('reaches the loopback server (so the counts above can fail)', async () => {
    const before = smtp.connections;
    const v = await validator({ SMTP_ALLOW_PRIVATE_NETWORKS: 'true' }).validate('jane@loop.test', { signal });
    expect(smtp.connections).toBe(before + 1);
    expect(v).toMatchObject({ verdict: 'deliverable' });
  });

  it('connects to the address our resolver gave, never resolving the name again', async () => {
    // mx.pinned.test exists only on the test resolver: a second resolution through the
    // system resolver (getaddrinfo) would fail.
    const before = smtp.connections;
    const v = await validator({ SMTP_ALLOW_PRIVATE_NETWORKS: 'true' }).validate('jane@pinned.test', { signal });
    expect(smtp.connections).toBe(before + 1);
    expect(v.verdict).toBe('deliverable');
  });

  it('still refuses IP-literal and single-label exchanges', async () => {
    const before = smtp.connections;
    for (const d of ['litmx.test', 'hexmx.test', 'localmx.test']) {
      const v = await validator({ SMTP_ALLOW_PRIVATE_NETWORKS: 'true' }).validate(`jane@${d}`, { signal });
      expect(v.reason).toBe('no_mx');
    }
    expect(smtp.connections).toBe(before);
  });
});

describe('address and host-name rules', () => {
  it('public addresses pass, the special ranges do not', () => {
    for (const ip of ['8.8.8.8', '1.1.1.1', '142.250.1.27', '2a00:1450:4001:80b::201b', '2606:4700::1111'])
      expect(isPublicAddress(ip), ip).toBe(true);
    for (const [, ip] of PRIVATE_TARGETS) expect(isPublicAddress(ip), ip).toBe(false);
    for (const ip of ['127.1', '0x7f.1', '2130706433', '017700000001', 'not-an-ip', '192.0.2.1', '198.18.0.1'])
      expect(isPublicAddress(ip), ip).toBe(false);
  });

  it('host names need two LDH labels, the last starting with a letter or xn--', () => {
    for (const h of ['mx.example.com', 'aspmx.l.google.com.', 'mx.xn--p1ai', 'a.b'])
      expect(isProbeableHost(h), h).toBe(true);
    for (const h of [
      '127.0.0.1',
      '127.0x1',
      '169.0xfea9fe',
      '2130706433',
      'localhost',
      'mx.example.123',
      'a_b.com',
      'mx..com',
      '',
      'mx.exa mple.com',
      '[127.0.0.1]',
      '::1',
    ])
      expect(isProbeableHost(h), h).toBe(false);
  });
});
