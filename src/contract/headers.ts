/**
 * Header names: the contract with producers, downstream consumers and whoever replays or
 * inspects the dead-letter topic. Every module reads and writes headers through these names.
 */

/** The value's format on input and result records (see content-types.ts). */
export const CONTENT_TYPE_HEADER = 'content-type';

/** W3C trace context, set to the processing span on every record the processor writes. */
export const TRACE_HEADERS = ['traceparent', 'tracestate'] as const;

/** Prefix of every header the processor writes; such headers are set afresh, never copied. */
export const PROCESSOR_HEADER_PREFIX = 'efv-';

/** Headers on every result record, readable without decoding the value. */
export const RESULT_HEADERS = {
  contentType: CONTENT_TYPE_HEADER,
  verdict: 'efv-verdict',
  reason: 'efv-reason',
} as const;

/** Dead-letter (and retry) header names. */
export const DLQ_HEADERS = {
  code: 'efv-error-code',
  message: 'efv-error-message',
  retriable: 'efv-error-retriable',
  topic: 'efv-source-topic',
  partition: 'efv-source-partition',
  offset: 'efv-source-offset',
  timestamp: 'efv-source-timestamp',
  attempts: 'efv-attempts',
  firstFailureAt: 'efv-first-failure-at',
  lastFailureAt: 'efv-last-failure-at',
  version: 'efv-processor-version',
  verdictReason: 'efv-verdict-reason',
  /** Retry records only: when the record may be validated again (epoch milliseconds). */
  retryDueAt: 'efv-retry-due-at',
  /** Each failed attempt as `reason@ISO time`, separated by `;`. */
  retryHistory: 'efv-retry-history',
  /** Set when the original value was too large to dead-letter; it stays in the source topic. */
  valueDropped: 'efv-value-dropped',
  valueBytes: 'efv-value-bytes',
  valueSha256: 'efv-value-sha256',
  /** UNDECODABLE_BATCH: the batch's offsets and codec (its raw bytes are the value when they fit). */
  batchFirstOffset: 'efv-batch-first-offset',
  batchLastOffset: 'efv-batch-last-offset',
  batchCodec: 'efv-batch-codec',
  /** TOO_MANY_HEADERS: what the record had (its headers are not copied). */
  headerCount: 'efv-header-count',
  headerBytes: 'efv-header-bytes',
  /** RESULT_TOO_LARGE: where the record that did not fit was going, and what it was. */
  originalTopic: 'efv-original-topic',
  originalErrorCode: 'efv-original-error-code',
  keyBytes: 'efv-key-bytes',
  keySha256: 'efv-key-sha256',
  headersDropped: 'efv-headers-dropped',
} as const;

/** Headers a replayed record carries on top of the original ones (kept through later failures). */
export const REPLAY_HEADERS = {
  /** `<dead-letter topic>/<partition>/<offset>` of the record it was replayed from. */
  replayOf: 'efv-replay-of',
  /** When it was replayed, ISO 8601. */
  replayedAt: 'efv-replayed-at',
} as const;

/** Prefix shared by the REPLAY_HEADERS: a replay's provenance survives a later dead letter. */
export const REPLAY_HEADER_PREFIX = 'efv-replay';

/**
 * A dead letter must fit a produce request. A larger original value is left out (the
 * record keeps its key, headers and source coordinates, plus the value's size and hash), so
 * the dead letter is still written instead of blocking the partition.
 */
export const DLQ_MAX_VALUE_BYTES = 512 * 1024;
