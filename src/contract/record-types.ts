/**
 * The records of the contract as TypeScript sees them (the Avro schemas are in schemas/):
 * apart from schemas.ts so that its hand-written reader and writer can name them too.
 */
/** The contract with producers: what the input topic carries. */
export interface SignupEvent {
  eventId: string;
  userId: string;
  email: string;
  /** Milliseconds since the Unix epoch. */
  occurredAt: number;
  source: string | null;
  locale: string | null;
}

export interface CheckOutcomeRecord {
  name: string;
  status: 'pass' | 'fail' | 'unknown' | 'skipped';
  reason: string | null;
  detail: string | null;
  durationMicros: number;
}

/** The contract with downstream consumers: what the valid and invalid topics carry. */
export interface ValidationResult {
  eventId: string;
  userId: string;
  email: string;
  normalizedEmail: string;
  verdict: 'deliverable' | 'undeliverable' | 'risky' | 'unknown';
  reason: string | null;
  flags: string[];
  suggestion: string | null;
  checks: CheckOutcomeRecord[];
  sourceRecord: { topic: string; partition: number; offset: number };
  occurredAt: number;
  validatedAt: number;
  durationMicros: number;
  processorVersion: string;
  /** Lower-case A-label domain; null if unparsable (optional: absent in results of older versions). */
  canonicalEmail?: string | null;
}
