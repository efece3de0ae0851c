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

  it('a verdict holds exactly the checks added, in order, also past the five the builder makes room for', () => {
    for (const n of [0, 1, 2, 5, 6, 8]) {
      const b = new VerdictBuilder();
      const added = Array.from({ length: n }, (_, i) => ({ ...check(null), name: `c${i}` }));
      for (const c of added) b.addCheck(c);
      const { checks } = b.build('a@b.c');
      expect(checks).toHaveLength(n);
      expect(checks.map((c) => c.name)).toEqual(added.map((c) => c.name));
      expect(b.lastCheck).toBe(added[n - 1]);
    }
  });

  it('each verdict has a flag list of its own', () => {
    const flagged = () => {
      const b = new VerdictBuilder();
      b.flag('free');
      b.flag('role');
      return b.build('a@b.c');
    };
    const first = flagged();
    first.flags.push('relay');
    expect(flagged().flags).toEqual(['free', 'role']);
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
