import { randomBytes } from 'node:crypto';
import { type Admin, Kafka, type KafkaMessage, logLevel } from 'kafkajs';
import { inject } from 'vitest';

/** The broker list of the run's real Kafka (global setup or KAFKA_BROKERS). */
export function testBrokers(): string[] {
  return inject('kafkaBrokers').split(',');
}

/** A name no other test uses: every test makes its own topics and group. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

export function testKafka(clientId = uniqueName('test-client')): Kafka {
  return new Kafka({ clientId, brokers: testBrokers(), logLevel: logLevel.NOTHING });
}

export async function withAdmin<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Creates topics and waits until every partition has a leader. KafkaJS's own wait gives up
 * on UNKNOWN_TOPIC_OR_PARTITION, which a loaded broker answers for a moment after creation.
 */
export async function createTopics(names: string[], partitions = 1): Promise<void> {
  await withAdmin(async (admin) => {
    await admin.createTopics({
      waitForLeaders: false,
      topics: names.map((topic) => ({ topic, numPartitions: partitions })),
    });
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        const { topics } = await admin.fetchTopicMetadata({ topics: names });
        if (topics.every((t) => t.partitions.length === partitions && t.partitions.every((p) => p.leader >= 0))) return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
      }
      if (Date.now() > deadline) throw new Error(`topics ${names.join(', ')} got no leaders within 30 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  });
}

export async function deleteTopics(names: string[]): Promise<void> {
  await withAdmin((admin) => admin.deleteTopics({ topics: names })).catch(() => {});
}

export interface ConsumedRecord {
  topic: string;
  partition: number;
  message: KafkaMessage;
}

/**
 * Reads `topics` from the beginning until `count` records arrived or `timeoutMs` passed
 * (then it resolves with what it has, so the test's assertion names what is missing).
 */
export async function consumeRecords(
  topics: string[],
  count: number,
  timeoutMs = 30_000,
  options: { readCommitted?: boolean; until?: (records: ConsumedRecord[]) => boolean } = {},
): Promise<ConsumedRecord[]> {
  const consumer = testKafka().consumer({
    groupId: uniqueName('test-reader'),
    readUncommitted: !options.readCommitted,
  });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  const out: ConsumedRecord[] = [];
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    if (count === 0) {
      clearTimeout(timer);
      resolve();
      return;
    }
    void consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        out.push({ topic, partition, message });
        // At-least-once may deliver a result twice: `until` can wait for distinct ones.
        if (options.until ? options.until(out) : out.length >= count) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  return out;
}

/** Sum of end offsets of a topic: how many records it holds (no compaction in tests). */
export async function topicSize(topic: string): Promise<number> {
  return withAdmin(async (admin) => {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  });
}
