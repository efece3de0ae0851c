/**
 * The validator contract and the verdict taxonomy of ARCHITECTURE.md ("Verdicts").
 * Every check plugs in behind `Validator.validate`; the pipeline only sees a `Verdict`.
 */
export const VERDICTS = ['deliverable', 'undeliverable', 'risky', 'unknown'] as const;
export type VerdictKind = (typeof VERDICTS)[number];

export const UNDELIVERABLE_REASONS = [
  'invalid_syntax',
  'invalid_domain',
  'no_mx',
  'null_mx',
  'mailbox_not_found',
  'mailbox_disabled',
] as const;
export const RISKY_REASONS = [
  'disposable',
  'role',
  'accept_all',
  'possible_typo',
  'mailbox_full',
  /** A public IP address literal (`u@[192.0.2.1]`): never probed, no DNS, no lists apply. */
  'address_literal',
] as const;
export const UNKNOWN_REASONS = [
  'timeout',
  'dns_unavailable',
  'provider_unavailable',
  'rate_limited',
  'smtp_unavailable',
  'greylisted',
] as const;
export const REASONS = [...UNDELIVERABLE_REASONS, ...RISKY_REASONS, ...UNKNOWN_REASONS] as const;
export type Reason = (typeof REASONS)[number];

export const FLAGS = [
  'free',
  'role',
  'disposable',
  'accept_all',
  'has_mx',
  'smtputf8',
  'did_you_mean',
  /** A privacy relay (duck.com, mozmail.com, privaterelay.appleid.com…): forwards to a real mailbox; not a risk. */
  'relay',
] as const;
export type Flag = (typeof FLAGS)[number];

export type CheckStatus = 'pass' | 'fail' | 'unknown' | 'skipped';

/** One check's outcome, carried in the result record. */
export interface CheckOutcome {
  /** e.g. "syntax", "lists", "dns", "provider", "smtp". */
  name: string;
  status: CheckStatus;
  /** The reason this check contributed, if any. */
  reason: Reason | null;
  /** Short machine-readable detail (e.g. "mx=mx1.example.com", "smtp 550 5.1.1"); never the address. */
  detail: string | null;
  durationMs: number;
}

export interface Verdict {
  verdict: VerdictKind;
  /** The one decisive reason; null for a clean `deliverable`. */
  reason: Reason | null;
  flags: Flag[];
  /** The address for display (trimmed, NFC, domain in lower-case U-labels), or the trimmed input if unparsable. */
  normalized: string;
  /**
   * The one form per mailbox for machines: the local part as written (NFC) and the domain
   * in lower-case A-labels (or the address literal). Null when the address did not parse.
   */
  canonical?: string | null;
  /** A suggested correction when `did_you_mean` is flagged. */
  suggestion: string | null;
  checks: CheckOutcome[];
}

export interface ValidateOptions {
  /** Aborted when the processor gives up on this event (timeout, revocation, shutdown). */
  signal: AbortSignal;
}

export interface Validator {
  validate(address: string, options: ValidateOptions): Promise<Verdict>;
  /**
   * The verdict if it can be reached without I/O (the local checks decide, or every check
   * needed is answered from a cache), else undefined. Same verdict `validate` would give.
   */
  validateNow?(address: string): Verdict | undefined;
  /** Releases sockets, pools and timers. */
  close?(): Promise<void>;
}
