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
import { writeVerdictResult } from '../contract/result-encoder.js';
import {
  encodeValidationResult,
  HAND_WRITTEN_RESULT_ENCODER,
  type SignupEvent,
  type ValidationResult,
} from '../contract/schemas.js';
import type { ProcessorError } from '../errors.js';
import { headerOverflow, undecodableBatch } from '../kafka/batch-decoder.js';
import type { Verdict } from '../validation/types.js';
import { checkRecords } from '../validation/verdict.js';
import { PROCESSOR_VERSION } from '../version.js';

/** A record the processor writes: a result, a retry or a dead letter, before it is batched. */
export interface OutgoingRecord {
  topic: string;
  /** The input record it answers (not sent): named by a capped dead letter that replaces it. */
  source?: { topic: string; partition: number; offset: string };
  key: Buffer | string | null;
  value: Buffer | null;
  headers: Record<string, string | Buffer>;
  /** Set by the publisher when it assigns the output partition. */
  partition?: number;
}

export interface SourceCoordinates {
  topic: string;
  partition: number;
  offset: string;
}

/** The result record of an event and its verdict: what the valid and invalid topics carry. */
export function validationResultOf(
  event: SignupEvent,
  verdict: Verdict,
  src: SourceCoordinates,
  validatedAt: number,
  durationMicros: number,
): ValidationResult {
  return {
    eventId: event.eventId,
    userId: event.userId,
    email: event.email,
    normalizedEmail: verdict.normalized,
    verdict: verdict.verdict,
    reason: verdict.reason,
    flags: verdict.flags,
    suggestion: verdict.suggestion,
    checks: checkRecords(verdict.checks),
    sourceRecord: { topic: src.topic, partition: src.partition, offset: Number(src.offset) },
    occurredAt: event.occurredAt,
    validatedAt,
    durationMicros,
    processorVersion: PROCESSOR_VERSION,
    canonicalEmail: verdict.canonical ?? null,
  };
}

/**
 * The raw Avro of `validationResultOf(…)`. The hand-written encoder writes it straight from
 * the event and verdict (no result object per record); a value it refuses is encoded again
 * through the result object, so a refusal is the general path's own (the same dead letter).
 */
function rawAvroOf(
  event: SignupEvent,
  verdict: Verdict,
  src: SourceCoordinates,
  validatedAt: number,
  durationMicros: number,
): Buffer {
  if (HAND_WRITTEN_RESULT_ENCODER) {
    try {
      return writeVerdictResult(event, verdict, src, validatedAt, durationMicros);
    } catch {
      // Below: the general path's answer, or its error.
    }
  }
  return encodeValidationResult(validationResultOf(event, verdict, src, validatedAt, durationMicros));
}

export function resultRecord(
  event: SignupEvent,
  verdict: Verdict,
  src: SourceCoordinates,
  key: Buffer | null,
  durationMicros: number,
  topic: string,
  /** Raw Avro when absent; the schema registry's wire format when SCHEMA_REGISTRY_URL is set. */
  encode?: (topic: string, result: ValidationResult) => Buffer,
): OutgoingRecord {
  const validatedAt = Date.now();
  return {
    topic,
    source: src,
    key,
    value: encode
      ? encode(topic, validationResultOf(event, verdict, src, validatedAt, durationMicros))
      : rawAvroOf(event, verdict, src, validatedAt, durationMicros),
    headers: resultHeaders(verdict.verdict, verdict.reason ?? ''),
  };
}

/** Distinct (verdict, reason) pairs whose headers are shared; the reasons are a fixed set of codes. */
const MAX_SHARED_HEADERS = 256;
const sharedHeaders = new Map<string, Map<string, Record<string, string>>>();
let sharedCount = 0;

/**
 * A result's headers: one frozen object per verdict and reason, shared by every result with
 * them, so the record encoder and the size estimates work them out once (a writer, such as
 * trace propagation, must copy them first).
 */
export function resultHeaders(verdict: string, reason: string): Record<string, string> {
  let byReason = sharedHeaders.get(verdict);
  const shared = byReason?.get(reason);
  if (shared) return shared;
  const headers = {
    [RESULT_HEADERS.contentType]: RESULT_CONTENT_TYPE,
    [RESULT_HEADERS.verdict]: verdict,
    [RESULT_HEADERS.reason]: reason,
  };
  if (sharedCount >= MAX_SHARED_HEADERS) return headers;
  if (!byReason) {
    byReason = new Map();
    sharedHeaders.set(verdict, byReason);
  }
  byReason.set(reason, Object.freeze(headers));
  sharedCount++;
  return headers;
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

/** How far a retry record's due time may lie beyond its tier's delay (clock skew between replicas). */
export const RETRY_CLOCK_SLACK_MS = 60_000;
/** Node fires a timer longer than 2^31-1 ms after 1 ms: a far due time would busy-loop pause/fetch. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * When a retry record becomes due; a record without the header is due at once. A due time
 * further away than its tier's delay (plus slack), or than a timer can wait, is not waited
 * for: the record is due now, and `retryHeaderCheck` dead-letters it as forged.
 */
export function retryDueAt(headers: IHeaders | undefined, tierDelayMs = MAX_TIMER_MS, now = Date.now()): number {
  const due = Number(headerText(headers, DLQ_HEADERS.retryDueAt));
  if (!Number.isFinite(due)) return 0;
  return due - now > Math.min(MAX_TIMER_MS, tierDelayMs + RETRY_CLOCK_SLACK_MS) ? 0 : due;
}

/**
 * Checks the efv-* headers of a record read from a retry topic: whoever can write to a
 * retry topic could otherwise skip retries (efv-attempts), claim a false origin
 * (efv-source-*) or park a partition (efv-retry-due-at). A record of tier i (0-based) was
 * written after attempt i+1, from the input topic, due at most its tier's delay after it was
 * written. Anything else is RETRY_HEADERS_INVALID.
 */
export function retryHeaderCheck(
  inputTopic: string,
  retryTopics: readonly string[],
  delaysMs: readonly number[],
): (topic: string, headers: IHeaders | undefined) => string | undefined {
  return (topic, headers) => {
    const tier = retryTopics.indexOf(topic);
    if (tier < 0) return undefined;
    const attempts = headerText(headers, DLQ_HEADERS.attempts);
    if (attempts !== String(tier + 1))
      return `${DLQ_HEADERS.attempts} is ${JSON.stringify(attempts?.slice(0, 20) ?? null)}, expected ${tier + 1} in ${topic}`;
    const source = headerText(headers, DLQ_HEADERS.topic);
    if (source !== inputTopic) return `${DLQ_HEADERS.topic} does not name the input topic`;
    const partition = headerText(headers, DLQ_HEADERS.partition) ?? '';
    const offset = headerText(headers, DLQ_HEADERS.offset) ?? '';
    if (!/^\d{1,10}$/.test(partition) || Number(partition) > 2 ** 31 - 1)
      return `${DLQ_HEADERS.partition} is not a partition number`;
    if (!/^\d{1,19}$/.test(offset)) return `${DLQ_HEADERS.offset} is not an offset`;
    const dueRaw = headerText(headers, DLQ_HEADERS.retryDueAt) ?? '';
    const due = Number(dueRaw);
    if (!/^\d{1,16}$/.test(dueRaw) || !Number.isSafeInteger(due))
      return `${DLQ_HEADERS.retryDueAt} is not epoch milliseconds`;
    const delay = delaysMs[tier] ?? 0;
    if (due - Date.now() > delay + RETRY_CLOCK_SLACK_MS)
      return `${DLQ_HEADERS.retryDueAt} is ${due - Date.now()} ms away, more than the ${delay} ms delay of ${topic}`;
    const first = headerText(headers, DLQ_HEADERS.firstFailureAt);
    if (first !== undefined && !Number.isFinite(Date.parse(first)))
      return `${DLQ_HEADERS.firstFailureAt} is not a time`;
    return undefined;
  };
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
  return { topic, source: state.origin, key: message.key, value: message.value, headers };
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
  const batch = undecodableBatch(message.headers);
  if (batch) {
    headers[DLQ_HEADERS.batchFirstOffset] = batch.firstOffset;
    headers[DLQ_HEADERS.batchLastOffset] = batch.lastOffset;
    headers[DLQ_HEADERS.batchCodec] = batch.codec;
  }
  const overflow = headerOverflow(message.headers);
  if (overflow) {
    headers[DLQ_HEADERS.headerCount] = String(overflow.count);
    headers[DLQ_HEADERS.headerBytes] = String(overflow.bytes);
  }
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
  return { topic, source: src, key: message.key, value, headers };
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
    // A null header value (Kafka allows it; KafkaJS hands it as null) is left out: an
    // OutgoingRecord's headers are bytes, and a null one made sizing the record throw.
    const first = Array.isArray(v) ? v[0] : v;
    if (first === undefined || first === null) continue;
    // A header named __proto__ must stay a header, not become the object's prototype.
    if (k === '__proto__')
      Object.defineProperty(to, k, { value: first, enumerable: true, writable: true, configurable: true });
    else to[k] = first;
  }
}

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/**
 * What is published instead of a record too large for its topic (a result carrying a huge
 * key or id, a dead letter whose key and value together pass the broker's limit): a dead
 * letter of a few hundred bytes that keeps the source coordinates, the original error code
 * and the sizes and sha256 of the key and value, so the input can still be found and
 * replayed from its source topic. Key, value and other headers are dropped.
 */
export function cappedDeadLetter(
  record: OutgoingRecord,
  deadLetterTopic: string,
  limit: number,
  size: number,
): OutgoingRecord {
  const h = record.headers;
  const str = (name: string) => {
    const v = h[name];
    return v === undefined ? undefined : v.toString().slice(0, 200);
  };
  const src = record.source;
  const now = new Date().toISOString();
  const headers: Record<string, string> = {
    [DLQ_HEADERS.code]: 'RESULT_TOO_LARGE',
    [DLQ_HEADERS.message]: `a record of ${size} bytes for ${record.topic.slice(0, 200)} does not fit its ${limit}-byte limit; key, value and headers dropped`,
    [DLQ_HEADERS.retriable]: 'false',
    [DLQ_HEADERS.originalTopic]: record.topic.slice(0, 249),
    [DLQ_HEADERS.lastFailureAt]: now,
    [DLQ_HEADERS.version]: PROCESSOR_VERSION,
    [DLQ_HEADERS.valueDropped]: 'true',
    [DLQ_HEADERS.headersDropped]: String(Object.keys(h).length),
  };
  const code = str(DLQ_HEADERS.code);
  if (code) headers[DLQ_HEADERS.originalErrorCode] = code;
  for (const name of [DLQ_HEADERS.timestamp, DLQ_HEADERS.attempts, DLQ_HEADERS.firstFailureAt, 'traceparent']) {
    const v = str(name);
    if (v !== undefined) headers[name] = v;
  }
  const topic = src?.topic ?? str(DLQ_HEADERS.topic);
  const partition = src ? String(src.partition) : str(DLQ_HEADERS.partition);
  const offset = src?.offset ?? str(DLQ_HEADERS.offset);
  if (topic !== undefined) headers[DLQ_HEADERS.topic] = topic.slice(0, 249);
  if (partition !== undefined) headers[DLQ_HEADERS.partition] = partition;
  if (offset !== undefined) headers[DLQ_HEADERS.offset] = offset;
  if (record.key !== null) {
    headers[DLQ_HEADERS.keyBytes] = String(Buffer.byteLength(record.key));
    headers[DLQ_HEADERS.keySha256] = sha256(record.key);
  }
  if (record.value !== null) {
    headers[DLQ_HEADERS.valueBytes] = String(record.value.length);
    headers[DLQ_HEADERS.valueSha256] = sha256(record.value);
  }
  return { topic: deadLetterTopic, ...(src ? { source: src } : {}), key: null, value: null, headers };
}
