/**
 * The "naive" contender: the consumer a team writes by hand with KafkaJS. One message at a
 * time per partition (eachMessage), validate it with the same validator and checks as ours,
 * `send` its result and wait for the acknowledgement before the next message; KafkaJS
 * auto-commits. Same decoder and same result records as ours, so only the processing model
 * differs. Run as a child process by the benchmark (configuration from the environment).
 */
import { Partitioners } from 'kafkajs';
import { loadConfig } from '../src/config.js';
import { createKafka } from '../src/kafka/client.js';
import { decodeSignup } from '../src/pipeline/decode.js';
import { type Outcome, type RoutingPolicy, route } from '../src/pipeline/routing.js';
import { createLogger } from '../src/telemetry/logger.js';
import { createValidator } from '../src/validation/validator.js';

const config = loadConfig(process.env);
const logger = createLogger(config.telemetry);
const kafka = createKafka(config.kafka, logger);
const validator = createValidator(config.validation);
const consumer = kafka.consumer({ groupId: config.kafka.groupId });
const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
const policy: RoutingPolicy = {
  topics: config.topics,
  riskyRoute: config.pipeline.riskyRoute,
  retryTopics: [],
  retryDelaysMs: [],
};
const decodeOptions = { format: config.pipeline.inputFormat, maxMessageBytes: config.pipeline.maxMessageBytes };

await producer.connect();
await consumer.connect();
await consumer.subscribe({ topics: [config.topics.input], fromBeginning: true });
await consumer.run({
  eachMessage: async ({ topic, partition, message }) => {
    const origin = { topic, partition, offset: message.offset };
    const decoded = decodeSignup(
      message.value,
      message.headers,
      { ...origin, key: message.key, timestamp: message.timestamp },
      decodeOptions,
    );
    let outcome: Outcome;
    if (!decoded.ok) {
      outcome = { error: decoded.error };
    } else {
      const started = performance.now();
      const verdict = await validator.validate(decoded.value.email, { signal: AbortSignal.timeout(10_000) });
      outcome = { verdict, durationMicros: Math.round((performance.now() - started) * 1000) };
    }
    // The same policy as ours, without retry topics: an unknown verdict is dead-lettered.
    const { record } = route(
      policy,
      { message, origin, retry: null, event: decoded.ok ? decoded.value : null },
      outcome,
    );
    await producer.send({ topic: record.topic, acks: -1, messages: [record] });
  },
});

const stop = async () => {
  await consumer.disconnect().catch(() => {});
  await producer.disconnect().catch(() => {});
  await validator.close?.().catch(() => {});
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
