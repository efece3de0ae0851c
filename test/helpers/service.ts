import type * as tracing from '@opentelemetry/sdk-trace';
import pino from 'pino';
import { type RunningService, startService } from '../../src/commands/run.js';
import { type Config, loadConfig } from '../../src/config.js';
import type { Logger } from '../../src/telemetry/logger.js';
import { createTopics, deleteTopics, testBrokers, uniqueName } from './kafka.js';

export interface TestService {
  config: Config;
  service: RunningService;
  topics: { input: string; valid: string; invalid: string; deadLetter: string };
  /** http://127.0.0.1:<port> of /healthz, /readyz and /metrics. */
  baseUrl: string;
  /** Stops the processor, closes the server, flushes spans, deletes the topics. */
  stop(): Promise<void>;
}

/**
 * Starts what `run` starts (tracing, metrics, the operations server on 127.0.0.1, the
 * processor) against the real broker, on topics and a group of its own.
 */
export async function startTestService(
  options: {
    env?: Record<string, string>;
    partitions?: number;
    spanProcessors?: tracing.SpanProcessor[];
    logger?: Logger;
  } = {},
): Promise<TestService> {
  const base = uniqueName('signups');
  const topics = { input: base, valid: `${base}.valid`, invalid: `${base}.invalid`, deadLetter: `${base}.dlq` };
  await createTopics(Object.values(topics), options.partitions ?? 2);
  const config = loadConfig({
    KAFKA_BROKERS: testBrokers().join(','),
    KAFKA_GROUP_ID: uniqueName('group'),
    INPUT_TOPIC: topics.input,
    VALID_TOPIC: topics.valid,
    INVALID_TOPIC: topics.invalid,
    DLQ_TOPIC: topics.deadLetter,
    COMMIT_INTERVAL_MS: '200',
    // The system resolver is never contacted from tests; a test that wants DNS sets its own.
    CHECK_DNS: 'false',
    // Unknown verdicts go straight to the dead-letter topic (no retry topics to create).
    RETRY_DELAYS: '',
    HTTP_PORT: '0',
    HTTP_HOST: '127.0.0.1',
    ...options.env,
  });
  const logger = options.logger ?? pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const service = await startService(
    config,
    logger,
    options.spanProcessors ? { spanProcessors: options.spanProcessors } : {},
  );
  return {
    config,
    service,
    topics,
    baseUrl: `http://127.0.0.1:${service.httpPort}`,
    async stop() {
      await service.close();
      await deleteTopics(Object.values(topics));
    },
  };
}
