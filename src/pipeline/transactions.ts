import type { Message, Producer, TopicMessages } from 'kafkajs';
import { CODECS, type CodecName } from '../kafka/compression.js';
import type { Logger } from '../telemetry/logger.js';
import { LingerBatcher, type Queued } from './batcher.js';
import {
  acknowledgedPartitions,
  MessageSizeGuard,
  type OutgoingRecord,
  PartitionAssigner,
  partitionId,
} from './publish.js';

export interface ConsumedOffset {
  topic: string;
  partition: number;
  offset: string;
}

interface Pending<M> extends Queued {
  meta: M;
}

export interface TransactionHooks<M> {
  /**
   * Called just before a transaction is sent, with the metadata of the records it would
   * carry. Returns which of them still belong in it (records of a revoked partition do not)
   * and the consumed offsets to commit with them.
   */
  prepare(metas: M[]): { keep: boolean[]; offsets: ConsumedOffset[] };
  /** The transaction committed: its offsets are the group's committed offsets now. */
  committed(offsets: ConsumedOffset[]): void;
}

/**
 * Exactly-once publishing: the results of a batch and the input offsets they complete are
 * committed in one Kafka transaction (`sendOffsets`), so a `read_committed` consumer of the
 * result topics sees each input's result once, even across a crash: an unfinished
 * transaction is aborted when the restarted producer, with the same transactional id,
 * initialises. One transaction at a time, in hand-in order.
 */
export class TransactionalPublisher<M> {
  private readonly batcher: LingerBatcher<Pending<M>>;
  private readonly partitions = new PartitionAssigner();
  /**
   * Set by the first failed transaction. Its records were marked done when it was prepared,
   * so a later transaction would commit their input offsets without their results: after a
   * failure nothing more is sent, and the processor stops and restarts from the committed
   * offsets.
   */
  private failure: Error | undefined;

  constructor(
    private readonly producer: Producer,
    private readonly groupId: string,
    options: { batchSize: number; lingerMs: number; deadLetterTopic?: string; compression?: CodecName },
    private readonly hooks: TransactionHooks<M>,
    private readonly log: Logger,
    private readonly onBatch?: (records: number, durationMs: number, error?: Error) => void,
  ) {
    const batcherOptions: { batchSize: number; lingerMs: number; maxBytes?: number } = {
      batchSize: options.batchSize,
      lingerMs: options.lingerMs,
    };
    // A record too large for its topic would fail the transaction, and the restart would
    // meet it again: it is replaced by a capped dead letter before it joins one.
    this.sizes = new MessageSizeGuard(options.deadLetterTopic, batcherOptions);
    this.compression = CODECS[options.compression ?? 'none'];
    this.batcher = new LingerBatcher(batcherOptions, (batch) => this.send(batch));
  }

  private readonly sizes: MessageSizeGuard;
  private readonly compression: number;

  /** Output topics' `max.message.bytes` (see `topicMessageLimits`). */
  setMessageLimits(limits: ReadonlyMap<string, number>): void {
    this.sizes.setLimits(limits);
  }

  async connect(): Promise<void> {
    await this.producer.connect();
  }

  /** Output topics' partition counts; records are assigned partitions here (see `send`). */
  setPartitionCounts(counts: ReadonlyMap<string, number>): void {
    this.partitions.setPartitionCounts(counts);
  }

  publish(record: OutgoingRecord, meta: M): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const fitted = this.sizes.fit(record);
    return this.batcher.enqueue((resolve, reject) => ({ record: fitted, meta, resolve, reject }));
  }

  pendingCount(): number {
    return this.batcher.pendingCount();
  }

  private async send(batch: Pending<M>[]): Promise<void> {
    if (this.failure) {
      for (const p of batch) p.reject(this.failure);
      return;
    }
    const { keep, offsets } = this.hooks.prepare(batch.map((p) => p.meta));
    const byTopic = new Map<string, Message[]>();
    const sentTo = new Set<string>();
    let kept = 0;
    batch.forEach((p, i) => {
      if (!keep[i]) return;
      kept++;
      let list = byTopic.get(p.record.topic);
      if (!list) {
        list = [];
        byTopic.set(p.record.topic, list);
      }
      const partition = this.partitions.partitionOf(p.record);
      sentTo.add(partitionId(p.record.topic, partition));
      list.push({ key: p.record.key, value: p.record.value, headers: p.record.headers, partition });
    });
    const topicMessages: TopicMessages[] = [];
    for (const [topic, messages] of byTopic) topicMessages.push({ topic, messages });
    const started = performance.now();
    const txn = await this.producer.transaction();
    try {
      if (topicMessages.length > 0) {
        // KafkaJS 2.2.4 can resolve a multi-broker send without sending the partitions whose
        // leader moved to a broker that already answered (see BatchPublisher.send). Committing
        // then would commit their input offsets without their results: abort instead.
        const acknowledged = acknowledgedPartitions(
          await txn.sendBatch({
            topicMessages,
            acks: -1,
            ...(this.compression ? { compression: this.compression } : {}),
          }),
        );
        const missing = [...sentTo].filter((id) => !acknowledged.has(id));
        if (missing.length > 0)
          throw new Error(`send resolved without an acknowledgement for ${missing.length} partition(s)`);
      }
      if (offsets.length > 0) {
        await txn.sendOffsets({ consumerGroupId: this.groupId, topics: groupByTopic(offsets) });
      }
      await txn.commit();
    } catch (err) {
      // Nothing of this transaction becomes visible; the caller treats it as fatal so the
      // records are read again from the last committed offsets.
      this.failure = err as Error;
      await txn.abort().catch(() => {});
      this.onBatch?.(kept, performance.now() - started, err as Error);
      this.log.error({ err: (err as Error).message, records: kept }, 'transaction failed; aborted');
      for (const p of batch) p.reject(err as Error);
      return;
    }
    this.onBatch?.(kept, performance.now() - started);
    this.hooks.committed(offsets);
    for (const p of batch) p.resolve();
  }

  flush(): Promise<void> {
    return this.batcher.flush();
  }

  async close(): Promise<void> {
    await this.batcher.close();
    await this.producer.disconnect();
  }
}

function groupByTopic(offsets: ConsumedOffset[]) {
  const topics = new Map<string, { partition: number; offset: string }[]>();
  for (const o of offsets) {
    let list = topics.get(o.topic);
    if (!list) {
      list = [];
      topics.set(o.topic, list);
    }
    list.push({ partition: o.partition, offset: o.offset });
  }
  return [...topics].map(([topic, partitions]) => ({ topic, partitions }));
}
