import { Partitioners } from 'kafkajs';
import type { Config } from '../config.js';
import { createKafka } from '../kafka/client.js';
import { CODECS } from '../kafka/compression.js';
import { publishSignups, readNdjson, type WireFormat } from '../produce/publish-signups.js';
import { syntheticSignups } from '../produce/synthetic.js';
import type { Logger } from '../telemetry/logger.js';
import { progressBar } from './progress.js';

export interface ProduceOptions {
  count: number;
  file?: string;
  format: WireFormat;
  seed: number;
  topic?: string;
  quiet?: boolean;
}

export async function produceCommand(config: Config, logger: Logger, opts: ProduceOptions): Promise<number> {
  const topic = opts.topic ?? config.topics.input;
  const producer = createKafka(config.kafka, logger).producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: { retries: Number.MAX_SAFE_INTEGER, maxRetryTime: 5000 },
  });
  await producer.connect();
  try {
    if (opts.file) {
      let n = 0;
      const sent = await publishSignups(producer, topic, readNdjson(opts.file), {
        format: opts.format,
        compression: CODECS[config.kafka.producerCompression],
        onProgress: (s) => {
          n = s;
          if (!opts.quiet) process.stderr.write(`\rpublished ${n}`);
        },
      });
      if (!opts.quiet) process.stderr.write('\n');
      return sent;
    }
    const bar = opts.quiet ? undefined : progressBar('produce', opts.count);
    const events = (function* () {
      for (const s of syntheticSignups(opts.count, opts.seed)) yield s.event;
    })();
    const sent = await publishSignups(producer, topic, events, {
      format: opts.format,
      compression: CODECS[config.kafka.producerCompression],
      onProgress: (s) => bar?.update(s),
    });
    bar?.stop();
    return sent;
  } finally {
    await producer.disconnect();
  }
}
