import type { Admin } from 'kafkajs';
import type { TopicOptions } from '../config.js';
import type { Duration } from '../config-fields.js';

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
  await admin.createTopics({
    waitForLeaders: true,
    topics: missing.map((topic) => ({
      topic,
      numPartitions: plan.partitions,
      replicationFactor: plan.replicationFactor,
    })),
  });
  return missing;
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
