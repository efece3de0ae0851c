import type { Context } from '@opentelemetry/api';
import type { IHeaders, KafkaMessage } from 'kafkajs';
import { RESULT_HEADERS } from '../contract/headers.js';
import { headerText } from '../contract/read-header.js';
import { decodeValidationResult as decodeAvroResult } from '../contract/schemas.js';
import type { ValidationResult } from '../contract/verdicts.js';
import { extractContext } from '../telemetry/propagation.js';

/**
 * A ValidationResult from the value of a record of the valid or invalid topic (Avro binary,
 * schemas/ValidationResult.avsc). Throws if the bytes are not one.
 */
export function decodeValidationResult(value: Buffer): ValidationResult {
  // The processor writes verdict and reason from the contract's lists (src/validation/verdict.ts).
  return decodeAvroResult(value) as ValidationResult;
}

/**
 * The trace context the processor put in a record's headers: start your consumer span with
 * it as parent and your work joins the trace that began at the sign-up's producer.
 */
export function traceContextOf(headers: IHeaders | undefined): Context {
  return extractContext(headers);
}

export interface ResultRecord {
  result: ValidationResult;
  /** The record key: the user id of the sign-up. */
  key: string | null;
  /** Parent context for your processing span. */
  traceContext: Context;
}

/** Everything a downstream consumer needs from one result record. */
export function readResultRecord(message: Pick<KafkaMessage, 'key' | 'value' | 'headers'>): ResultRecord {
  if (!message.value) throw new TypeError('result record has no value');
  return {
    result: decodeValidationResult(message.value),
    key: message.key ? message.key.toString() : null,
    traceContext: traceContextOf(message.headers),
  };
}

/** The verdict header, for filtering without decoding (e.g. skip `risky` cheaply). */
export function verdictOf(headers: IHeaders | undefined): ValidationResult['verdict'] | undefined {
  return headerText(headers, RESULT_HEADERS.verdict) as ValidationResult['verdict'] | undefined;
}
