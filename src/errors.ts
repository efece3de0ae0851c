/**
 * The closed set of error codes. A failure is classified by its code, never by its message
 * text; every dead-letter record carries one of these in its `efv-error-code` header.
 */
export const ErrorCodes = {
  /** The record value is null (a tombstone) or empty. */
  NULL_VALUE: { retriable: false, description: 'record value is null or empty (tombstone)' },
  /** The record value is larger than MAX_MESSAGE_BYTES. */
  OVERSIZED: { retriable: false, description: 'record value exceeds the configured maximum size' },
  /** Avro binary that does not decode with the SignupEvent schema (garbage, truncated, wrong schema). */
  AVRO_DECODE: { retriable: false, description: 'value is not a SignupEvent in Avro binary' },
  /** Bytes that claim to be JSON but do not parse, are not UTF-8, or are not an object. */
  JSON_DECODE: { retriable: false, description: 'value is not a JSON object' },
  /** The content-type header names a format we do not read. */
  UNSUPPORTED_CONTENT_TYPE: { retriable: false, description: 'content-type header names an unsupported format' },
  /** The event has no email field, or it is not a string. */
  MISSING_EMAIL: { retriable: false, description: 'event has no email address' },
  /** The email field is far beyond any valid length (RFC 5321 allows 254 octets). */
  EMAIL_TOO_LONG: { retriable: false, description: 'email field is longer than 1024 bytes' },
  /** The email field holds bytes that are not UTF-8 (decoded as U+FFFD). */
  INVALID_UTF8: { retriable: false, description: 'email field is not valid UTF-8' },
  /** Control characters or bidirectional overrides inside the address: spoofing, not typing. */
  UNSAFE_CHARACTERS: { retriable: false, description: 'email field contains control or bidi-override characters' },
  /** A required field other than email is missing or has the wrong type. */
  INVALID_EVENT: { retriable: false, description: 'event is missing a required field or has a wrong type' },
  /** A record batch that could not be decoded: unknown codec, over the decompression cap, or corrupt. */
  UNDECODABLE_BATCH: { retriable: false, description: 'record batch could not be decompressed or decoded' },
  /** More headers (or header bytes) than KAFKA_MAX_RECORD_HEADERS / KAFKA_MAX_RECORD_HEADER_BYTES allow. */
  TOO_MANY_HEADERS: { retriable: false, description: 'record has too many headers or too many header bytes' },
  /** The record key is longer than MAX_KEY_BYTES. */
  KEY_TOO_LONG: { retriable: false, description: 'record key is longer than allowed' },
  /** The eventId field is longer than MAX_ID_BYTES. */
  EVENT_ID_TOO_LONG: { retriable: false, description: 'eventId is longer than allowed' },
  /** The userId field (or the key it falls back to) is longer than MAX_ID_BYTES. */
  USER_ID_TOO_LONG: { retriable: false, description: 'userId is longer than allowed' },
  /** A retry-topic record whose efv-* headers are missing, malformed or out of range (forged or broken). */
  RETRY_HEADERS_INVALID: {
    retriable: false,
    description: 'retry record headers are missing, malformed or out of range',
  },
  /** A result or dead letter too large for its topic: replaced by this size-capped dead letter. */
  RESULT_TOO_LARGE: {
    retriable: false,
    description: 'result does not fit the topic and was replaced by a capped dead letter',
  },
  /** The validator could not decide after its retries (DNS, provider, SMTP unavailable). */
  VALIDATION_UNKNOWN: { retriable: true, description: 'validation could not reach a verdict (transient)' },
  /** The validator threw: a bug, never a verdict. */
  VALIDATION_ERROR: { retriable: false, description: 'validator failed unexpectedly' },
  /** A result could not be published after the producer's retries. */
  PUBLISH_FAILED: { retriable: true, description: 'result could not be published' },
  /** Bad configuration at start. */
  CONFIG_INVALID: { retriable: false, description: 'configuration is invalid' },
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export class ProcessorError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; retriable?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ProcessorError';
    this.code = code;
    this.retriable = options?.retriable ?? ErrorCodes[code].retriable;
  }
}

export function isProcessorError(err: unknown): err is ProcessorError {
  return err instanceof ProcessorError;
}

/** Failures are data: each stage returns ok or a typed failure, and the router decides. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: ProcessorError };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = <T = never>(error: ProcessorError): Result<T> => ({ ok: false, error });
