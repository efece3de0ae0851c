import type { Admin } from 'kafkajs';
import type { TopicOptions } from '../config.js';

export interface TopicPlan {
  partitions: number;
  replicationFactor: number;
}

export function allTopics(t: TopicOptions): string[] {
  return [t.input, t.valid, t.invalid, t.deadLetter];
}

/** Creates whichever of the project's topics are missing; returns the names it created. */
export async function ensureTopics(admin: Admin, topics: TopicOptions, plan: TopicPlan): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = allTopics(topics).filter((t) => !existing.has(t));
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
export async function missingTopics(admin: Admin, topics: TopicOptions): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  return allTopics(topics).filter((t) => !existing.has(t));
}
