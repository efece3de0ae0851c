/**
 * The typed contract of the result records: the lists of verdicts, reasons, flags and
 * dead-letter codes as `as const` arrays, and the result types built from them, so a
 * consumer that misspells a reason or a flag fails to compile.
 *
 * The verdict, reason and flag lists are the validator's own (src/validation/types.ts
 * decides them); they are re-exported here, so the contract cannot drift from the engine.
 */
import {
  type CheckStatus,
  FLAGS,
  type Flag,
  REASONS,
  type Reason,
  RISKY_REASONS,
  UNDELIVERABLE_REASONS,
  UNKNOWN_REASONS,
  VERDICTS,
  type VerdictKind,
} from '../validation/types.js';
import type {
  CheckOutcomeRecord as CheckRecordFields,
  ValidationResult as ResultRecordFields,
} from './record-types.js';

export type { CheckStatus, Flag, Reason, VerdictKind };
export { FLAGS, REASONS, RISKY_REASONS, UNDELIVERABLE_REASONS, UNKNOWN_REASONS, VERDICTS };

export type UndeliverableReason = (typeof UNDELIVERABLE_REASONS)[number];
export type RiskyReason = (typeof RISKY_REASONS)[number];
export type UnknownReason = (typeof UNKNOWN_REASONS)[number];

export const CHECK_STATUSES = ['pass', 'fail', 'unknown', 'skipped'] as const satisfies readonly CheckStatus[];

/**
 * The `efv-error-code` header values a dead-letter record can carry: the record codes.
 * Operational errors (OPERATIONAL_ERRORS in src/errors.ts: PUBLISH_FAILED, CONFIG_INVALID, …)
 * stop a command or the processor instead of routing a record.
 */
export const DEAD_LETTER_CODES = [
  'NULL_VALUE',
  'OVERSIZED',
  'AVRO_DECODE',
  'JSON_DECODE',
  'UNSUPPORTED_CONTENT_TYPE',
  'MISSING_EMAIL',
  'INVALID_EVENT',
  'EMAIL_TOO_LONG',
  'INVALID_UTF8',
  'UNSAFE_CHARACTERS',
  'UNDECODABLE_BATCH',
  'TOO_MANY_HEADERS',
  'KEY_TOO_LONG',
  'EVENT_ID_TOO_LONG',
  'USER_ID_TOO_LONG',
  'RETRY_HEADERS_INVALID',
  'RESULT_TOO_LARGE',
  'VALIDATION_UNKNOWN',
  'VALIDATION_ERROR',
] as const;

export type DeadLetterCode = (typeof DEAD_LETTER_CODES)[number];

/** The codes whose dead letters say `efv-error-retriable: true`: a later replay may succeed unchanged. */
export const RETRIABLE_DEAD_LETTER_CODES = ['VALIDATION_UNKNOWN'] as const satisfies readonly DeadLetterCode[];

/** When each dead-letter code is used: the README's table is generated from this (`npm run docs:env`). */
export const DEAD_LETTER_CODE_DOCS: Readonly<Record<DeadLetterCode, string>> = {
  NULL_VALUE: 'null value (tombstone) or empty value',
  OVERSIZED: 'value larger than `MAX_MESSAGE_BYTES`',
  AVRO_DECODE: 'not a `SignupEvent` in Avro binary (garbage, truncated, trailing bytes, another schema)',
  JSON_DECODE: 'not valid UTF-8 JSON, or not an object',
  UNSUPPORTED_CONTENT_TYPE: '`content-type` names neither JSON nor Avro',
  MISSING_EMAIL: 'no `email`, or not a non-empty string',
  INVALID_EVENT: 'another field has the wrong type, or `occurredAt` is out of range',
  EMAIL_TOO_LONG: 'the email field is over 1024 bytes (RFC 5321 allows 254)',
  INVALID_UTF8: 'the email field is not valid UTF-8 (or holds a lone surrogate)',
  UNSAFE_CHARACTERS: 'control characters or bidirectional overrides inside the address',
  UNDECODABLE_BATCH:
    'a record batch that could not be decoded: unknown codec, more than `KAFKA_MAX_DECOMPRESSED_BATCH_BYTES` decompressed (a compression bomb), or corrupt. One dead letter for the whole batch, at its last offset, naming `efv-batch-first-offset`/`-last-offset`/`-codec` and the reason; the value is the raw batch (dropped with its sha256 over 512 KiB). The partition moves on past it',
  TOO_MANY_HEADERS:
    'more than `KAFKA_MAX_RECORD_HEADERS` headers or `KAFKA_MAX_RECORD_HEADER_BYTES` header bytes; the headers are counted (`efv-header-count`, `efv-header-bytes`, the first names in the message), not copied',
  KEY_TOO_LONG: 'record key over 4096 bytes',
  EVENT_ID_TOO_LONG: '`eventId` over 1024 bytes (every result carries it)',
  USER_ID_TOO_LONG: "`userId` (or the key a JSON event's `userId` falls back to) over 1024 bytes",
  RETRY_HEADERS_INVALID:
    "a record in a retry topic whose `efv-*` headers are missing, malformed or out of range (attempt count not that of its tier, origin not the input topic, due later than its tier's delay): forged or broken, dead-lettered under its own coordinates",
  RESULT_TOO_LARGE:
    "a result or dead letter larger than its topic's `max.message.bytes` (read at start): replaced by this dead letter without key, value or headers, keeping the source coordinates, `efv-original-error-code`, `efv-original-topic` and the sizes and sha256 of key and value",
  VALIDATION_UNKNOWN:
    'verdict `unknown` after the last retry (DNS/provider/SMTP unavailable, timeout); reason in `efv-verdict-reason`, every attempt in `efv-retry-history`',
  VALIDATION_ERROR: 'the validator threw (a bug, never a verdict)',
};

/** `verdict` and the `reason` it allows: `deliverable` has none, every other verdict one of its own list. */
export type VerdictReason =
  | { verdict: 'deliverable'; reason: null }
  | { verdict: 'undeliverable'; reason: UndeliverableReason }
  | { verdict: 'risky'; reason: RiskyReason }
  | { verdict: 'unknown'; reason: UnknownReason };

/** One check's outcome as a result record carries it, its status and reason typed to their lists. */
export type CheckOutcomeRecord = Omit<CheckRecordFields, 'status' | 'reason'> & {
  status: CheckStatus;
  reason: Reason | null;
};

/** The result record's fields (record-types.ts, as the schema has them), with flags and checks typed. */
type ValidationResultFields = Omit<ResultRecordFields, 'verdict' | 'reason' | 'flags' | 'checks'> & {
  flags: Flag[];
  checks: CheckOutcomeRecord[];
};

/**
 * The contract with downstream consumers: what the valid and invalid topics carry, a union
 * discriminated by `verdict` (narrow on it and `reason` is typed to that verdict's list).
 */
export type ValidationResult = ValidationResultFields & VerdictReason;

/** One address's verdict from `createValidator` or `email-flow-validator validate`. */
export type AddressVerdict = {
  /** The address as given. */
  email: string;
  /** Trimmed, NFC, lower-case domain (or the trimmed input if it does not parse). */
  normalizedEmail: string;
  flags: Flag[];
  /** A suggested correction when `did_you_mean` is flagged (e.g. jane@gmail.com for jane@gmial.com). */
  suggestion: string | null;
  checks: CheckOutcomeRecord[];
} & VerdictReason;
