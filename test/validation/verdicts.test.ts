/**
 * Issue 16 (and the syntax items of issue 15) through the validator itself, so that
 * `validate`, `validateNow` and `createValidator` all refuse what the syntax refuses:
 * Unicode hygiene, UTS #46, canonical addresses, address literals never probed, relays,
 * typo-squats, DNS evidence for typos. Real servers on loopback where I/O is involved.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import avro from 'avsc';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { loadSchema, validationResultType } from '../../src/contract/schemas.js';
import { type LocalDnsServer, startLocalDnsServer } from '../../src/sim/local-dns-server.js';
import { createValidator } from '../../src/validation/validator.js';

const signal = new AbortController().signal;
const local = createValidator(loadConfig({}, { CHECK_DNS: 'false' }).validation);

describe('Unicode hygiene in the validator (not only in the event decoder)', () => {
  it.each([
    ['\uFEFFjane@example.com', 'a BOM at the start, as CSV exports carry'],
    ['jane@example.com\u00A0', 'a trailing NBSP'],
    ['\u3000jane@example.com\u2029', 'ideographic space and PARAGRAPH SEPARATOR at the ends'],
  ])('%j is trimmed and deliverable (%s)', async (input) => {
    const v = await local.validate(input, { signal });
    expect(v).toMatchObject({ verdict: 'deliverable', normalized: 'jane@example.com', flags: [] });
  });

  it.each([
    ['ja\u200Bne@example.com', 'format_character'],
    ['ja\u200Cne@example.com', 'format_character'],
    ['ja\uFEFFne@example.com', 'format_character'],
    ['ja\u202Ene@example.com', 'bidi_control'],
    ['ja\u2067ne@example.com', 'bidi_control'],
    ['ja\uFFFEne@example.com', 'noncharacter'],
    ['ja\u0000ne@example.com', 'control_character'],
    ['ja\u009Bne@example.com', 'control_character'],
    ['jane@example.com\r\n', 'crlf'],
    ['\njane@example.com', 'crlf'],
    ['ja\u00A0ne@example.com', 'white_space_character'],
  ])('%j is undeliverable / invalid_syntax (%s), in validate and validateNow', async (input, detail) => {
    const v = await local.validate(input, { signal });
    expect(v).toMatchObject({ verdict: 'undeliverable', reason: 'invalid_syntax', flags: [], canonical: null });
    expect(v.checks[0]).toMatchObject({ name: 'syntax', detail });
    expect(local.validateNow(input)).toMatchObject({ verdict: 'undeliverable', reason: 'invalid_syntax' });
    // The display form of a refused address is the trimmed input.
    expect(v.normalized).toBe(input.trim());
  });

  it('refuses fullwidth punctuation that UTS #46 maps to a character no host name holds, before any DNS query', async () => {
    const dns = await startLocalDnsServer({ 'ex_ample.com': { mx: [{ exchange: 'mx.test', preference: 1 }] } });
    try {
      const v = createValidator(loadConfig({}, { DNS_SERVERS: `127.0.0.1:${dns.port}` }).validation);
      const r = await v.validate('x@ex\uFF3Fample.com', { signal });
      expect(r).toMatchObject({ verdict: 'undeliverable', reason: 'invalid_domain' });
      expect(r.checks.map((c) => c.name)).toEqual(['syntax']);
      expect(dns.queries.size).toBe(0);
    } finally {
      await dns.close();
    }
  });
});

describe('one canonical form per mailbox', () => {
  it.each([
    'Jane@bücher.ch',
    'Jane@BÜCHER.CH',
    'Jane@xn--bcher-kva.ch',
    'Jane@XN--BCHER-KVA.CH',
    'Jane@bu\u0308cher.ch',
    'Jane@ｂüｃｈｅｒ。ｃｈ',
  ])('%s → display user@bücher.ch, machines user@xn--bcher-kva.ch', async (input) => {
    const v = await local.validate(input, { signal });
    expect(v.normalized).toBe('Jane@bücher.ch');
    expect(v.canonical).toBe('Jane@xn--bcher-kva.ch');
  });

  it('an ASCII address is its own canonical form', async () => {
    const v = await local.validate(' Jane@Example.COM ', { signal });
    expect(v).toMatchObject({ normalized: 'Jane@example.com', canonical: 'Jane@example.com' });
  });

  it('canonicalEmail is an optional, backward-compatible field of ValidationResult', () => {
    const current = loadSchema('ValidationResult') as avro.schema.RecordType;
    const field = current.fields.find((f) => f.name === 'canonicalEmail');
    expect(field).toMatchObject({ type: ['null', 'string'], default: null });
    // The schema before the field: a result it wrote reads with the current schema (null),
    // and a current result reads with it (the field is skipped).
    const previous = avro.Type.forSchema({
      ...current,
      fields: current.fields.filter((f) => f.name !== 'canonicalEmail'),
    } as avro.Schema);
    const base = {
      eventId: 'e1',
      userId: 'u1',
      email: 'Jane@Bücher.ch',
      normalizedEmail: 'Jane@bücher.ch',
      verdict: 'deliverable',
      reason: null,
      flags: [],
      suggestion: null,
      checks: [],
      sourceRecord: { topic: 't', partition: 0, offset: 1 },
      occurredAt: 1,
      validatedAt: 2,
      durationMicros: 3,
      processorVersion: 'x',
    };
    const oldBytes = previous.toBuffer(base);
    const upgraded = validationResultType.createResolver(previous);
    expect(validationResultType.fromBuffer(oldBytes, upgraded)).toMatchObject({ canonicalEmail: null });
    const newBytes = validationResultType.toBuffer({ ...base, canonicalEmail: 'Jane@xn--bcher-kva.ch' });
    expect(validationResultType.fromBuffer(newBytes)).toMatchObject({ canonicalEmail: 'Jane@xn--bcher-kva.ch' });
    const downgraded = previous.createResolver(validationResultType);
    expect(previous.fromBuffer(newBytes, downgraded)).toMatchObject({ normalizedEmail: 'Jane@bücher.ch' });
  });
});

describe('typo-squats, relays and DNS evidence', () => {
  it('a typo-squat of a big provider that a disposable list carries: possible_typo with the disposable flag', async () => {
    const v = await local.validate('jane@gmial.com', { signal });
    expect(v).toMatchObject({ verdict: 'risky', reason: 'possible_typo', suggestion: 'jane@gmail.com' });
    expect(v.flags).toEqual(expect.arrayContaining(['disposable', 'did_you_mean']));
  });

  it('a provider name under a squatter TLD is a typo even though a free-provider list carries it', async () => {
    const v = await local.validate('jane@gmail.co', { signal });
    expect(v).toMatchObject({ verdict: 'risky', reason: 'possible_typo', suggestion: 'jane@gmail.com' });
  });

  it.each([
    'jane@duck.com',
    'x.y@mozmail.com',
    'x7k2q@privaterelay.appleid.com',
    'a@simplelogin.com',
    'a@passmail.net',
    'a@me.anonaddy.com',
  ])('%s: a relay is deliverable with the relay flag', async (address) => {
    const v = await local.validate(address, { signal });
    expect(v.verdict).toBe('deliverable');
    expect(v.flags).toContain('relay');
    expect(v.flags).not.toContain('disposable');
  });

  it.each(['bob@ge.com', 'ann@3m.com', 'x@gm.com', 'x@fastmail.com', 'x@op.pl', 'x@nus.edu.sg', 'x@comp.nus.edu.sg'])(
    '%s stays deliverable',
    async (address) => {
      expect(await local.validate(address, { signal })).toMatchObject({ verdict: 'deliverable', suggestion: null });
    },
  );

  describe('with DNS on a loopback server', () => {
    let dns: LocalDnsServer;
    beforeAll(async () => {
      dns = await startLocalDnsServer({
        'aol.com': { mx: [{ exchange: 'mx.aol.com', preference: 1 }] },
        // a real domain one edit from aol.com: it has mail servers
        'aok.com': { mx: [{ exchange: 'mx.aok.com', preference: 1 }] },
      });
    });
    afterAll(async () => {
      await dns.close();
    });

    it('suggests a short-name provider only when DNS says the domain receives no mail', async () => {
      const v = createValidator(loadConfig({}, { DNS_SERVERS: `127.0.0.1:${dns.port}` }).validation);
      const nx = await v.validate('jane@aoll.com', { signal });
      expect(nx).toMatchObject({ verdict: 'undeliverable', reason: 'invalid_domain', suggestion: 'jane@aol.com' });
      expect(nx.flags).toContain('did_you_mean');
      const real = await v.validate('jane@aok.com', { signal });
      expect(real).toMatchObject({ verdict: 'deliverable', suggestion: null });
      // The cached answer gives the same verdict without I/O.
      expect(v.validateNow('bob@aoll.com')).toMatchObject({ suggestion: 'bob@aol.com' });
    });
  });
});

describe('address literals and inet_aton domains are never probed', () => {
  let smtp: SMTPServer;
  let port: number;
  let connections = 0;
  let dns: LocalDnsServer;
  beforeAll(async () => {
    smtp = new SMTPServer({
      logger: false,
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      onConnect(_session, callback) {
        connections++;
        callback();
      },
    });
    smtp.listen(0, '127.0.0.1');
    await once(smtp.server, 'listening');
    port = (smtp.server.address() as AddressInfo).port;
    dns = await startLocalDnsServer({});
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => smtp.close(() => resolve()));
    await dns.close();
  });

  it.each([
    ['u@[127.0.0.1]', 'invalid_domain', 'address_literal_private'],
    ['u@[10.0.0.1]', 'invalid_domain', 'address_literal_private'],
    ['u@[169.254.169.254]', 'invalid_domain', 'address_literal_private'],
    ['u@[100.64.0.1]', 'invalid_domain', 'address_literal_private'],
    ['u@[IPv6:::1]', 'invalid_domain', 'address_literal_private'],
    ['u@[IPv6:::ffff:127.0.0.1]', 'invalid_domain', 'address_literal_private'],
    ['u@[IPv6:fd00::1]', 'invalid_domain', 'address_literal_private'],
    ['u@127.0x1', 'invalid_domain', 'tld_leading_digit'],
    ['u@169.0xfea9fe', 'invalid_domain', 'tld_leading_digit'],
    ['u@0x7f.1', 'invalid_domain', 'tld_numeric'],
  ])('%s → undeliverable / %s (%s); the SMTP server sees no connection', async (address, reason, detail) => {
    const v = createValidator(
      loadConfig(
        {},
        {
          CHECK_SMTP: 'true',
          SMTP_PORT: String(port),
          SMTP_HELO: 'probe.test',
          DNS_SERVERS: `127.0.0.1:${dns.port}`,
        },
      ).validation,
    );
    const r = await v.validate(address, { signal });
    expect(r).toMatchObject({ verdict: 'undeliverable', reason });
    expect(r.checks.find((c) => c.name === 'syntax')?.detail).toBe(detail);
    expect(r.checks.map((c) => c.name)).toEqual(['syntax']);
    expect(connections).toBe(0);
    expect(dns.queries.size).toBe(0);
  });

  it('a public literal is risky with a reason of its own, with no DNS, lists or SMTP check', async () => {
    // SMTP off: were the literal probed by mistake, the probe must not leave loopback.
    const r = await local.validate('u@[IPv6:2606:4700::1111]', { signal });
    expect(r).toMatchObject({ verdict: 'risky', reason: 'address_literal', canonical: 'u@[IPv6:2606:4700::1111]' });
    expect(r.checks.map((c) => [c.name, c.detail])).toEqual([['syntax', 'address_literal_public']]);
  });
});
