// Before KafkaJS: they replace modules KafkaJS loads with its main module (see the files).
import './producer-grouping.js';
import './produce-request.js';
import './consumer-batch.js';
import { Kafka, type KafkaConfig, type LogEntry, logLevel } from 'kafkajs';
import type { Logger } from '../telemetry/logger.js';
import { installBatchDecoder } from './batch-decoder.js';
import { registerCompressionCodecs } from './compression.js';
import { consumerBatchOutcome } from './consumer-batch.js';
import type { KafkaOptions } from './options.js';
import { framingOutcome, installProduceRequest } from './produce-request.js';
import { groupingOutcome } from './producer-grouping.js';
import { CRC32C_IS_NATIVE, installRecordBatchEncoder } from './record-batch.js';
import { installRecordEncoder } from './record-encoder.js';
import { installRequestQueueTimer } from './request-queue.js';
import { kafkaSecurity } from './security.js';

const levels: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

const IDEMPOTENT_RETRIES_WARNING = 'Limiting retries for the idempotent producer may invalidate EoS guarantees';

/**
 * KafkaJS logs through our pino root. KafkaJS reports retried, recoverable conditions
 * (coordinator loading, leader moves) at ERROR; they are demoted to warn so that error
 * means something an operator must act on.
 */
function kafkaLogCreator(logger: Logger) {
  const log = logger.child({ component: 'kafkajs' });
  return () =>
    ({ level, log: entry }: LogEntry) => {
      const { message, timestamp: _t, logger: _l, ...rest } = entry;
      // Exactly-once limits its producers' retries on purpose: after a failed send the
      // transactional publisher never uses that producer again (a new one, with a new epoch,
      // retries the transaction), so no sequence number is reused. See pipeline/publish/transactional.ts.
      if (message === IDEMPOTENT_RETRIES_WARNING) return log.debug(rest, message);
      const method = levels[level] ?? 'info';
      log[method === 'error' ? 'warn' : method](rest, message);
    };
}

/**
 * The one place a KafkaJS client is made: every command and the processor connect with the
 * same TLS/SASL settings. `extra` may override any of them (tests, tools).
 */
export function createKafka(options: KafkaOptions, logger: Logger, extra: Partial<KafkaConfig> = {}): Kafka {
  // KafkaJS's per-record encoding is the processor's largest CPU cost; see record-encoder.ts.
  const encoder = installRecordEncoder();
  if (encoder.outcome === 'skipped') logger.warn({ reason: encoder.reason }, 'KafkaJS record encoder kept (slower)');
  // Its batch encoder copies each record three times and checksums a byte at a time; see record-batch.ts.
  const batch = installRecordBatchEncoder();
  if (batch.outcome === 'skipped') logger.warn({ reason: batch.reason }, 'KafkaJS record batch encoder kept (slower)');
  else if (!CRC32C_IS_NATIVE) logger.warn('native CRC-32C (@node-rs/crc32) did not load: producing costs more CPU');
  // Its produce request copies a request's records five more times; see produce-request.ts.
  const request = installProduceRequest();
  if (request.outcome === 'skipped') logger.warn({ reason: request.reason }, 'KafkaJS produce request kept (slower)');
  // These two are put in place before KafkaJS loads (client.ts imports them first): a program
  // that imported KafkaJS itself before keeps KafkaJS's own, which is only slower.
  if (framingOutcome.outcome === 'skipped')
    logger.info({ reason: framingOutcome.reason }, 'KafkaJS request framing kept (slower)');
  if (groupingOutcome.outcome === 'skipped')
    logger.info({ reason: groupingOutcome.reason }, 'KafkaJS producer grouping kept (quadratic in a send)');
  if (consumerBatchOutcome.outcome === 'skipped')
    logger.info({ reason: consumerBatchOutcome.reason }, 'KafkaJS consumer batch kept (a Long per fetched offset)');
  // KafkaJS's batch decoder stops the consumer on snappy/lz4/zstd, and its header decoding is
  // quadratic; see batch-decoder.ts.
  const decoder = installBatchDecoder({
    maxDecompressedBytes: options.maxDecompressedBatchBytes,
    maxHeaders: options.maxRecordHeaders,
    maxHeaderBytes: options.maxRecordHeaderBytes,
    maxBatchRecords: options.maxBatchRecords,
  });
  if (decoder.outcome === 'skipped')
    logger.warn(
      { reason: decoder.reason },
      'KafkaJS batch decoder kept: snappy, lz4 and zstd input will stop the consumer',
    );
  registerCompressionCodecs();
  // Its request queue sets a timer of negative delay (a warning per connecting program on Node 24).
  installRequestQueueTimer();
  return new Kafka({
    clientId: options.clientId,
    brokers: [...options.brokers],
    logLevel: logLevel.WARN,
    logCreator: kafkaLogCreator(logger),
    connectionTimeout: 5000,
    requestTimeout: 30_000,
    retry: { initialRetryTime: 200, retries: 8, maxRetryTime: 10_000 },
    ...kafkaSecurity(options),
    ...extra,
  });
}
