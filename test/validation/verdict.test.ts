import { describe, expect, it } from 'vitest';
import { REASONS, type Reason } from '../../src/validation/types.js';
import { moreDecisive, reasonRank, VerdictBuilder, verdictKindOf } from '../../src/validation/verdict.js';

function check(reason: Reason | null) {
  return { name: 'x', status: 'pass' as const, reason, detail: null, durationMs: 0 };
}

describe('verdict precedence', () => {
  it('orders undeliverable before risky before unknown', () => {
    expect(moreDecisive('timeout', 'disposable')).toBe('disposable');
    expect(moreDecisive('disposable', 'mailbox_not_found')).toBe('mailbox_not_found');
    expect(moreDecisive('no_mx', 'invalid_syntax')).toBe('invalid_syntax');
    expect(moreDecisive(null, 'greylisted')).toBe('greylisted');
    for (const r of REASONS) {
      if (verdictKindOf(r) === 'unknown') expect(reasonRank(r)).toBeGreaterThan(reasonRank('mailbox_full'));
    }
  });

  it('a transient failure next to a pass never yields undeliverable', () => {
    const b = new VerdictBuilder();
    b.addCheck(check(null));
    b.addCheck(check('dns_unavailable'));
    expect(b.build('a@b.c')).toMatchObject({ verdict: 'unknown', reason: 'dns_unavailable' });
  });

  it('risky outranks a transport unknown; a rejection outranks both', () => {
    const b = new VerdictBuilder();
    b.addCheck(check('provider_unavailable'));
    b.addCheck(check('role'));
    expect(b.build('a@b.c')).toMatchObject({ verdict: 'risky', reason: 'role' });
    b.addCheck(check('mailbox_not_found'));
    expect(b.build('a@b.c')).toMatchObject({ verdict: 'undeliverable', reason: 'mailbox_not_found' });
  });

  it('no reasons → deliverable; flags come out in taxonomy order', () => {
    const b = new VerdictBuilder();
    b.flag('smtputf8');
    b.flag('free');
    b.flag('has_mx');
    expect(b.build('a@b.c')).toMatchObject({
      verdict: 'deliverable',
      reason: null,
      flags: ['free', 'has_mx', 'smtputf8'],
    });
  });
});
