import type { Config } from '../config.js';
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
    const created = await ensureTopics(admin, config.topics, opts, config.pipeline.retryDelays);
    const all = allTopics(config.topics, config.pipeline.retryDelays);
    for (const t of all) process.stdout.write(`${created.includes(t) ? 'created' : 'exists '} ${t}\n`);
  } finally {
    await admin.disconnect();
  }
}
