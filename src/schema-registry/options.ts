import { int, optionalStr, redactUrlCredentials } from '../config-fields.js';

export const schemaRegistryFields = {
  url: optionalStr({
    env: 'SCHEMA_REGISTRY_URL',
    description:
      'Confluent-compatible Schema Registry base URL. Set: input in Confluent wire format (magic byte 0, schema id) is decoded with the writer schema resolved against ours, and results are written in wire format with our schema registered under <topic>-value.',
    example: 'http://schema-registry:8081',
    pattern: /^https?:\/\/\S+$/,
    redact: redactUrlCredentials,
  }),
  username: optionalStr({
    env: 'SCHEMA_REGISTRY_USERNAME',
    description: 'HTTP basic-auth user for the Schema Registry.',
    secret: true,
  }),
  password: optionalStr({
    env: 'SCHEMA_REGISTRY_PASSWORD',
    description: 'HTTP basic-auth password for the Schema Registry; never logged.',
    secret: true,
  }),
  timeoutMs: int({
    env: 'SCHEMA_REGISTRY_TIMEOUT_MS',
    description: 'Time allowed for one Schema Registry request.',
    default: 10_000,
    min: 100,
    max: 120_000,
  }),
};
