/**
 * The KafkaJS ceiling: copies the input topic to one output topic with the same client library
 * ours is built on — eachBatch, one sendBatch of the whole batch (acks=all, idempotent), resolve,
 * commit — and no decoding or validation. The gap between it and kcat is the client library's;
 * the gap between ours and it is ours. Run as a child process by the benchmark.
 */
import { Partitioners } from 'kafkajs';
import { loadConfig } from '../src/config.js';
import { createKafka } from '../src/kafka/client.js';
import { createLogger } from '../src/telemetry/logger.js';

const config = loadConfig(process.env);
const kafka = createKafka(config.kafka, createLogger(config.telemetry));
const consumer = kafka.consumer({ groupId: config.kafka.groupId, maxWaitTimeInMs: 100 });
const producer = kafka.producer({
  idempotent: true,
  maxInFlightRequests: 1,
  createPartitioner: Partitioners.DefaultPartitioner,
});

await producer.connect();
await consumer.connect();
await consumer.subscribe({ topics: [config.topics.input], fromBeginning: true });
await consumer.run({
  eachBatchAutoResolve: true,
  eachBatch: async ({ batch }) => {
    // A fetched batch may be as large as the broker's request limit allows; sent in slices
    // of the size ours publishes (PUBLISH_BATCH_SIZE) so that no request is too large.
    const size = config.pipeline.publishBatchSize;
    for (let i = 0; i < batch.messages.length; i += size) {
      const messages = batch.messages
        .slice(i, i + size)
        .map((m) => ({ key: m.key, value: m.value, headers: m.headers }));
      await producer.sendBatch({ acks: -1, topicMessages: [{ topic: config.topics.valid, messages }] });
    }
  },
});

const stop = async () => {
  await consumer.disconnect().catch(() => {});
  await producer.disconnect().catch(() => {});
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
