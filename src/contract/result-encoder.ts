/**
 * The Avro binary of a ValidationResult, written by hand for the schema of
 * schemas/ValidationResult.avsc, byte for byte what avsc writes for it
 * (test/contract/result-encoder.test.ts compares them over generated results).
 *
 * Why by hand: every result is encoded once on the processor's hot path, and avsc's generic
 * writer measured ~11 % of the processor's CPU time in the benchmark: each string is sized
 * by `Buffer.byteLength` (a call into C++) before it is written, and each long goes through
 * floating-point division when it is past 2^30 (the two timestamps of every result). Here an
 * ASCII string (nearly every field) is written in one pass, its length known from the
 * JavaScript string, and only a non-ASCII one is sized by Node.
 *
 * The writer is only used while the schema's parsing canonical form is the one it was written
 * for (RESULT_SCHEMA_FINGERPRINT); otherwise `encodeValidationResult` keeps to avsc.
 *
 * Results are written one after another into a shared slab, each returned as a view of its
 * own bytes; a view covers only bytes written for it, and a slab lives while a result in it does.
 */
import type { Verdict } from '../validation/types.js';
import { PROCESSOR_VERSION } from '../version.js';
import type { CheckOutcomeRecord, SignupEvent, ValidationResult } from './record-types.js';
import { CHECK_STATUSES, VERDICTS } from './verdicts.js';

/** SHA-256 of the parsing canonical form of the ValidationResult schema this writer follows. */
export const RESULT_SCHEMA_FINGERPRINT = 'ace8dff6a01b5cfef7a050077b24c0a41ec5ec4a6c91e87b85a460e8cb0a3d7b';

const SLAB_BYTES = 64 * 1024;
let buf = Buffer.allocUnsafe(SLAB_BYTES);
/** Where the result being written starts, and the next byte to write. */
let start = 0;
let pos = 0;

const VERDICT_INDEX = new Map<unknown, number>(VERDICTS.map((v, i) => [v, i]));
const STATUS_INDEX = new Map<unknown, number>(CHECK_STATUSES.map((s, i) => [s, i]));

function invalid(field: string, value: unknown, type: string): never {
  const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : String(value);
  throw new TypeError(`invalid ValidationResult: ${field} is ${shown}, not ${type}`);
}

/** Room for `n` more bytes: a result that does not fit moves (what it has so far) to a new slab. */
function room(n: number): void {
  if (pos + n <= buf.length) return;
  const used = pos - start;
  const next = Buffer.allocUnsafe(Math.max(SLAB_BYTES, 2 * (used + n)));
  buf.copy(next, 0, start, pos);
  buf = next;
  start = 0;
  pos = used;
}

/** Avro's zig-zag varint of an integer already checked (as avsc writes it, below 2^30 in int arithmetic). */
function writeLong(n: number): void {
  if (n >= -0x40000000 && n < 0x40000000) {
    let m = n >= 0 ? n << 1 : (~n << 1) | 1;
    while (m > 0x7f) {
      buf[pos++] = (m & 0x7f) | 0x80;
      m >>>= 7;
    }
    buf[pos++] = m;
    return;
  }
  // Exact: below 2^54 (2 × a checked long), and no `%` (a call to fmod on a double).
  let f = n >= 0 ? n * 2 : -n * 2 - 1;
  while (f >= 0x80) {
    const q = Math.floor(f / 128);
    buf[pos++] = (f - q * 128) | 0x80;
    f = q;
  }
  buf[pos++] = f;
}

/** avsc's long: a number without fraction within ±(2^53 - 2) (NaN fails both tests). */
function long(field: string, v: unknown): void {
  if (typeof v !== 'number' || !(v >= -9007199254740990 && v <= 9007199254740990) || Math.floor(v) !== v)
    invalid(field, v, 'a long');
  room(10);
  writeLong(v);
}

function int(field: string, v: unknown): void {
  if (v !== ((v as number) | 0)) invalid(field, v, 'an int');
  room(5);
  writeLong(v as number);
}

function string(field: string, s: unknown): void {
  if (typeof s !== 'string') invalid(field, s, 'a string');
  const n = s.length;
  // A UTF-16 unit takes at most 3 UTF-8 bytes, a length at most 5.
  room(3 * n + 5);
  if (n < 64) {
    // ASCII: as many bytes as units, so the length (one byte below 64) is known first.
    let p = pos + 1;
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      buf[p++] = c;
    }
    if (i === n) {
      buf[pos] = n << 1;
      pos = p;
      return;
    }
  }
  const len = Buffer.byteLength(s, 'utf8');
  writeLong(len);
  pos += buf.write(s, pos, len, 'utf8');
}

/** A ["null", "string"] union with default null: an absent value is the default. */
function optionalString(field: string, s: unknown): void {
  room(1);
  if (s === null || s === undefined) {
    buf[pos++] = 0;
    return;
  }
  buf[pos++] = 2;
  string(field, s);
}

function symbol(field: string, index: Map<unknown, number>, v: unknown): void {
  const i = index.get(v);
  if (i === undefined) invalid(field, v, `one of ${[...index.keys()].join(', ')}`);
  room(1);
  buf[pos++] = i << 1;
}

/** An array block: its count (when not empty), then the items, then a zero count. */
function arrayStart(field: string, items: unknown): number {
  if (!Array.isArray(items)) invalid(field, items, 'an array');
  room(6);
  if (items.length > 0) writeLong(items.length);
  return items.length;
}

function arrayEnd(): void {
  room(1);
  buf[pos++] = 0;
}

/** eventId, userId, email: the same names in a SignupEvent and a ValidationResult. */
function writeIds(ids: Pick<ValidationResult, 'eventId' | 'userId' | 'email'>): void {
  string('eventId', ids.eventId);
  string('userId', ids.userId);
  string('email', ids.email);
}

/** verdict, reason, flags, suggestion: the same names in a Verdict and a ValidationResult. */
function writeJudgement(j: Pick<ValidationResult, 'verdict' | 'reason' | 'flags' | 'suggestion'>): void {
  symbol('verdict', VERDICT_INDEX, j.verdict);
  optionalString('reason', j.reason);
  const flags = j.flags ?? [];
  const nFlags = arrayStart('flags', flags);
  for (let i = 0; i < nFlags; i++) string('flags[]', flags[i]);
  arrayEnd();
  optionalString('suggestion', j.suggestion);
}

function writeCheck(c: Omit<CheckOutcomeRecord, 'durationMicros'>, durationMicros: number): void {
  string('checks[].name', c.name);
  symbol('checks[].status', STATUS_INDEX, c.status);
  optionalString('checks[].reason', c.reason);
  optionalString('checks[].detail', c.detail);
  long('checks[].durationMicros', durationMicros);
}

function writeSource(topic: unknown, partition: unknown, offset: unknown): void {
  string('sourceRecord.topic', topic);
  int('sourceRecord.partition', partition);
  long('sourceRecord.offset', offset);
}

function writeResult(r: ValidationResult): void {
  writeIds(r);
  string('normalizedEmail', r.normalizedEmail);
  writeJudgement(r);
  const checks = r.checks ?? [];
  const nChecks = arrayStart('checks', checks);
  for (let i = 0; i < nChecks; i++) {
    const c = checks[i]!;
    writeCheck(c, c.durationMicros);
  }
  arrayEnd();
  const src = r.sourceRecord;
  writeSource(src.topic, src.partition, src.offset);
  long('occurredAt', r.occurredAt);
  long('validatedAt', r.validatedAt);
  long('durationMicros', r.durationMicros);
  string('processorVersion', r.processorVersion);
  optionalString('canonicalEmail', r.canonicalEmail);
}

/** Where a result's event was read, with the offset as Kafka hands it. */
export interface ResultSource {
  topic: string;
  partition: number;
  offset: string;
}

/**
 * The fields of the ValidationResult that `validationResultOf` (src/pipeline/records.ts) makes
 * of an event and its verdict, read where they are: no result object, no array of check
 * records, no sourceRecord object per result.
 */
function writeVerdict(
  event: SignupEvent,
  verdict: Verdict,
  src: ResultSource,
  validatedAt: number,
  durationMicros: number,
): void {
  writeIds(event);
  string('normalizedEmail', verdict.normalized);
  writeJudgement(verdict);
  const checks = verdict.checks;
  const nChecks = arrayStart('checks', checks);
  for (let i = 0; i < nChecks; i++) {
    const c = checks[i]!;
    writeCheck(c, Math.round(c.durationMs * 1000));
  }
  arrayEnd();
  writeSource(src.topic, src.partition, Number(src.offset));
  long('occurredAt', event.occurredAt);
  long('validatedAt', validatedAt);
  long('durationMicros', durationMicros);
  string('processorVersion', PROCESSOR_VERSION);
  optionalString('canonicalEmail', verdict.canonical ?? null);
}

/** Starts a result in the slab (a new slab when this one is nearly full). */
function begin(): void {
  if (buf.length - pos < 512) {
    buf = Buffer.allocUnsafe(SLAB_BYTES);
    pos = 0;
  }
  start = pos;
}

/** The view of the result just written. */
function finish(): Buffer {
  const out = buf.subarray(start, pos);
  start = pos;
  return out;
}

/** The result's Avro binary, a view of its own bytes in the shared slab. Throws a TypeError on a value the schema refuses. */
export function writeValidationResult(result: ValidationResult): Buffer {
  begin();
  try {
    writeResult(result);
  } catch (err) {
    // What was written of a refused result is overwritten by the next one.
    pos = start;
    throw err;
  }
  return finish();
}

/**
 * The bytes `writeValidationResult(validationResultOf(event, verdict, src, validatedAt, durationMicros))`
 * writes
 * (test/pipeline/records.test.ts compares them), without the result object in between: the
 * processor's path for every judged record. Throws a TypeError on a value the schema refuses.
 */
export function writeVerdictResult(
  event: SignupEvent,
  verdict: Verdict,
  src: ResultSource,
  validatedAt: number,
  durationMicros: number,
): Buffer {
  begin();
  try {
    writeVerdict(event, verdict, src, validatedAt, durationMicros);
  } catch (err) {
    pos = start;
    throw err;
  }
  return finish();
}
