import type { Config } from '../config.js';
import { ProcessorError } from '../errors.js';
import { createKafka } from '../kafka/client.js';
import { missingTopics } from '../kafka/topics.js';
import { Processor, type ProcessorObserver } from '../pipeline/processor.js';
import type { Logger } from '../telemetry/logger.js';
import { createValidator } from '../validation/validator.js';

export interface RunningProcessor {
  processor: Processor;
  /** Resolves with the exit code once the processor stopped (signal, fatal error or stop()). */
  done: Promise<number>;
}

/** Builds and starts the processor; fails with a clear message if its topics are missing. */
export async function startProcessor(
  config: Config,
  logger: Logger,
  observer?: ProcessorObserver,
): Promise<RunningProcessor> {
  const kafka = createKafka(config.kafka, logger);
  const admin = kafka.admin();
  await admin.connect();
  try {
    const missing = await missingTopics(admin, config.topics);
    if (missing.length > 0) {
      throw new ProcessorError(
        'CONFIG_INVALID',
        `topics missing on ${config.kafka.brokers.join(',')}: ${missing.join(', ')} (create them with \`email-flow-validator topics\`)`,
      );
    }
  } finally {
    await admin.disconnect();
  }
  const validator = createValidator(config.validation);
  const processor = new Processor(config, { kafka, validator, logger, ...(observer ? { observer } : {}) });
  await processor.start();
  return { processor, done: processor.stopped.then(() => (processor.failure ? 1 : 0)) };
}

/** `run`: the processor until SIGTERM/SIGINT, then drain, commit, exit 0. */
export async function runCommand(config: Config, logger: Logger): Promise<number> {
  const { processor, done } = await startProcessor(config, logger);
  const onSignal = (signal: NodeJS.Signals) => {
    logger.info({ signal }, 'shutdown requested');
    void processor.stop();
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  return done;
}
