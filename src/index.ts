/**
 * The package's public API (package.json `exports` → dist/index.js): typed helpers for the
 * services that publish sign-up events and for the ones that consume the results. The
 * processor itself runs as the `email-flow-validator` command, not as a library.
 */

export { RESULT_CONTENT_TYPE, SIGNUP_CONTENT_TYPE } from './contract/content-types.js';
export { DLQ_HEADERS, RESULT_HEADERS } from './contract/headers.js';
export type {
  CheckOutcomeRecord,
  SignupEvent,
  ValidationResult,
} from './contract/schemas.js';
export {
  encodeSignupEvent,
  injectTraceContext,
  type PublishSignupOptions,
  publishSignup,
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
