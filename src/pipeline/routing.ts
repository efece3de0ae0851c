/**
 * The routing policy as one pure function: what a record's outcome becomes, and where it
 * goes. The caller publishes the record; the benchmark's hand-written consumer reuses this
 * instead of copying the policy.
 */
import type { KafkaMessage } from 'kafkajs';
import type { SignupEvent, ValidationResult } from '../contract/schemas.js';
import { type ErrorCode, ProcessorError } from '../errors.js';
import type { TopicOptions } from '../kafka/options.js';
import type { Verdict } from '../validation/types.js';
import {
  deadLetterRecord,
  type OutgoingRecord,
  type RetryState,
  resultRecord,
  retryRecord,
  type SourceCoordinates,
} from './records.js';

export type Destination = 'valid' | 'invalid' | 'deadLetter' | 'retry';

/** Where a verdict goes (ARCHITECTURE.md, "Verdicts"): unknown is never judged valid or invalid. */
export function destinationOf(verdict: Verdict, riskyRoute: 'valid' | 'invalid'): Exclude<Destination, 'retry'> {
  switch (verdict.verdict) {
    case 'deliverable':
      return 'valid';
    case 'risky':
      return riskyRoute;
    case 'undeliverable':
      return 'invalid';
    default:
      return 'deadLetter';
  }
}

export interface RoutingPolicy {
  topics: TopicOptions;
  riskyRoute: 'valid' | 'invalid';
  /** Retry topic of each delay tier, in order; empty when retries are off. */
  retryTopics: readonly string[];
  retryDelaysMs: readonly number[];
  /** Raw Avro by default; the schema registry's wire format when SCHEMA_REGISTRY_URL is set. */
  encodeResult?: ((topic: string, result: ValidationResult) => Buffer) | undefined;
}

/** The record being routed: what it was, where it came from, how often it was tried. */
export interface RoutedInput {
  readonly message: KafkaMessage;
  /** Where this record itself was read (a retry topic's record, or the input's). */
  readonly source?: SourceCoordinates;
  /** The original input record, reported in results and dead letters (also after retries). */
  readonly origin: SourceCoordinates;
  readonly retry: RetryState | null;
  /** The decoded event; null when the record did not decode. */
  readonly event: SignupEvent | null;
}

/**
 * What became of a record: a verdict (with the time it took), or a failure (it did not
 * decode, the validator threw).
 */
export type Outcome = { verdict: Verdict; durationMicros: number } | { error: ProcessorError };

export interface Routed {
  destination: Destination;
  record: OutgoingRecord;
  /** The dead-letter code; null for results and retries. */
  code: ErrorCode | null;
}

export function route(policy: RoutingPolicy, input: RoutedInput, outcome: Outcome): Routed {
  if ('error' in outcome) return routeFailure(policy, input, outcome.error);
  return routeVerdict(policy, input, outcome.verdict, outcome.durationMicros);
}

/** A record that did not decode, or whose validator threw: the dead-letter topic, with the error's code. */
export function routeFailure(policy: RoutingPolicy, input: RoutedInput, error: ProcessorError): Routed {
  const { message, origin, retry } = input;
  // Forged retry headers name no origin worth trusting: the dead letter names the record itself.
  const at = error.code === 'RETRY_HEADERS_INVALID' ? (input.source ?? origin) : origin;
  return {
    destination: 'deadLetter',
    record: deadLetterRecord(message, at, error, policy.topics.deadLetter, { retry }),
    code: error.code,
  };
}

/** `route` of a verdict, without the outcome object: the processor's path for every judged record. */
export function routeVerdict(
  policy: RoutingPolicy,
  input: RoutedInput,
  verdict: Verdict,
  durationMicros: number,
): Routed {
  const { message, origin, retry } = input;
  if (input.event === null)
    return routeFailure(policy, input, new ProcessorError('VALIDATION_ERROR', 'a verdict without its event'));
  const judged = destinationOf(verdict, policy.riskyRoute);
  if (judged !== 'deadLetter') {
    const topic = policy.topics[judged];
    let record: OutgoingRecord;
    try {
      record = resultRecord(input.event, verdict, origin, message.key, durationMicros, topic, policy.encodeResult);
    } catch (err) {
      // A result that cannot be encoded is this record's problem, not a reason to stop.
      const error = new ProcessorError('VALIDATION_ERROR', `result could not be encoded: ${(err as Error).message}`, {
        cause: err,
      });
      return routeFailure(policy, input, error);
    }
    return { destination: judged, record, code: null };
  }
  // Every unknown reason is transient (timeouts, unavailable dependencies): try again later
  // from a retry topic, so the input partition never waits for a dependency.
  const attempt = (retry?.attempts ?? 0) + 1;
  const reason = verdict.reason ?? 'unknown';
  if (attempt <= policy.retryTopics.length) {
    return {
      destination: 'retry',
      record: retryRecord(
        message,
        retry ?? { attempts: 0, firstFailureAt: null, history: '', origin },
        reason,
        policy.retryTopics[attempt - 1]!,
        policy.retryDelaysMs[attempt - 1]!,
      ),
      code: null,
    };
  }
  const why = attempt > 1 ? `no verdict after ${attempt} attempts: ${reason}` : `no verdict: ${reason}`;
  return {
    destination: 'deadLetter',
    record: deadLetterRecord(message, origin, new ProcessorError('VALIDATION_UNKNOWN', why), policy.topics.deadLetter, {
      retry,
      verdictReason: reason,
    }),
    code: 'VALIDATION_UNKNOWN',
  };
}
