import {
  loadSchema,
  type SignupEvent,
  signupEventType,
  type ValidationResult,
  validationResultType,
} from '../contract/schemas.js';
import type { ValidationResult as ResultContract } from '../contract/verdicts.js';
import { SchemaRegistryClient, type SchemaRegistryClientOptions } from '../schema-registry/client.js';
import { AvroRegistryCodec } from '../schema-registry/codec.js';

/**
 * For producers on a Schema Registry: `publishSignup(producer, topic, event, { registry })`
 * registers our SignupEvent schema under `<topic>-value` once and writes wire format.
 */
export function signupRegistryCodec(options: SchemaRegistryClientOptions): AvroRegistryCodec<SignupEvent> {
  return new AvroRegistryCodec(new SchemaRegistryClient(options), signupEventType, loadSchema('SignupEvent') as object);
}

/**
 * For consumers of the result topics when the processor runs with SCHEMA_REGISTRY_URL:
 * `await codec.decodeAsync(message.value)` resolves the writer schema by its id against the
 * ValidationResult schema this package ships.
 */
export function resultRegistryCodec(options: SchemaRegistryClientOptions): AvroRegistryCodec<ResultContract> {
  // The processor writes verdict, reason and flags from the contract's lists.
  return new AvroRegistryCodec<ValidationResult>(
    new SchemaRegistryClient(options),
    validationResultType,
    loadSchema('ValidationResult') as object,
  ) as unknown as AvroRegistryCodec<ResultContract>;
}
