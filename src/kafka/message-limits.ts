import type { Kafka } from 'kafkajs';

/** KafkaJS's `ConfigResourceTypes.TOPIC` (an enum ESM cannot import from its CommonJS). */
const TOPIC_RESOURCE = 2;

/** The broker's default `max.message.bytes` (`message.max.bytes`): what a topic allows unless set. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;

/**
 * Each topic's `max.message.bytes`: the largest record batch the broker accepts for it. The
 * publisher keeps every request's batch for a partition under it, and replaces a single
 * record that could never fit (see `cappedDeadLetter`).
 */
export async function topicMessageLimits(
  kafka: Kafka,
  topics: readonly string[],
  /** Told when the limits cannot be read (e.g. no DescribeConfigs ACL): the broker default is assumed. */
  onUnknown?: (err: Error) => void,
): Promise<Map<string, number>> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [...new Set(topics)].map((name) => ({
        type: TOPIC_RESOURCE,
        name,
        configNames: ['max.message.bytes'],
      })),
    });
    const out = new Map<string, number>();
    for (const r of resources) {
      const v = Number(r.configEntries.find((e) => e.configName === 'max.message.bytes')?.configValue);
      out.set(r.resourceName, Number.isFinite(v) && v > 0 ? v : DEFAULT_MAX_MESSAGE_BYTES);
    }
    return out;
  } catch (err) {
    onUnknown?.(err as Error);
    return new Map();
  } finally {
    await admin.disconnect().catch(() => {});
  }
}
