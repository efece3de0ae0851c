import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { type LocalDnsServer, startLocalDnsServer } from '../../src/sim/local-dns-server.js';
import { MxResolver } from '../../src/validation/dns.js';
import { parseDnsServer } from '../../src/validation/dns-transport.js';
import { classifyRcpt, SmtpProber } from '../../src/validation/smtp.js';
import { createValidator } from '../../src/validation/validator.js';

/**
 * A real SMTP server on 127.0.0.1 whose RCPT TO answer depends on the address:
 * gone@ → 550 5.1.1, disabled@ → 550 5.2.1, full@ → 552 5.2.2, grey@ → 451 4.7.1,
 * blocked@ → 550 5.7.1 (policy); any address at catchall.test is accepted.
 */
function rcptError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

let smtp: SMTPServer;
let port: number;
let dns: LocalDnsServer;
const seen: string[] = [];
const signal = new AbortController().signal;

beforeAll(async () => {
  smtp = new SMTPServer({
    logger: false,
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    onRcptTo(address, _session, callback) {
      const rcpt = address.address;
      seen.push(rcpt);
      const [local, domain] = rcpt.split('@');
      if (domain === 'catchall.test') return callback();
      switch (local) {
        case 'gone':
          return callback(rcptError(550, '5.1.1 <gone@mx.test>: Recipient address rejected: User unknown'));
        case 'disabled':
          return callback(rcptError(550, '5.2.1 Mailbox disabled'));
        case 'full':
          return callback(rcptError(552, '5.2.2 Mailbox full'));
        case 'grey':
          return callback(rcptError(451, '4.7.1 Greylisted, try again later'));
        case 'blocked':
          return callback(rcptError(550, '5.7.1 Client host blocked'));
        case 'jane':
        case 'josé':
          return callback();
        default:
          return callback(rcptError(550, '5.1.1 No such user'));
      }
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  port = (smtp.server.address() as AddressInfo).port;
  dns = await startLocalDnsServer({
    'mx.test': { mx: [{ exchange: 'mx1.mx.test', preference: 10 }] },
    'mx1.mx.test': { a: ['127.0.0.1'] },
    'catchall.test': { mx: [{ exchange: 'mx1.mx.test', preference: 10 }] },
    'deadmx.test': {
      mx: [
        { exchange: 'dead.mx.test', preference: 5 },
        { exchange: 'mx1.mx.test', preference: 10 },
      ],
    },
    // Nothing listens on 127.0.0.2 at the test's port.
    'dead.mx.test': { a: ['127.0.0.2'] },
  });
});

afterAll(async () => {
  await new Promise<void>((resolve) => smtp?.close(() => resolve()));
  await dns?.close();
});

function prober(overrides: Partial<ConstructorParameters<typeof SmtpProber>[0]> = {}) {
  const resolver = new MxResolver({
    servers: [parseDnsServer(dns.address)],
    timeoutMs: 1000,
    tries: 2,
    cacheSize: 100,
    minTtlSeconds: 1,
    maxTtlSeconds: 60,
    maxNegativeTtlSeconds: 60,
  });
  return new SmtpProber(
    {
      helo: 'probe.test',
      from: '',
      port,
      timeoutMs: 2000,
      catchAllCheck: true,
      allowPrivateNetworks: true,
      ...overrides,
    },
    resolver,
  );
}
const local = [{ exchange: 'mx1.mx.test', preference: 10 }];

describe('SmtpProber against a real SMTP server on 127.0.0.1', () => {
  it.each([
    ['jane', 'mx.test', null, 'rcpt 250'],
    ['gone', 'mx.test', 'mailbox_not_found', 'rcpt 550 5.1.1'],
    ['disabled', 'mx.test', 'mailbox_disabled', 'rcpt 550 5.2.1'],
    ['full', 'mx.test', 'mailbox_full', 'rcpt 552 5.2.2'],
    ['grey', 'mx.test', 'greylisted', 'rcpt 451 4.7.1'],
    ['blocked', 'mx.test', 'smtp_unavailable', 'rcpt 550 5.7.1'],
    ['anyone', 'catchall.test', 'accept_all', 'rcpt 250'],
  ])('%s@%s → %s', async (user, domain, reason, detailStart) => {
    const a = await prober().probe(user, domain, local, signal, false);
    expect(a.reason).toBe(reason);
    expect(a.detail.startsWith(detailStart)).toBe(true);
  });

  it('keeps code, enhanced status and text, with addresses redacted', async () => {
    const a = await prober().probe('gone', 'mx.test', local, signal, false);
    expect(a.reply).toMatchObject({ code: 550, enhanced: '5.1.1' });
    expect(a.reply?.text).toContain('User unknown');
    expect(a.detail).not.toContain('gone@');
    expect(a.detail).toContain('<redacted>');
  });

  it('detects catch-all with a random local part, and only then', async () => {
    seen.length = 0;
    await prober().probe('jane', 'catchall.test', local, signal, false);
    expect(seen).toHaveLength(2);
    expect(seen[1]).toMatch(/^[0-9a-f]{24}@catchall\.test$/);
    seen.length = 0;
    await prober().probe('gone', 'mx.test', local, signal, false);
    expect(seen).toHaveLength(1);
  });

  it('a refused connection is smtp_unavailable, never undeliverable', async () => {
    const a = await prober({ port: 9 }).probe('jane', 'mx.test', local, signal, false);
    expect(a).toMatchObject({ reason: 'smtp_unavailable', detail: 'connect' });
  });

  it('classifies replies without enhanced codes by the basic code', () => {
    expect(classifyRcpt({ code: 550, enhanced: null, text: 'no' })).toBe('mailbox_not_found');
    expect(classifyRcpt({ code: 554, enhanced: null, text: 'no' })).toBe('smtp_unavailable');
    expect(classifyRcpt({ code: 450, enhanced: null, text: 'later' })).toBe('greylisted');
    expect(classifyRcpt({ code: 251, enhanced: null, text: 'forwarded' })).toBeNull();
  });
});

describe('validator with DNS and SMTP', () => {
  const validator = () =>
    createValidator(
      loadConfig(
        {},
        {
          DNS_SERVERS: dns.address,
          CHECK_SMTP: 'true',
          SMTP_PORT: String(port),
          SMTP_TIMEOUT_MS: '2000',
          SMTP_ALLOW_PRIVATE_NETWORKS: 'true',
        },
      ).validation,
    );

  it.each([
    ['jane@mx.test', 'deliverable', null, ['has_mx']],
    ['gone@mx.test', 'undeliverable', 'mailbox_not_found', ['has_mx']],
    ['grey@mx.test', 'unknown', 'greylisted', ['has_mx']],
    ['someone@catchall.test', 'risky', 'accept_all', ['accept_all', 'has_mx']],
    ['jane@deadmx.test', 'deliverable', null, ['has_mx']],
  ])('%s → %s / %s', async (address, verdict, reason, flags) => {
    const v = await validator().validate(address, { signal });
    expect(v).toMatchObject({ verdict, reason, flags });
    expect(v.checks.map((c) => c.name)).toEqual(['syntax', 'lists', 'dns', 'smtp']);
  });
});
