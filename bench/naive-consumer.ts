/**
 * The "naive" contender: the consumer a team writes by hand with KafkaJS. One message at a
 * time per partition (eachMessage), validate it with the same validator and checks as ours,
 * `send` its result and wait for the acknowledgement before the next message; KafkaJS
 * auto-commits. Same decoder and same result records as ours, so only the processing model
 * differs. Run as a child process by the benchmark (configuration from the environment).
 */
import { Partitioners } from 'kafkajs';
import { loadConfig } from '../src/config.js';
import { ProcessorError } from '../src/errors.js';
import { createKafka } from '../src/kafka/client.js';
import { decodeSignup } from '../src/pipeline/decode.js';
import { deadLetterRecord, destinationOf, resultRecord } from '../src/pipeline/route.js';
import { createLogger } from '../src/telemetry/logger.js';
import { createValidator } from '../src/validation/validator.js';

const config = loadConfig(process.env);
const logger = createLogger(config.telemetry);
const kafka = createKafka(config.kafka, logger);
const validator = createValidator(config.validation);
const consumer = kafka.consumer({ groupId: config.kafka.groupId });
const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
const decodeOptions = { format: config.pipeline.inputFormat, maxMessageBytes: config.pipeline.maxMessageBytes };

await producer.connect();
await consumer.connect();
await consumer.subscribe({ topics: [config.topics.input], fromBeginning: true });
await consumer.run({
  eachMessage: async ({ topic, partition, message }) => {
    const src = { topic, partition, offset: message.offset };
    const decoded = decodeSignup(
      message.value,
      message.headers,
      { ...src, key: message.key, timestamp: message.timestamp },
      decodeOptions,
    );
    let record: ReturnType<typeof resultRecord>;
    if (!decoded.ok) {
      record = deadLetterRecord(message, src, decoded.error, config.topics.deadLetter);
    } else {
      const started = performance.now();
      const verdict = await validator.validate(decoded.value.email, { signal: AbortSignal.timeout(10_000) });
      const dest = destinationOf(verdict, config.pipeline.riskyRoute);
      record =
        dest === 'deadLetter'
          ? deadLetterRecord(
              message,
              src,
              new ProcessorError('VALIDATION_UNKNOWN', `no verdict: ${verdict.reason ?? 'unknown'}`),
              config.topics.deadLetter,
            )
          : resultRecord(
              decoded.value,
              verdict,
              src,
              message.key,
              Math.round((performance.now() - started) * 1000),
              config.topics[dest],
            );
    }
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
