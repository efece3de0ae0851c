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

/** Collects check outcomes and flags for one address, then builds its Verdict. */
export class VerdictBuilder {
  private reason: Reason | null = null;
  private flagBits = 0;
  private suggestion: string | null = null;
  private readonly checks: CheckOutcome[] = [];

  addCheck(outcome: CheckOutcome): void {
    this.checks.push(outcome);
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
    return this.checks[this.checks.length - 1];
  }

  get hasSuggestion(): boolean {
    return this.suggestion !== null;
  }

  /** Whether a definitive negative is already known, so costlier checks can be skipped. */
  get undeliverable(): boolean {
    return this.reason !== null && KIND.get(this.reason) === 'undeliverable';
  }

  build(normalized: string, canonical: string | null = null): Verdict {
    const flags: Flag[] = [];
    if (this.flagBits !== 0) for (let i = 0; i < FLAGS.length; i++) if (this.flagBits & (1 << i)) flags.push(FLAGS[i]!);
    return {
      verdict: this.reason === null ? 'deliverable' : KIND.get(this.reason)!,
      reason: this.reason,
      flags,
      normalized,
      canonical,
      suggestion: this.suggestion,
      checks: this.checks,
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
