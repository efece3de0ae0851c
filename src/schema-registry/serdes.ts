import type { Config } from '../config.js';
import {
  loadSchema,
  type SignupEvent,
  signupEventType,
  type ValidationResult,
  validationResultType,
} from '../contract/schemas.js';
import type { Result } from '../errors.js';
import { peekValue } from '../kafka/record-reader.js';
import { SchemaRegistryClient } from './client.js';
import { AvroRegistryCodec } from './codec.js';
import { valueSubject } from './wire-format.js';

/**
 * What the processor needs of the registry when SCHEMA_REGISTRY_URL is set: sign-ups read
 * from wire format, results written in it. Wiring (in the processor):
 *   start:      await serdes.start([topics.valid, topics.invalid])
 *   each batch: await serdes.prefetch(batch.messages)          (before decoding)
 *   decode:     decodeOptions.registry = serdes                (src/pipeline/decode.ts)
 *   results:    resultRecord(…, topic, serdes.encodeResult)    (src/pipeline/records.ts)
 */
export class RegistrySerdes {
  readonly signups: AvroRegistryCodec<SignupEvent>;
  readonly results: AvroRegistryCodec<ValidationResult>;

  constructor(
    readonly client: SchemaRegistryClient,
    /** The input topic: only ids registered under its `<topic>-value` subject are read. */
    inputTopic?: string,
  ) {
    this.signups = new AvroRegistryCodec(
      client,
      signupEventType,
      loadSchema('SignupEvent') as object,
      inputTopic ? { subject: valueSubject(inputTopic) } : {},
    );
    this.results = new AvroRegistryCodec(client, validationResultType, loadSchema('ValidationResult') as object);
  }

  static fromConfig(
    config: Pick<Config, 'schemaRegistry'> & Partial<Pick<Config, 'topics'>>,
  ): RegistrySerdes | undefined {
    const o = config.schemaRegistry;
    if (!o.url) return undefined;
    return new RegistrySerdes(
      new SchemaRegistryClient({ url: o.url, username: o.username, password: o.password, timeoutMs: o.timeoutMs }),
      config.topics?.input,
    );
  }

  /** Registers the result schema under each result topic's subject, so encoding never waits. */
  async start(resultTopics: readonly string[]): Promise<void> {
    await Promise.all(resultTopics.map((t) => this.results.register(t)));
  }

  prefetch(messages: Iterable<{ value: Buffer | null }>): Promise<void> {
    // A peek: the fetched records of the batch wait for the window without their values read.
    return this.signups.prefetch(Array.from(messages, peekValue));
  }

  /** For decode.ts: a sign-up from a framed value, or undefined when the value is not framed. */
  decodeFramed = (value: Buffer): Result<SignupEvent> | undefined => this.signups.decode(value);

  /** For route.ts: a result in wire format for its topic. */
  encodeResult = (topic: string, result: ValidationResult): Buffer => this.results.encode(topic, result);
}
