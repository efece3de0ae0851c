import { createHash } from 'node:crypto';
import type { IHeaders, KafkaMessage } from 'kafkajs';
import { RESULT_CONTENT_TYPE } from '../contract/content-types.js';
import {
  DLQ_HEADERS,
  DLQ_MAX_VALUE_BYTES,
  PROCESSOR_HEADER_PREFIX,
  REPLAY_HEADER_PREFIX,
  RESULT_HEADERS,
  TRACE_HEADERS,
} from '../contract/headers.js';
import { headerText } from '../contract/read-header.js';
import { encodeValidationResult, type SignupEvent, type ValidationResult } from '../contract/schemas.js';
import type { ProcessorError } from '../errors.js';
import type { Verdict } from '../validation/types.js';
import { PROCESSOR_VERSION } from '../version.js';

/** A record the processor writes: a result, a retry or a dead letter, before it is batched. */
export interface OutgoingRecord {
  topic: string;
  key: Buffer | string | null;
  value: Buffer | null;
  headers: Record<string, string | Buffer>;
}

export interface SourceCoordinates {
  topic: string;
  partition: number;
  offset: string;
}

export function resultRecord(
  event: SignupEvent,
  verdict: Verdict,
  src: SourceCoordinates,
  key: Buffer | null,
  durationMicros: number,
  topic: string,
  /** Raw Avro by default; the schema registry's wire format when SCHEMA_REGISTRY_URL is set. */
  encode: (topic: string, result: ValidationResult) => Buffer = (_topic, r) => encodeValidationResult(r),
): OutgoingRecord {
  const result: ValidationResult = {
    eventId: event.eventId,
    userId: event.userId,
    email: event.email,
    normalizedEmail: verdict.normalized,
    verdict: verdict.verdict,
    reason: verdict.reason,
    flags: verdict.flags,
    suggestion: verdict.suggestion,
    checks: verdict.checks.map((c) => ({
      name: c.name,
      status: c.status,
      reason: c.reason,
      detail: c.detail,
      durationMicros: Math.round(c.durationMs * 1000),
    })),
    sourceRecord: { topic: src.topic, partition: src.partition, offset: Number(src.offset) },
    occurredAt: event.occurredAt,
    validatedAt: Date.now(),
    durationMicros,
    processorVersion: PROCESSOR_VERSION,
    canonicalEmail: verdict.canonical ?? null,
  };
  return {
    topic,
    key,
    value: encode(topic, result),
    headers: {
      [RESULT_HEADERS.contentType]: RESULT_CONTENT_TYPE,
      [RESULT_HEADERS.verdict]: verdict.verdict,
      [RESULT_HEADERS.reason]: verdict.reason ?? '',
    },
  };
}

/**
 * Where an event stands in its retries. Read from a retry record's headers; the input topic's
 * records start at zero attempts with themselves as origin.
 */
export interface RetryState {
  /** Validation attempts already made. */
  attempts: number;
  firstFailureAt: number | null;
  history: string;
  /** The coordinates of the original input record, reported in results and dead letters. */
  origin: SourceCoordinates;
}

export function retryStateOf(headers: IHeaders | undefined, src: SourceCoordinates): RetryState {
  const attempts = Number(headerText(headers, DLQ_HEADERS.attempts) ?? '0');
  const first = Date.parse(headerText(headers, DLQ_HEADERS.firstFailureAt) ?? '');
  const partition = Number(headerText(headers, DLQ_HEADERS.partition));
  const topic = headerText(headers, DLQ_HEADERS.topic);
  const offset = headerText(headers, DLQ_HEADERS.offset);
  return {
    attempts: Number.isInteger(attempts) && attempts >= 0 ? attempts : 0,
    firstFailureAt: Number.isFinite(first) ? first : null,
    history: headerText(headers, DLQ_HEADERS.retryHistory) ?? '',
    // A retry record without its origin (hand-made, corrupted) is reported as itself.
    origin: topic && offset && /^\d+$/.test(offset) && Number.isInteger(partition) ? { topic, partition, offset } : src,
  };
}

/** When a retry record becomes due; a record without the header is due at once. */
export function retryDueAt(headers: IHeaders | undefined): number {
  const due = Number(headerText(headers, DLQ_HEADERS.retryDueAt));
  return Number.isFinite(due) ? due : 0;
}

/** The original key, value and headers, with the attempt history, for a later try. */
export function retryRecord(
  message: KafkaMessage,
  state: RetryState,
  reason: string,
  topic: string,
  delayMs: number,
): OutgoingRecord {
  const now = Date.now();
  const headers: Record<string, string | Buffer> = {};
  copyHeaders(message.headers, headers);
  headers[DLQ_HEADERS.topic] = state.origin.topic;
  headers[DLQ_HEADERS.partition] = String(state.origin.partition);
  headers[DLQ_HEADERS.offset] = state.origin.offset;
  headers[DLQ_HEADERS.attempts] = String(state.attempts + 1);
  headers[DLQ_HEADERS.firstFailureAt] = new Date(state.firstFailureAt ?? now).toISOString();
  headers[DLQ_HEADERS.lastFailureAt] = new Date(now).toISOString();
  headers[DLQ_HEADERS.verdictReason] = reason;
  headers[DLQ_HEADERS.retryHistory] = appendHistory(state.history, reason, now);
  headers[DLQ_HEADERS.retryDueAt] = String(now + delayMs);
  headers[DLQ_HEADERS.version] = PROCESSOR_VERSION;
  return { topic, key: message.key, value: message.value, headers };
}

function appendHistory(history: string, reason: string, at: number): string {
  const entry = `${reason}@${new Date(at).toISOString()}`;
  return history ? `${history};${entry}` : entry;
}

const NOT_COPIED = new Set<string>(TRACE_HEADERS);

/**
 * The original key and value bytes unchanged, so the record can be replayed; the original
 * headers kept (but for trace context, which the caller sets to the processing span); why it
 * failed in `efv-*` headers.
 */
export function deadLetterRecord(
  message: KafkaMessage,
  src: SourceCoordinates,
  error: ProcessorError,
  topic: string,
  extra: { retry?: RetryState | null; verdictReason?: string | null } = {},
): OutgoingRecord {
  const nowMs = Date.now();
  const now = new Date(nowMs).toISOString();
  const retry = extra.retry;
  const headers: Record<string, string | Buffer> = {};
  copyHeaders(message.headers, headers);
  headers[DLQ_HEADERS.code] = error.code;
  headers[DLQ_HEADERS.message] = error.message.slice(0, 1000);
  headers[DLQ_HEADERS.retriable] = String(error.retriable);
  headers[DLQ_HEADERS.topic] = src.topic;
  headers[DLQ_HEADERS.partition] = String(src.partition);
  headers[DLQ_HEADERS.offset] = src.offset;
  headers[DLQ_HEADERS.timestamp] = message.timestamp;
  headers[DLQ_HEADERS.attempts] = String((retry?.attempts ?? 0) + 1);
  headers[DLQ_HEADERS.firstFailureAt] = retry?.firstFailureAt ? new Date(retry.firstFailureAt).toISOString() : now;
  headers[DLQ_HEADERS.lastFailureAt] = now;
  headers[DLQ_HEADERS.version] = PROCESSOR_VERSION;
  if (extra.verdictReason) headers[DLQ_HEADERS.verdictReason] = extra.verdictReason;
  let value = message.value;
  if (value && value.length > DLQ_MAX_VALUE_BYTES) {
    headers[DLQ_HEADERS.valueDropped] = 'true';
    headers[DLQ_HEADERS.valueBytes] = String(value.length);
    headers[DLQ_HEADERS.valueSha256] = createHash('sha256').update(value).digest('hex');
    value = null;
  }
  const history = retry?.history ?? '';
  if (history || extra.verdictReason) {
    headers[DLQ_HEADERS.retryHistory] = extra.verdictReason
      ? appendHistory(history, extra.verdictReason, nowMs)
      : history;
  }
  return { topic, key: message.key, value, headers };
}

function copyHeaders(from: IHeaders | undefined, to: Record<string, string | Buffer>): void {
  if (!from) return;
  for (const [k, v] of Object.entries(from)) {
    // Our processing headers are set afresh; a replay's provenance is kept.
    if (
      v === undefined ||
      NOT_COPIED.has(k) ||
      (k.startsWith(PROCESSOR_HEADER_PREFIX) && !k.startsWith(REPLAY_HEADER_PREFIX))
    )
      continue;
    // KafkaJS hands repeated headers as an array; keep the first, as most clients read it.
    const first = Array.isArray(v) ? v[0] : v;
    if (first !== undefined) to[k] = first;
  }
}
