import type { Config } from '../config.js';
import { ProcessorError } from '../errors.js';
import { createKafka } from '../kafka/client.js';
import { allTopics, ensureTopics } from '../kafka/topics.js';
import type { Logger } from '../telemetry/logger.js';

export async function topicsCommand(
  config: Config,
  logger: Logger,
  opts: { partitions: number; replicationFactor: number },
) {
  const admin = createKafka(config.kafka, logger).admin();
  await admin.connect();
  try {
    let created: string[];
    try {
      created = await ensureTopics(admin, config.topics, opts, config.pipeline.retryDelays);
    } catch (err) {
      const reasons = brokerReasons(err);
      if (reasons.length === 0) throw err;
      // The message names each topic and the broker's reason.
      throw new ProcessorError(
        'TOPIC_CREATION_REFUSED',
        `the broker refused to create ${reasons.length === 1 ? 'a topic' : 'topics'} ` +
          `(--partitions ${opts.partitions}, --replication-factor ${opts.replicationFactor}):\n` +
          reasons.map((r) => `  ${r}`).join('\n'),
        { cause: err },
      );
    }
    const all = allTopics(config.topics, config.pipeline.retryDelays);
    for (const t of all) process.stdout.write(`${created.includes(t) ? 'created' : 'exists '} ${t}\n`);
  } finally {
    await admin.disconnect();
  }
}

interface KafkaJsError {
  type?: string;
  topic?: string;
  message?: string;
  errors?: unknown[];
  originalError?: unknown;
  cause?: unknown;
}

/**
 * "topic: TYPE (explanation)" for each per-topic error inside a KafkaJS error. KafkaJS
 * wraps them in one "Topic creation errors" aggregate whose message names none of them.
 */
export function brokerReasons(err: unknown): string[] {
  const out: string[] = [];
  const seen = new Set<unknown>();
  const walk = (e: unknown) => {
    if (!e || typeof e !== 'object' || seen.has(e)) return;
    seen.add(e);
    const k = e as KafkaJsError;
    if (k.topic && k.type) out.push(`${k.topic}: ${k.type}${k.message ? ` (${k.message})` : ''}`);
    for (const inner of k.errors ?? []) walk(inner);
    walk(k.originalError);
    walk(k.cause);
  };
  walk(err);
  return out;
}
