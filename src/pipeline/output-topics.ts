/**
 * What the publisher must know of the topics it writes to before the first record: their
 * partition counts (it partitions records itself, as the Java client does) and their
 * max.message.bytes (a record over it is replaced by a capped dead letter, see
 * MessageSizeGuard). Read once at start.
 */
import type { Kafka } from 'kafkajs';
import { topicMessageLimits } from '../kafka/message-limits.js';
import type { Logger } from '../telemetry/logger.js';

export interface OutputTopicsAware {
  setPartitionCounts(counts: ReadonlyMap<string, number>): void;
  setMessageLimits(limits: ReadonlyMap<string, number>): void;
}

export async function learnOutputTopics(
  kafka: Kafka,
  publisher: OutputTopicsAware,
  topics: readonly string[],
  log: Logger,
): Promise<void> {
  publisher.setPartitionCounts(await partitionCounts(kafka, topics));
  publisher.setMessageLimits(
    await topicMessageLimits(kafka, topics, (err) =>
      log.warn({ err: err.message }, 'max.message.bytes of the output topics unknown; assuming the broker default'),
    ),
  );
}

async function partitionCounts(kafka: Kafka, topics: readonly string[]): Promise<Map<string, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { topics: meta } = await admin.fetchTopicMetadata({ topics: [...topics] });
    return new Map(meta.map((m) => [m.name, m.partitions.length]));
  } finally {
    await admin.disconnect();
  }
}
