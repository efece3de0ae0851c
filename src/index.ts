/**
 * The package's public API (package.json `exports` → dist/index.js): typed helpers for the
 * services that publish sign-up events and for the ones that consume the results, the
 * validator itself for a verdict without Kafka, and the typed lists of the result
 * contract. The processor runs as the `email-flow-validator` command, not as a library.
 */

export {
  type AddressValidator,
  type CreateValidatorOptions,
  createValidator,
} from './address-validator.js';
export { RESULT_CONTENT_TYPE, SIGNUP_CONTENT_TYPE } from './contract/content-types.js';
export { DLQ_HEADERS, RESULT_HEADERS } from './contract/headers.js';
export type { SignupEvent } from './contract/schemas.js';
export {
  type AddressVerdict,
  CHECK_STATUSES,
  type CheckOutcomeRecord,
  type CheckStatus,
  DEAD_LETTER_CODES,
  type DeadLetterCode,
  FLAGS,
  type Flag,
  REASONS,
  type Reason,
  RISKY_REASONS,
  type RiskyReason,
  UNDELIVERABLE_REASONS,
  UNKNOWN_REASONS,
  type UndeliverableReason,
  type UnknownReason,
  type ValidationResult,
  VERDICTS,
  type VerdictKind,
  type VerdictReason,
} from './contract/verdicts.js';
export {
  encodeSignupEvent,
  injectTraceContext,
  type PublishSignupOptions,
  publishSignup,
  type SignupRecord,
  type SignupRecordOptions,
  signupRecord,
} from './integrate/publish-signup.js';
export {
  decodeValidationResult,
  type ResultRecord,
  readResultRecord,
  traceContextOf,
  verdictOf,
} from './integrate/read-result.js';
export { resultRegistryCodec, signupRegistryCodec } from './integrate/registry-codecs.js';
export {
  SchemaRegistryClient,
  type SchemaRegistryClientOptions,
  SchemaRegistryError,
} from './schema-registry/client.js';
export { AvroRegistryCodec } from './schema-registry/codec.js';
export { PROCESSOR_VERSION } from './version.js';
