import type { Admin } from 'kafkajs';
import type { Duration } from '../config-fields.js';
import { ProcessorError } from '../errors.js';
import type { TopicOptions } from './options.js';

export interface TopicPlan {
  partitions: number;
  replicationFactor: number;
}

/** The retry topic of each delay tier: `<input>.retry.<delay>`. */
export function retryTopics(t: TopicOptions, delays: readonly Duration[]): string[] {
  return delays.map((d) => `${t.input}.retry.${d.label}`);
}

export function allTopics(t: TopicOptions, delays: readonly Duration[] = []): string[] {
  return [t.input, t.valid, t.invalid, t.deadLetter, ...retryTopics(t, delays)];
}

/** Creates whichever of the project's topics are missing; returns the names it created. */
export async function ensureTopics(
  admin: Admin,
  topics: TopicOptions,
  plan: TopicPlan,
  delays: readonly Duration[] = [],
): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = allTopics(topics, delays).filter((t) => !existing.has(t));
  if (missing.length === 0) return [];
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({
        topic,
        numPartitions: plan.partitions,
        replicationFactor: plan.replicationFactor,
      })),
    });
  } catch (err) {
    // KafkaJS's wait for leaders gives up on UNKNOWN_TOPIC_OR_PARTITION when a busy broker
    // is slow to publish a new topic's metadata; the topics exist, so wait for them here.
    if ((err as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION') throw err;
    await waitForLeaders(admin, missing, plan.partitions);
  }
  return missing;
}

/** Waits until every partition of `topics` has a leader (a new topic takes a moment). */
export async function waitForLeaders(
  admin: Admin,
  topics: string[],
  partitions: number,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { topics: meta } = await admin.fetchTopicMetadata({ topics });
      if (meta.every((t) => t.partitions.length === partitions && t.partitions.every((p) => p.leader >= 0))) return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline)
      throw new ProcessorError('KAFKA_FAILED', `topics ${topics.join(', ')} got no leaders within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Names the topics the processor needs that do not exist, so `run` can fail with a clear message. */
export async function missingTopics(
  admin: Admin,
  topics: TopicOptions,
  delays: readonly Duration[] = [],
): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  return allTopics(topics, delays).filter((t) => !existing.has(t));
}
