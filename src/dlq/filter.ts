/**
 * Which dead-letter records a replay takes: by error code and by the time of the last
 * failure. The normalized filter also names the replay's consumer group, which is what
 * makes a replay idempotent (see `replayGroupId`).
 */
import { createHash } from 'node:crypto';
import type { KafkaMessage } from 'kafkajs';
import { DLQ_HEADERS } from '../contract/headers.js';
import { headerText } from '../contract/read-header.js';
import { DEAD_LETTER_CODES } from '../contract/verdicts.js';
import { ProcessorError } from '../errors.js';

export interface ReplayFilter {
  /** Error codes to take, sorted and distinct; empty takes every code. */
  readonly codes: readonly string[];
  /** Inclusive lower bound of the failure time, epoch ms. */
  readonly since: number | null;
  /** Exclusive upper bound of the failure time, epoch ms. */
  readonly until: number | null;
}

export interface ReplayFilterInput {
  code?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
}

/** A bad replay option (USAGE_INVALID): the CLI prints the message and exits 2. */
export class ReplayOptionError extends ProcessorError {
  constructor(message: string) {
    super('USAGE_INVALID', message);
    this.name = 'ReplayOptionError';
  }
}

// A date, optionally with a time and a zone. Date.parse alone also takes "1", "March 7" and
// other forms whose meaning depends on the host's locale and zone, and rolls 2026-02-30 over
// to March 2, so the fields are checked here.
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;

function fieldsInRange(m: RegExpExecArray): boolean {
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map((f) => (f === undefined ? 0 : Number(f)));
  const daysInMonth = new Date(Date.UTC(year!, month!, 0)).getUTCDate();
  return (
    month! >= 1 && month! <= 12 && day! >= 1 && day! <= daysInMonth && hour! <= 23 && minute! <= 59 && second! <= 59
  );
}

function parseTime(value: string, option: string): number {
  const v = value.trim();
  const m = ISO_TIME.exec(v);
  // Date.parse reads a date-time without a zone in the host's zone; here it is UTC, like a
  // bare date, so the same command means the same range on every machine.
  const zoned = m?.[4] === undefined || /(?:Z|[+-]\d{2}:?\d{2})$/i.test(v) ? v : `${v}Z`;
  const ms = m && fieldsInRange(m) ? Date.parse(zoned.replace(' ', 'T')) : Number.NaN;
  if (!Number.isFinite(ms)) {
    throw new ReplayOptionError(`--${option} "${value}" is not an ISO 8601 time (e.g. 2026-03-01T12:00:00Z)`);
  }
  return ms;
}

export function parseReplayFilter(input: ReplayFilterInput): ReplayFilter {
  let codes: string[] = [];
  if (input.code !== undefined) {
    const parts = input.code.split(',').map((c) => c.trim().toUpperCase());
    if (parts.some((c) => c === '')) throw new ReplayOptionError('--code needs a comma-separated list of error codes');
    // Only record codes are ever on a dead letter: an operational code would match nothing.
    const unknown = parts.filter((c) => !(DEAD_LETTER_CODES as readonly string[]).includes(c));
    if (unknown.length > 0) {
      throw new ReplayOptionError(
        `--code: unknown error code${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; known: ${DEAD_LETTER_CODES.join(', ')}`,
      );
    }
    codes = [...new Set(parts)].sort();
  }
  const since = input.since === undefined ? null : parseTime(input.since, 'since');
  const until = input.until === undefined ? null : parseTime(input.until, 'until');
  if (since !== null && until !== null && since >= until) {
    throw new ReplayOptionError(
      `--since (${new Date(since).toISOString()}) must be before --until (${new Date(until).toISOString()})`,
    );
  }
  return { codes, since, until };
}

/** The filter in one canonical string: equal filters, however they were written, give equal text. */
export function describeFilter(filter: ReplayFilter): string {
  const parts = [`codes=${filter.codes.length > 0 ? filter.codes.join(',') : '*'}`];
  parts.push(`since=${filter.since === null ? '*' : new Date(filter.since).toISOString()}`);
  parts.push(`until=${filter.until === null ? '*' : new Date(filter.until).toISOString()}`);
  return parts.join(' ');
}

/**
 * The consumer group a replay reads the dead-letter topic with. Its committed offsets record
 * how far this filter has been replayed to this destination, so running the same command again
 * replays only what arrived since; a different filter (or destination) is a different group and
 * scans the topic anew. The destination is part of the identity because replaying to another
 * topic is another replay, not a repeat of this one.
 */
export function replayGroupId(baseGroupId: string, filter: ReplayFilter, destination: string): string {
  const hash = createHash('sha256')
    .update(`${describeFilter(filter)} to=${destination}`)
    .digest('hex')
    .slice(0, 12);
  return `${baseGroupId}.replay-dlq.${hash}`;
}

/** The error code a dead-letter record carries, or `(none)` for a record without one. */
export function errorCodeOf(message: Pick<KafkaMessage, 'headers'>): string {
  return headerText(message.headers, DLQ_HEADERS.code) ?? '(none)';
}

/** When the record last failed: its `efv-last-failure-at` header, else the record timestamp. */
export function failureTimeOf(message: Pick<KafkaMessage, 'headers' | 'timestamp'>): number {
  const header = headerText(message.headers, DLQ_HEADERS.lastFailureAt);
  const t = header === undefined ? Number.NaN : Date.parse(header);
  return Number.isFinite(t) ? t : Number(message.timestamp);
}

export function matchesFilter(message: Pick<KafkaMessage, 'headers' | 'timestamp'>, filter: ReplayFilter): boolean {
  if (filter.codes.length > 0 && !filter.codes.includes(errorCodeOf(message))) return false;
  if (filter.since === null && filter.until === null) return true;
  const t = failureTimeOf(message);
  if (filter.since !== null && !(t >= filter.since)) return false;
  if (filter.until !== null && !(t < filter.until)) return false;
  return true;
}
