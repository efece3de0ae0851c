/**
 * The publisher of each delivery mode, built once at start. At-least-once publishes batches
 * and commits acknowledged offsets through the consumer (OffsetCommitter); exactly-once puts
 * results and their input offsets in one transaction (TransactionalPublisher) and has no
 * committer. See ARCHITECTURE.md, "Delivery modes".
 */
import { hostname } from 'node:os';
import type { Kafka } from 'kafkajs';
import type { Config } from '../../config.js';
import { producerConfig } from '../../kafka/clients.js';
import type { Logger } from '../../telemetry/logger.js';
import { OffsetCommitter, transactionBatch, transactionCommitted } from '../commits.js';
import type { ProcessorObserver } from '../observer.js';
import type { PartitionTable } from '../partition-table.js';
import type { RecordTask } from '../record-task.js';
import { BatchPublisher } from './batch-publisher.js';
import type { Publisher } from './publisher.js';
import { type ConsumedOffset, TransactionalPublisher } from './transactional.js';

/**
 * Unique per process (offsets are fenced by the group generation, so the id need not survive
 * a restart; kept across one, it lets the new producer abort the old one's open transaction
 * at once instead of at its timeout).
 */
function transactionalIdOf(config: Config): string {
  return config.kafka.transactionalId || `${config.kafka.groupId}-${hostname()}-${process.pid}`;
}

/**
 * A crashed process's open transaction holds back the stable offsets of its partitions' next
 * owner until it times out: keep that short (ours last < 1 s).
 */
const TRANSACTION_TIMEOUT_MS = 20_000;

export interface Delivery {
  publisher: Publisher;
  /** At-least-once only: exactly-once commits offsets inside its transactions. */
  committer: OffsetCommitter | undefined;
}

export interface DeliveryDeps {
  kafka: Kafka;
  table: PartitionTable;
  observer: ProcessorObserver;
  logger: Logger;
  /** The processor's logger, for the committer's lines. */
  log: Logger;
  /** At-least-once: the consumer's offset commit. */
  commitOffsets(offsets: ConsumedOffset[]): Promise<void>;
  /** Whether the group generation is settled; a commit is pointless during a rebalance. */
  groupSettled(): boolean;
}

export function createDelivery(config: Config, deps: DeliveryDeps): Delivery {
  const p = config.pipeline;
  const publisherLog = deps.logger.child({ component: 'publisher' });
  const onPublishBatch = deps.observer.publishBatch?.bind(deps.observer);
  const common = { deadLetterTopic: config.topics.deadLetter, compression: config.kafka.producerCompression };
  if (p.delivery === 'exactly-once') {
    const transactionalId = transactionalIdOf(config);
    const publisher = new TransactionalPublisher<RecordTask>(
      () => deps.kafka.producer(producerConfig({ transactionalId, transactionTimeout: TRANSACTION_TIMEOUT_MS })),
      config.kafka.groupId,
      // A transaction costs several round trips: make each carry more.
      { batchSize: p.publishBatchSize, lingerMs: Math.max(p.publishLingerMs, 50), transactionalId, ...common },
      {
        prepare: (tasks) => transactionBatch(deps.table, tasks),
        committed: (offsets) => transactionCommitted(deps.table, deps.observer, offsets),
      },
      publisherLog,
      onPublishBatch,
    );
    return { publisher, committer: undefined };
  }
  const publisher = new BatchPublisher(
    () => deps.kafka.producer(producerConfig({ maxInFlightRequests: p.publishInFlight })),
    { batchSize: p.publishBatchSize, lingerMs: p.publishLingerMs, lanes: p.publishInFlight, ...common },
    publisherLog,
    onPublishBatch,
  );
  const committer = new OffsetCommitter(
    deps.table,
    (offsets) => deps.commitOffsets(offsets),
    () => deps.groupSettled(),
    deps.observer,
    deps.log,
  );
  return { publisher, committer };
}
