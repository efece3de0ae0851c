import type { IHeaders, KafkaMessage } from 'kafkajs';
import { CONTENT_TYPE_HEADER } from '../contract/headers.js';
import { headerText } from '../contract/read-header.js';
import { decodeSignupEvent, type SignupEvent } from '../contract/schemas.js';
import { fail, ok, ProcessorError, type Result } from '../errors.js';
import { headerOverflow, undecodableBatch } from '../kafka/batch-decoder.js';

export type InputFormat = 'auto' | 'avro' | 'json';

export interface DecodeOptions {
  format: InputFormat;
  maxMessageBytes: number;
  /**
   * Set when SCHEMA_REGISTRY_URL is: values in Confluent wire format (magic byte 0, schema
   * id) are decoded with their writer schema resolved against ours (src/schema-registry/).
   */
  registry?: { decodeFramed(value: Buffer): Result<SignupEvent> | undefined };
  /**
   * Checks a retry-topic record's efv-* headers (route.ts `retryHeaderCheck`): the reason
   * they are invalid, or undefined. Such a record is dead-lettered as RETRY_HEADERS_INVALID.
   */
  retryHeaders?: (topic: string, headers: IHeaders | undefined) => string | undefined;
  /** Longer keys are dead-lettered as KEY_TOO_LONG (default MAX_KEY_BYTES). */
  maxKeyBytes?: number;
  /** Longer eventId/userId values are dead-lettered (default MAX_ID_BYTES). */
  maxIdBytes?: number;
}

/**
 * Every result carries the key, eventId and userId (a JSON event without userId gets its
 * key): a 600 KB key made a 1,172 KiB result, over the broker's limit. Far above any real
 * identifier, far below a message limit.
 */
export const MAX_KEY_BYTES = 4096;
export const MAX_ID_BYTES = 1024;

/** What the decoder needs of a record besides its value; used to fill optional JSON fields. */
export interface RecordContext {
  key: Buffer | null;
  timestamp: string;
  topic: string;
  partition: number;
  offset: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;

/** The last content-type header's bytes and the format they named: producers send one content type. */
let lastContentType: Buffer | undefined;
let lastContentFormat: InputFormat = 'auto';

/** `a.equals(b)` for short header values, without a call into C++ per record. */
function sameBytes(a: Buffer, b: Buffer): boolean {
  const n = a.length;
  if (n !== b.length) return false;
  if (n > 64) return a.equals(b);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

function formatOf(value: Buffer, headers: IHeaders | undefined, configured: InputFormat): InputFormat | ProcessorError {
  if (configured !== 'auto') return configured;
  const raw = headers?.[CONTENT_TYPE_HEADER];
  if (lastContentType !== undefined && Buffer.isBuffer(raw) && sameBytes(raw, lastContentType))
    return lastContentFormat;
  const ct = headerText(headers, CONTENT_TYPE_HEADER)?.toLowerCase();
  const format = formatOfContentType(ct);
  if (format !== undefined && !(format instanceof ProcessorError) && Buffer.isBuffer(raw)) {
    lastContentType = Buffer.from(raw);
    lastContentFormat = format;
  }
  return format ?? formatOfBytes(value);
}

function formatOfContentType(ct: string | undefined): InputFormat | ProcessorError | undefined {
  if (ct) {
    if (ct.includes('json')) return 'json';
    if (ct.includes('avro') || ct === 'application/octet-stream') return 'avro';
    return new ProcessorError(
      'UNSUPPORTED_CONTENT_TYPE',
      `content-type "${ct.slice(0, 100)}" is neither JSON nor Avro`,
    );
  }
  return undefined;
}

function formatOfBytes(value: Buffer): InputFormat {
  // A SignupEvent in Avro binary starts with the zig-zag length of eventId; 0x7b and 0x5b
  // would be negative lengths, so a leading "{" or "[" (after white space) can only be JSON.
  for (let i = 0; i < value.length && i < 64; i++) {
    const b = value[i]!;
    if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) continue;
    return b === OPEN_BRACE || b === OPEN_BRACKET ? 'json' : 'avro';
  }
  return 'avro';
}

/** Far above the 254 octets RFC 5321 allows, so a long-but-plausible typo still gets a verdict. */
const MAX_EMAIL_BYTES = 1024;
/**
 * C0/C1 controls, DEL, and the bidirectional marks and overrides (U+061C, U+200E/F,
 * U+202A–E, U+2066–9) that make an address display as another one. White space at the
 * ends is trimmed before the test: a pasted trailing newline is typing, not an attack.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/**
 * Half of a UTF-16 surrogate pair on its own. JSON's `\ud800` escapes produce one; no UTF-8
 * byte sequence can carry it, so the address would be judged as one string and published as
 * another (U+FFFD).
 */
const LONE_SURROGATE = /\p{Cs}/u;

function tooLong(v: string, max: number): boolean {
  // A UTF-8 character takes at most 3 bytes per UTF-16 unit, so short strings skip the count.
  return v.length * 3 > max && Buffer.byteLength(v) > max;
}

function checkIds(e: SignupEvent, maxIdBytes: number): ProcessorError | undefined {
  if (typeof e.eventId === 'string' && tooLong(e.eventId, maxIdBytes))
    return new ProcessorError(
      'EVENT_ID_TOO_LONG',
      `eventId is ${Buffer.byteLength(e.eventId)} bytes, over ${maxIdBytes}`,
    );
  if (typeof e.userId === 'string' && tooLong(e.userId, maxIdBytes))
    return new ProcessorError('USER_ID_TOO_LONG', `userId is ${Buffer.byteLength(e.userId)} bytes, over ${maxIdBytes}`);
  return undefined;
}

/**
 * Printable ASCII only (U+0020–U+007E): such an address has no replacement character, no
 * surrogate, no control or bidi character, and as many bytes as units, so the checks below
 * need no regular expression, trim or byte count. Nearly every address is one.
 */
function plainAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

/** Why the event's email cannot be judged, or undefined. */
function checkEvent(e: SignupEvent): ProcessorError | undefined {
  if (typeof e.email !== 'string' || e.email.length === 0) {
    return new ProcessorError('MISSING_EMAIL', 'event has no email address');
  }
  if (e.email.length <= MAX_EMAIL_BYTES && plainAscii(e.email)) return undefined;
  // A UTF-8 character takes at most 4 bytes, so short strings skip the exact byte count.
  if (e.email.length > MAX_EMAIL_BYTES / 4 && Buffer.byteLength(e.email) > MAX_EMAIL_BYTES) {
    return new ProcessorError('EMAIL_TOO_LONG', `email field is ${Buffer.byteLength(e.email)} bytes`);
  }
  if (e.email.includes('\ufffd') || LONE_SURROGATE.test(e.email)) {
    return new ProcessorError('INVALID_UTF8', 'email field is not valid UTF-8');
  }
  if (UNSAFE.test(e.email.trim())) {
    return new ProcessorError('UNSAFE_CHARACTERS', 'email field contains control or bidi-override characters');
  }
  return undefined;
}

/** The event, or why it is refused: the email checks first, then the id lengths. */
function checked(e: SignupEvent, maxIdBytes: number): SignupEvent | ProcessorError {
  return checkEvent(e) ?? checkIds(e, maxIdBytes) ?? e;
}

function decodeAvro(value: Buffer, maxIdBytes: number): SignupEvent | ProcessorError {
  let event: SignupEvent;
  try {
    // Rejects truncated values and trailing bytes, which catches most records written with
    // another schema as well.
    event = decodeSignupEvent(value);
  } catch (err) {
    return new ProcessorError('AVRO_DECODE', `not a SignupEvent in Avro binary: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return checked(event, maxIdBytes);
}

function optionalString(
  o: Record<string, unknown>,
  name: string,
  fallback: string | null,
): string | null | ProcessorError {
  const v = o[name];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'string') return new ProcessorError('INVALID_EVENT', `field ${name} must be a string`);
  return v;
}

/** ECMA-262 §21.4.1.1: the time values a Date can hold. */
const MAX_TIME_MS = 8.64e15;

function decodeJson(
  value: Buffer,
  rec: ConsumedRecord,
  src: RecordSource,
  maxIdBytes: number,
): SignupEvent | ProcessorError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8.decode(value));
  } catch (err) {
    return new ProcessorError('JSON_DECODE', `not valid UTF-8 JSON: ${(err as Error).message}`, { cause: err });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return new ProcessorError('JSON_DECODE', 'JSON value is not an object');
  }
  const o = parsed as Record<string, unknown>;
  if (o.email === undefined || o.email === null) {
    return new ProcessorError('MISSING_EMAIL', 'event has no email field');
  }
  if (typeof o.email !== 'string') return new ProcessorError('MISSING_EMAIL', 'email field is not a string');
  // JSON producers are often hand-written: eventId and userId fall back to the record's
  // coordinates and key, so a minimal {"email": …} event still gets a result.
  const eventId = optionalString(o, 'eventId', `${src.topic}/${src.partition}/${src.offset}`);
  const userId = optionalString(o, 'userId', rec.key ? rec.key.toString() : '');
  const source = optionalString(o, 'source', null);
  const locale = optionalString(o, 'locale', null);
  for (const v of [eventId, userId, source, locale]) if (v instanceof ProcessorError) return v;
  let occurredAt = Number(rec.timestamp);
  if (o.occurredAt !== undefined && o.occurredAt !== null) {
    const t =
      typeof o.occurredAt === 'number'
        ? o.occurredAt
        : typeof o.occurredAt === 'string'
          ? Date.parse(o.occurredAt)
          : Number.NaN;
    if (!Number.isFinite(t))
      return new ProcessorError('INVALID_EVENT', 'occurredAt must be epoch milliseconds or an ISO 8601 time');
    occurredAt = Math.trunc(t);
  }
  // The result's Avro long refuses numbers past 2^53: one such event would make publishing
  // throw and stop the processor. A Date's range (±8.64e15 ms) is well inside it.
  if (!(Math.abs(occurredAt) <= MAX_TIME_MS))
    return new ProcessorError('INVALID_EVENT', 'occurredAt (or the record timestamp) is outside the range of a date');
  return checked(
    {
      eventId: eventId as string,
      userId: userId as string,
      email: o.email,
      occurredAt,
      source: source as string | null,
      locale: locale as string | null,
    },
    maxIdBytes,
  );
}

/** What the decoder reads of a consumed record besides its coordinates. */
export type ConsumedRecord = Pick<KafkaMessage, 'key' | 'value' | 'headers' | 'timestamp'>;
/** Where the record was read: named by JSON defaults and by errors. */
export type RecordSource = Pick<RecordContext, 'topic' | 'partition' | 'offset'>;

/**
 * Turns a consumed record into a SignupEvent or the typed failure it is dead-lettered with.
 * Never throws: whatever the bytes, the caller gets something to route. The processor's
 * form of `decodeSignup`: the record and its coordinates as they are, no object per record.
 */
export function decodeRecord(
  rec: ConsumedRecord,
  src: RecordSource,
  options: DecodeOptions,
): SignupEvent | ProcessorError {
  const { value, headers } = rec;
  // Marks set by the batch decoder (src/kafka/batch-decoder.ts) before the value means anything.
  const batch = undecodableBatch(headers);
  if (batch) {
    return new ProcessorError(
      'UNDECODABLE_BATCH',
      `record batch of ${src.topic}[${src.partition}] at offsets ${batch.firstOffset}-${batch.lastOffset} (${batch.codec}, ${batch.batchBytes} bytes) could not be decoded: ${batch.reason}`,
    );
  }
  const overflow = headerOverflow(headers);
  if (overflow) {
    return new ProcessorError(
      'TOO_MANY_HEADERS',
      `record has ${overflow.count} headers in ${overflow.bytes} bytes (first: ${overflow.names.join(', ')}); headers were not kept`,
    );
  }
  const forged = options.retryHeaders?.(src.topic, headers);
  if (forged) return new ProcessorError('RETRY_HEADERS_INVALID', `retry record headers are invalid: ${forged}`);
  const maxKeyBytes = options.maxKeyBytes ?? MAX_KEY_BYTES;
  if (rec.key && rec.key.length > maxKeyBytes) {
    return new ProcessorError('KEY_TOO_LONG', `record key is ${rec.key.length} bytes, over ${maxKeyBytes}`);
  }
  if (value === null || value.length === 0) {
    return new ProcessorError('NULL_VALUE', 'record value is null or empty (tombstone)');
  }
  if (value.length > options.maxMessageBytes) {
    return new ProcessorError(
      'OVERSIZED',
      `record value is ${value.length} bytes, over the ${options.maxMessageBytes} allowed`,
    );
  }
  // With a registry, a leading 0 is the wire format's magic byte (a raw Avro SignupEvent
  // would need an empty eventId to start with it); JSON never starts with it.
  const framed = options.registry?.decodeFramed(value);
  const maxIdBytes = options.maxIdBytes ?? MAX_ID_BYTES;
  if (framed) return framed.ok ? checked(framed.value, maxIdBytes) : framed.error;
  const format = formatOf(value, headers, options.format);
  if (format instanceof ProcessorError) return format;
  return format === 'json' ? decodeJson(value, rec, src, maxIdBytes) : decodeAvro(value, maxIdBytes);
}

/**
 * Turns a record value into a SignupEvent or a typed failure. Never throws: whatever the
 * bytes, the caller gets something to route.
 */
export function decodeSignup(
  value: Buffer | null,
  headers: IHeaders | undefined,
  rec: RecordContext,
  options: DecodeOptions,
): Result<SignupEvent> {
  const decoded = decodeRecord({ key: rec.key, value, headers, timestamp: rec.timestamp }, rec, options);
  return decoded instanceof ProcessorError ? fail(decoded) : ok(decoded);
}
