/**
 * Verdict composition. Every check reports at most one reason; the decisive reason is the
 * one with the highest precedence (ARCHITECTURE.md "Verdicts"):
 *
 *   syntax/domain invalid → mailbox rejected → risky flags → transport unknowns → deliverable
 *
 * i.e. the order of UNDELIVERABLE_REASONS, then RISKY_REASONS, then UNKNOWN_REASONS in
 * types.ts, each list read left to right. Because unknown reasons rank below every
 * definitive one, and only definitive evidence ever reports an undeliverable reason, a
 * transient failure can never turn into `undeliverable`.
 */
import {
  type CheckOutcome,
  type CheckStatus,
  FLAGS,
  type Flag,
  REASONS,
  type Reason,
  RISKY_REASONS,
  UNDELIVERABLE_REASONS,
  UNKNOWN_REASONS,
  type Verdict,
  type VerdictKind,
} from './types.js';

const RANK = new Map<Reason, number>(REASONS.map((r, i) => [r, i]));
const KIND = new Map<Reason, VerdictKind>([
  ...UNDELIVERABLE_REASONS.map((r): [Reason, VerdictKind] => [r, 'undeliverable']),
  ...RISKY_REASONS.map((r): [Reason, VerdictKind] => [r, 'risky']),
  ...UNKNOWN_REASONS.map((r): [Reason, VerdictKind] => [r, 'unknown']),
]);
const FLAG_BIT = new Map<Flag, number>(FLAGS.map((f, i) => [f, 1 << i]));

/** Lower is more decisive. */
export function reasonRank(reason: Reason): number {
  return RANK.get(reason)!;
}

export function verdictKindOf(reason: Reason): VerdictKind {
  return KIND.get(reason)!;
}

/** The more decisive of two reasons (either may be null). */
export function moreDecisive(a: Reason | null, b: Reason | null): Reason | null {
  if (a === null) return b;
  if (b === null) return a;
  return RANK.get(a)! <= RANK.get(b)! ? a : b;
}

/** The status a check reports for the reason it found. */
export function statusFor(reason: Reason | null): CheckStatus {
  if (reason === null) return 'pass';
  return KIND.get(reason) === 'unknown' ? 'unknown' : 'fail';
}

/** The most checks a verdict holds: syntax, lists, dns, provider, smtp. */
const MAX_CHECKS = 5;

/** The flag list of each combination of flag bits, made once; a verdict gets a copy of its own. */
const flagLists = new Map<number, readonly Flag[]>();

function flagList(bits: number): readonly Flag[] {
  let list = flagLists.get(bits);
  if (list === undefined) {
    list = FLAGS.filter((_, i) => bits & (1 << i));
    flagLists.set(bits, list);
  }
  return list;
}

/** What fills the builder's free check slots; never in a verdict. */
const NO_CHECK: CheckOutcome = Object.freeze({
  name: '',
  status: 'skipped',
  reason: null,
  detail: null,
  durationMs: 0,
});

/** Collects check outcomes and flags for one address, then builds its Verdict. */
export class VerdictBuilder {
  private reason: Reason | null = null;
  private flagBits = 0;
  private suggestion: string | null = null;
  // Room for every check at once, trimmed to the checks added in build(): the first push onto
  // an empty array reserves 17 slots, three times what a verdict keeps, on every event.
  private readonly checks: CheckOutcome[] = [NO_CHECK, NO_CHECK, NO_CHECK, NO_CHECK, NO_CHECK];
  private added = 0;

  addCheck(outcome: CheckOutcome): void {
    if (this.added < MAX_CHECKS) this.checks[this.added] = outcome;
    else this.checks.push(outcome);
    this.added++;
    if (outcome.reason !== null) this.reason = moreDecisive(this.reason, outcome.reason);
  }

  flag(flag: Flag): void {
    this.flagBits |= FLAG_BIT.get(flag)!;
  }

  suggest(address: string): void {
    this.suggestion = address;
    this.flag('did_you_mean');
  }

  /** The check recorded last (for its trace span). */
  get lastCheck(): CheckOutcome | undefined {
    return this.added === 0 ? undefined : this.checks[this.added - 1];
  }

  get hasSuggestion(): boolean {
    return this.suggestion !== null;
  }

  /** Whether a definitive negative is already known, so costlier checks can be skipped. */
  get undeliverable(): boolean {
    return this.reason !== null && KIND.get(this.reason) === 'undeliverable';
  }

  build(normalized: string, canonical: string | null = null): Verdict {
    const { checks } = this;
    checks.length = this.added;
    return {
      verdict: this.reason === null ? 'deliverable' : KIND.get(this.reason)!,
      reason: this.reason,
      flags: this.flagBits === 0 ? [] : flagList(this.flagBits).slice(),
      normalized,
      canonical,
      suggestion: this.suggestion,
      checks,
    };
  }
}

/** A verdict's checks as the result record and the library API carry them (µs, not ms). */
export function checkRecords(checks: readonly CheckOutcome[]): {
  name: string;
  status: CheckStatus;
  reason: Reason | null;
  detail: string | null;
  durationMicros: number;
}[] {
  return checks.map((c) => ({
    name: c.name,
    status: c.status,
    reason: c.reason,
    detail: c.detail,
    durationMicros: Math.round(c.durationMs * 1000),
  }));
}
