import { readFileSync } from 'node:fs';
import avro from 'avsc';
import { Partitioners } from 'kafkajs';
import pino from 'pino';
import { type Config, loadConfig } from '../../src/config.js';
import { createKafka } from '../../src/kafka/client.js';
import { allTopics } from '../../src/kafka/topics.js';
import { Processor, type ProcessorObserver } from '../../src/pipeline/processor.js';
import type { Validator } from '../../src/validation/types.js';
import { createValidator } from '../../src/validation/validator.js';
import { createTopics, deleteTopics, testBrokers, testKafka, uniqueName } from './kafka.js';

/** The result schema as downstream consumers read it: straight from schemas/, not via src/. */
export const resultType = avro.Type.forSchema(
  JSON.parse(readFileSync(new URL('../../schemas/ValidationResult.avsc', import.meta.url), 'utf8')) as avro.Schema,
);

export interface TestPipeline {
  config: Config;
  processor: Processor;
  topics: { input: string; valid: string; invalid: string; deadLetter: string };
  stop(): Promise<void>;
}

/** Makes unique topics and a group, and starts a processor in this process against the real broker. */
export async function startTestPipeline(
  options: {
    env?: Record<string, string>;
    validator?: Validator;
    observer?: ProcessorObserver;
    partitions?: number;
  } = {},
): Promise<TestPipeline> {
  const base = uniqueName('signups');
  const topics = { input: base, valid: `${base}.valid`, invalid: `${base}.invalid`, deadLetter: `${base}.dlq` };
  const config = loadConfig({
    KAFKA_BROKERS: testBrokers().join(','),
    KAFKA_GROUP_ID: uniqueName('group'),
    INPUT_TOPIC: topics.input,
    VALID_TOPIC: topics.valid,
    INVALID_TOPIC: topics.invalid,
    DLQ_TOPIC: topics.deadLetter,
    COMMIT_INTERVAL_MS: '200',
    // Pipeline tests judge with the local checks; DNS has its own tests against a real local server.
    CHECK_DNS: 'false',
    // Unknown verdicts dead-letter at once unless a test asks for retry topics.
    RETRY_DELAYS: '',
    ...options.env,
  });
  const created = allTopics(config.topics, config.pipeline.retryDelays);
  await createTopics(created, options.partitions ?? 3);
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const processor = new Processor(config, {
    kafka: createKafka(config.kafka, logger),
    validator: options.validator ?? createValidator(config.validation),
    logger,
    ...(options.observer ? { observer: options.observer } : {}),
  });
  await processor.start();
  return {
    config,
    processor,
    topics,
    async stop() {
      await processor.stop();
      await deleteTopics(created);
    },
  };
}

export async function produceRaw(
  topic: string,
  messages: { key?: string | null; value: Buffer | string | null; headers?: Record<string, string> }[],
): Promise<void> {
  const producer = testKafka().producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  await producer.send({ topic, acks: -1, messages });
  await producer.disconnect();
}
