/**
 * Composes the checks behind the one interface the pipeline sees. Checks run in order of
 * cost — syntax → lists → DNS/MX → HTTP provider → SMTP — and a definitive negative stops
 * the costlier ones (no point asking a provider about a domain without MX).
 */
import { performance } from 'node:perf_hooks';
import type { ValidationOptions } from '../config.js';
import { type EmailLists, loadEmailLists } from './lists.js';
import { parseAddress } from './syntax.js';
import type { CheckOutcome, Reason, ValidateOptions, Validator, Verdict } from './types.js';
import { statusFor, VerdictBuilder } from './verdict.js';

export interface ValidatorDeps {
  /** Pre-built lists (tests, or to share one copy between validators). */
  lists?: EmailLists;
}

function outcome(name: string, reason: Reason | null, detail: string | null, started: number): CheckOutcome {
  return { name, status: statusFor(reason), reason, detail, durationMs: performance.now() - started };
}

export class EmailValidator implements Validator {
  constructor(private readonly lists: EmailLists | null) {}

  async validate(address: string, _options: ValidateOptions): Promise<Verdict> {
    return this.validateLocal(address);
  }

  /** The synchronous local checks (syntax and lists), exposed for the benchmark. */
  validateLocal(address: string): Verdict {
    const b = new VerdictBuilder();
    let started = performance.now();
    if (typeof address !== 'string') {
      b.addCheck(outcome('syntax', 'invalid_syntax', 'not_a_string', started));
      return b.build('');
    }
    const parsed = parseAddress(address);
    if (!parsed.ok) {
      b.addCheck(outcome('syntax', parsed.reason, parsed.detail, started));
      return b.build(parsed.normalized);
    }
    b.addCheck(outcome('syntax', null, parsed.addressLiteral ? 'address_literal' : null, started));
    if (parsed.smtputf8) b.flag('smtputf8');

    if (this.lists !== null && !parsed.addressLiteral) {
      started = performance.now();
      const facts = this.lists.domainFacts(parsed.asciiDomain);
      const role = this.lists.isRole(parsed.local);
      let reason: Reason | null = null;
      let detail: string | null = null;
      if (facts.disposable) {
        reason = 'disposable';
        b.flag('disposable');
        if (facts.denied) detail = 'deny_list';
      }
      if (role) {
        reason ??= 'role';
        b.flag('role');
      }
      if (facts.free) b.flag('free');
      if (facts.suggestion !== null) {
        reason ??= 'possible_typo';
        b.suggest(`${parsed.local}@${facts.suggestion}`);
        detail ??= `did_you_mean=${facts.suggestion}`;
      }
      b.addCheck(outcome('lists', reason, detail, started));
    }
    return b.build(parsed.normalized);
  }

  async close(): Promise<void> {}
}

/** The validator the pipeline runs, built from the `validation` slice of the configuration. */
export function createValidator(options: ValidationOptions, deps: ValidatorDeps = {}): EmailValidator {
  const lists = options.listsEnabled
    ? (deps.lists ?? loadEmailLists({ allowListFile: options.allowListFile, denyListFile: options.denyListFile }))
    : null;
  return new EmailValidator(lists);
}
