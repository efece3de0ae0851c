import type { Config } from '../config.js';
import { createKafka } from '../kafka/client.js';
import { producerConfig } from '../kafka/clients.js';
import { publishSignups, readNdjson, type WireFormat } from '../produce/publish-signups.js';
import { syntheticSignups } from '../sim/synthetic.js';
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
  const producer = createKafka(config.kafka, logger).producer(producerConfig());
  await producer.connect();
  try {
    if (opts.file) {
      let n = 0;
      const sent = await publishSignups(producer, topic, readNdjson(opts.file), {
        format: opts.format,
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
      onProgress: (s) => bar?.update(s),
    });
    bar?.stop();
    return sent;
  } finally {
    await producer.disconnect();
  }
}
