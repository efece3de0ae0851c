import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startLocalDnsServer } from '../../src/sim/local-dns-server.js';
import { createValidator } from '../../src/validation/validator.js';

const signal = new AbortController().signal;

describe('createValidator with local checks', () => {
  const validator = createValidator(loadConfig({}, { CHECK_DNS: 'false' }).validation);

  it.each([
    ['jane.doe@example.com', 'deliverable', null, []],
    ['not-an-address', 'undeliverable', 'invalid_syntax', []],
    ['jane@exa_mple.com', 'undeliverable', 'invalid_domain', []],
    ['jane@mailinator.com', 'risky', 'disposable', ['disposable']],
    ['admin@example.com', 'risky', 'role', ['role']],
    ['admin@mailinator.com', 'risky', 'disposable', ['role', 'disposable']],
    ['jane@gmail.con', 'risky', 'possible_typo', ['did_you_mean']],
    ['jane@gmial.com', 'risky', 'possible_typo', ['disposable', 'did_you_mean']],
    ['jane@gmail.com', 'deliverable', null, ['free']],
    ['josé@example.com', 'deliverable', null, ['smtputf8']],
  ])('%s → %s / %s %j', async (address, verdict, reason, flags) => {
    const v = await validator.validate(address, { signal });
    expect(v.verdict).toBe(verdict);
    expect(v.reason).toBe(reason);
    expect(v.flags).toEqual(flags);
  });

  it('reports the normalised address, a suggestion and per-check outcomes', async () => {
    const v = await validator.validate('  Jane@GMAIL.con ', { signal });
    expect(v.normalized).toBe('Jane@gmail.con');
    expect(v.suggestion).toBe('Jane@gmail.com');
    expect(v.checks.map((c) => [c.name, c.status, c.reason])).toEqual([
      ['syntax', 'pass', null],
      ['lists', 'fail', 'possible_typo'],
    ]);
    for (const c of v.checks) expect(c.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('stops at a syntax failure and names the rule', async () => {
    const v = await validator.validate('user(comment)@example.com', { signal });
    expect(v.checks).toHaveLength(1);
    expect(v.checks[0]).toMatchObject({ name: 'syntax', status: 'fail', detail: 'rfc5322_only:comment' });
  });

  it('treats a non-string as invalid syntax rather than throwing', async () => {
    const v = await validator.validate(42 as unknown as string, { signal });
    expect(v).toMatchObject({ verdict: 'undeliverable', reason: 'invalid_syntax' });
  });

  it('skips the lists when CHECK_LISTS=false', async () => {
    const bare = createValidator(loadConfig({}, { CHECK_LISTS: 'false', CHECK_DNS: 'false' }).validation);
    const v = await bare.validate('admin@mailinator.com', { signal });
    expect(v).toMatchObject({ verdict: 'deliverable', reason: null, flags: [] });
    expect(v.checks.map((c) => c.name)).toEqual(['syntax']);
  });
});

describe('validateNow: the verdict without I/O', () => {
  it('gives what validate gives when only local checks run', async () => {
    const validator = createValidator(loadConfig({}, { CHECK_DNS: 'false' }).validation);
    for (const address of ['jane.doe@example.com', 'not-an-address', 'admin@mailinator.com', 'jane@gmail.con']) {
      const now = validator.validateNow(address);
      const later = await validator.validate(address, { signal });
      expect(now).toBeDefined();
      expect({ ...now!, checks: now!.checks.map((c) => ({ ...c, durationMs: 0 })) }).toEqual({
        ...later,
        checks: later.checks.map((c) => ({ ...c, durationMs: 0 })),
      });
    }
  });

  it('defers to validate whenever the provider is on, so the local checks never run twice', () => {
    const validator = createValidator(
      loadConfig({}, { CHECK_DNS: 'false', CHECK_PROVIDER: 'true', PROVIDER_URL: 'http://127.0.0.1:9/verify' })
        .validation,
    );
    expect(validator.validateNow('jane@example.com')).toBeUndefined();
    expect(validator.validateNow('two@@example.com')).toBeUndefined();
  });

  it('with the DNS check, answers from a cached lookup and defers on a miss', async () => {
    const dns = await startLocalDnsServer({ 'example.com': { mx: [{ exchange: 'mx.example.com', preference: 10 }] } });
    try {
      const validator = createValidator(
        loadConfig({}, { CHECK_DNS: 'true', DNS_SERVERS: `127.0.0.1:${dns.port}` }).validation,
      );
      expect(validator.validateNow('jane@example.com')).toBeUndefined();
      const looked = await validator.validate('jane@example.com', { signal });
      const cached = validator.validateNow('ann@example.com');
      expect(cached).toMatchObject({ verdict: looked.verdict, flags: looked.flags });
      expect(cached!.checks.map((c) => [c.name, c.status])).toEqual(looked.checks.map((c) => [c.name, c.status]));
      expect(dns.queries.get('example.com MX')).toBe(1);
    } finally {
      await dns.close();
    }
  });
});
