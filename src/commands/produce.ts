import type { Message } from 'kafkajs';
import type { Config } from '../config.js';
import { ProcessorError } from '../errors.js';
import { createKafka } from '../kafka/client.js';
import { producerConfig } from '../kafka/clients.js';
import { CODECS } from '../kafka/compression.js';
import { checkSignupFile, readSignupFile } from '../produce/ndjson.js';
import { signupMessage, type WireFormat } from '../produce/publish-signups.js';
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
  /** Build and check every record, connect to nothing, publish nothing. */
  dryRun?: boolean;
}

/** How many bad lines are listed one by one before the rest are only counted. */
const SHOWN_PROBLEMS = 100;

/** Publishes sign-ups (synthetic, or an NDJSON file checked whole first); returns how many. */
export async function produceCommand(config: Config, logger: Logger, opts: ProduceOptions): Promise<number> {
  const topic = opts.topic ?? config.topics.input;
  let total = opts.count;
  if (opts.file) {
    const { count, problems } = await checkSignupFile(opts.file, opts.format).catch((err: NodeJS.ErrnoException) => {
      throw new ProcessorError('INPUT_FILE_INVALID', `${opts.file}: ${err.code ?? err.message}`, { cause: err });
    });
    if (problems.length > 0) {
      const shown = problems.slice(0, SHOWN_PROBLEMS).map((p) => `  ${opts.file}:${p.line}: ${p.message}`);
      if (problems.length > SHOWN_PROBLEMS) shown.push(`  … and ${problems.length - SHOWN_PROBLEMS} more`);
      // Every bad line, found before anything was sent.
      throw new ProcessorError(
        'INPUT_FILE_INVALID',
        `${opts.file}: ${problems.length} bad line${problems.length > 1 ? 's' : ''} (of ${count + problems.length}); nothing was sent:\n${shown.join('\n')}`,
      );
    }
    total = count;
  }
  const messages = async function* (): AsyncGenerator<Message> {
    if (opts.file) {
      for await (const s of readSignupFile(opts.file, opts.format)) {
        const m = signupMessage(s.event, opts.format, topic);
        // JSON carries the line as written: every field, occurredAt as the file has it.
        if (opts.format === 'json') m.value = Buffer.from(JSON.stringify(s.object));
        yield m;
      }
    } else {
      for (const s of syntheticSignups(opts.count, opts.seed)) yield signupMessage(s.event, opts.format, topic);
    }
  };
  if (opts.dryRun) {
    let n = 0;
    for await (const _ of messages()) n++;
    return n;
  }
  const kafka = createKafka(config.kafka, logger);
  const admin = kafka.admin();
  await admin.connect();
  try {
    // The producer would wait for a missing topic forever (allowAutoTopicCreation is off).
    const existing = new Set(await admin.listTopics());
    if (!existing.has(topic)) {
      throw new ProcessorError(
        'TOPIC_MISSING',
        `topic "${topic}" does not exist on ${config.kafka.brokers.join(',')} (create it with \`email-flow-validator topics\`, or name another with --topic)`,
      );
    }
  } finally {
    await admin.disconnect();
  }
  const producer = kafka.producer(producerConfig());
  await producer.connect();
  const bar = opts.quiet ? undefined : progressBar('produce', total);
  try {
    let batch: Message[] = [];
    let sent = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      const compression = CODECS[config.kafka.producerCompression];
      await producer.send({ topic, acks: -1, messages: batch, ...(compression ? { compression } : {}) });
      sent += batch.length;
      batch = [];
      bar?.update(sent);
    };
    for await (const m of messages()) {
      batch.push(m);
      if (batch.length >= 1000) await flush();
    }
    await flush();
    return sent;
  } finally {
    bar?.stop();
    await producer.disconnect();
  }
}
