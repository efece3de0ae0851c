import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';
import type { SignupEvent, ValidationResult } from './record-types.js';
import { RESULT_SCHEMA_FINGERPRINT, writeValidationResult } from './result-encoder.js';
import { readSignupEvent, SIGNUP_SCHEMA_FINGERPRINT } from './signup-reader.js';

/** schemas/ sits beside src/ and dist/ (this file is in their contract/), so one relative path serves both. */
const schemaDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'schemas');

export function loadSchema(name: string): avro.Schema {
  return JSON.parse(readFileSync(join(schemaDir, `${name}.avsc`), 'utf8')) as avro.Schema;
}

export type { CheckOutcomeRecord, SignupEvent, ValidationResult } from './record-types.js';

// Timestamps stay plain longs (milliseconds) in JavaScript: avsc then needs no logical-type
// classes and the values compare and serialise cheaply.
export const signupEventType = avro.Type.forSchema(loadSchema('SignupEvent'));
export const validationResultType = avro.Type.forSchema(loadSchema('ValidationResult'));

/**
 * Avro binary of a SignupEvent, checked first: a wrong field throws a TypeError naming it
 * (avsc's own message would only say the whole value is invalid).
 */
export function encodeSignupEvent(event: SignupEvent): Buffer {
  const bad: string[] = [];
  signupEventType.isValid(event, { errorHook: (path) => bad.push(path.join('.') || '(event)') });
  if (bad.length > 0) throw new TypeError(`not a valid SignupEvent: bad field(s) ${bad.join(', ')}`);
  return signupEventType.toBuffer(event);
}

/** Whether input values are read by signup-reader.ts (the schema is the one it was written for), not avsc. */
export const HAND_WRITTEN_SIGNUP_READER =
  signupEventType.fingerprint('sha256').toString('hex') === SIGNUP_SCHEMA_FINGERPRINT;

/**
 * A SignupEvent from its Avro binary (raw, no registry framing): all of the value, or an Error
 * with avsc's message (truncated, trailing data, a bad union index, a long past 2^53).
 */
export const decodeSignupEvent: (value: Buffer) => SignupEvent = HAND_WRITTEN_SIGNUP_READER
  ? readSignupEvent
  : (value) => signupEventType.fromBuffer(value) as SignupEvent;

export function decodeValidationResult(value: Buffer): ValidationResult {
  return validationResultType.fromBuffer(value) as ValidationResult;
}

/**
 * Results are encoded one after another into a shared slab, each returned as a view of its
 * own bytes (avsc's toBuffer zero-fills a new buffer and copies into it, per record). A view
 * covers only bytes written for it; a slab lives while a result in it does.
 */
const SLAB_BYTES = 64 * 1024;
let slab = Buffer.allocUnsafe(SLAB_BYTES);
let slabUsed = 0;

function encodeWithAvsc(result: ValidationResult): Buffer {
  let start = slabUsed;
  let end = validationResultType.encode(result, slab, start);
  if (end < 0) {
    // It did not fit (encode returned minus the bytes missing): a new slab, large enough.
    const size = slab.length - start - end;
    slab = Buffer.allocUnsafe(Math.max(SLAB_BYTES, size));
    start = 0;
    end = validationResultType.encode(result, slab, 0);
  }
  slabUsed = end;
  return slab.subarray(start, end);
}

/** Whether results are written by result-encoder.ts (the schema is the one it was written for), not avsc. */
export const HAND_WRITTEN_RESULT_ENCODER =
  validationResultType.fingerprint('sha256').toString('hex') === RESULT_SCHEMA_FINGERPRINT;

/** A ValidationResult's Avro binary (raw, no registry framing); throws on a value the schema refuses. */
export const encodeValidationResult: (result: ValidationResult) => Buffer = HAND_WRITTEN_RESULT_ENCODER
  ? writeValidationResult
  : encodeWithAvsc;
