import type { Message, Producer, TopicMessages } from 'kafkajs';
import { ProcessorError } from '../../errors.js';
import { CODECS, type CodecName } from '../../kafka/compression.js';
import {
  consumerGeneration,
  type GroupMember,
  installGroupFencing,
  requireStableOffsets,
  setTransactionalMember,
} from '../../kafka/group-fencing.js';
import type { Logger } from '../../telemetry/logger.js';
import { acknowledgedPartitions, type OutgoingRecord, PartitionAssigner, partitionId } from './batch-publisher.js';
import { batchLength, LingerBatcher, type Queued } from './batcher.js';
import { MessageSizeGuard } from './message-size.js';
import { commitRetryKind, MissingAcknowledgement, retryKind } from './transaction-errors.js';

export { commitRetryKind, retryKind };

export interface ConsumedOffset {
  topic: string;
  partition: number;
  offset: string;
}

interface Pending<M> extends Queued {
  meta: M;
}

/**
 * What becomes of a record when a transaction is prepared: `send` it in this transaction,
 * `hold` it for a later one, or `drop` it (its partition was revoked: the new owner produces it).
 */
export type Decision = 'send' | 'hold' | 'drop';

export interface TransactionHooks<M> {
  /**
   * Called just before a transaction is sent, with the metadata of every record waiting for
   * one, and again with the same records when the transaction is retried. Returns a decision
   * per record and the consumed offsets to commit with the records sent. A record may be sent
   * only in a transaction that commits its partition's offset past it: a result committed
   * ahead of its offset would be produced a second time by whoever reads the partition from
   * the committed offset (after a crash or a rebalance).
   */
  prepare(metas: M[]): { decisions: Decision[]; offsets: ConsumedOffset[] };
  /** The transaction committed: its offsets are the group's committed offsets now. */
  committed(offsets: ConsumedOffset[]): void;
}

export interface TransactionalOptions {
  batchSize: number;
  lingerMs: number;
  /** The producers' transactional id; unique per process, it need not survive a restart. */
  transactionalId: string;
  /** Attempts of one transaction before the publisher gives up (default 8). */
  maxAttempts?: number;
  /** First wait before a retry, doubled each attempt up to 5 s (default 200 ms). */
  retryDelayMs?: number;
  /** How long a retry after a group fencing error waits for the consumer to rejoin (default 30 s). */
  rejoinWaitMs?: number;
  /** Where a record too large for its topic goes instead, as a capped dead letter (RESULT_TOO_LARGE). */
  deadLetterTopic?: string;
  /** KAFKA_PRODUCER_COMPRESSION. */
  compression?: CodecName;
}

/** Where a failed attempt stopped: before `commit` nothing of it can become visible. */
class AttemptFailed extends Error {
  constructor(
    readonly error: Error,
    readonly committing: boolean,
  ) {
    super(error.message, { cause: error });
  }
}

/**
 * Exactly-once publishing: the results of a batch and the input offsets they complete are
 * committed in one Kafka transaction (`sendOffsets`), so a `read_committed` consumer of the
 * result topics sees each input's result exactly once, across crashes, broker failovers and
 * rebalances:
 *
 * - a result goes into a transaction only with its input offset (see `prepare`), so whoever
 *   reads a partition from its committed offset never produces a committed result again;
 * - the offsets carry the consumer's group generation (TxnOffsetCommit v3, KIP-447; see
 *   src/kafka/group-fencing.ts): a member that lost a partition cannot commit for it any
 *   more, and a partition's new owner starts only once the old owner's transaction ended
 *   (stable offsets);
 * - a transaction that failed before its commit was sent is retried with the same records
 *   on a new producer (same transactional id, new epoch: the failed one is aborted and its
 *   sequence numbers are never reused), after the consumer rejoined when the group had moved
 *   on. Only a failed commit (its outcome unknown) or records the broker refuses stop the
 *   publisher: then the processor restarts from the committed offsets.
 *
 * One transaction at a time, in hand-in order.
 */
export class TransactionalPublisher<M> {
  private readonly batcher: LingerBatcher<Pending<M>>;
  private readonly partitions = new PartitionAssigner();
  private producer: Producer;
  /** Records prepared with `hold`: they go with the first transaction that commits their offset. */
  private held: Pending<M>[] = [];
  /**
   * Set when a transaction failed for good. Its records were marked done when it was
   * prepared, so a later transaction would commit their input offsets without their results:
   * after a failure nothing more is sent, and the processor stops and restarts from the
   * committed offsets.
   */
  private failure: Error | undefined;
  private closing = false;
  private readonly transactionalId: string;
  private readonly maxAttempts: number;
  private readonly retryDelayMs: number;
  private readonly rejoinWaitMs: number;
  /** The consumer's membership as of its last join: the generation the prepared offsets belong to. */
  private member: GroupMember | undefined;
  /** Bumped by every group join; a fenced retry waits for it to change. */
  private joins = 0;
  private onJoin: (() => void) | undefined;

  constructor(
    private readonly makeProducer: () => Producer,
    private readonly groupId: string,
    options: TransactionalOptions,
    private readonly hooks: TransactionHooks<M>,
    private readonly log: Logger,
    private readonly onBatch?: (records: number, durationMs: number, error?: Error) => void,
  ) {
    this.transactionalId = options.transactionalId;
    this.maxAttempts = options.maxAttempts ?? 8;
    this.retryDelayMs = options.retryDelayMs ?? 200;
    this.rejoinWaitMs = options.rejoinWaitMs ?? 30_000;
    const fencing = installGroupFencing();
    if (fencing.outcome === 'skipped')
      throw new ProcessorError('EXACTLY_ONCE_UNAVAILABLE', `exactly-once needs group fencing: ${fencing.reason}`);
    requireStableOffsets(groupId);
    this.producer = makeProducer();
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

  /**
   * The consumer (`memberId`) joined the group: from now on the offsets are committed under
   * this generation, and the group coordinator refuses them once it is over.
   */
  groupJoined(memberId: string): void {
    const member = consumerGeneration(this.groupId, memberId);
    if (!member) this.log.warn({ memberId }, 'group generation unknown: offsets committed without it');
    this.member = member;
    this.joins++;
    this.onJoin?.();
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

  /** Queues a record that settles itself (see LingerBatcher.push); refused at once, later, after a failure. */
  submit(item: Pending<M>): void {
    const failure = this.failure;
    if (failure) {
      queueMicrotask(() => item.reject(failure));
      return;
    }
    item.record = this.sizes.fit(item.record);
    this.batcher.push(item);
  }

  pendingCount(): number {
    return this.batcher.pendingCount() + this.held.length;
  }

  private async send(batch: Pending<M>[]): Promise<void> {
    const all = this.held.length > 0 ? [...this.held, ...batch] : batch;
    this.held = [];
    const started = performance.now();
    for (let attempt = 1; ; attempt++) {
      if (this.failure) {
        for (const p of all) p.reject(this.failure);
        return;
      }
      // The assignment `prepare` sees and the generation the offsets are committed under are
      // taken together: a join while this transaction is on the wire must not lend its newer
      // generation to offsets computed for the older assignment.
      const member = this.member;
      const { decisions, offsets } = this.hooks.prepare(all.map((p) => p.meta));
      const toSend: Pending<M>[] = [];
      const dropped: Pending<M>[] = [];
      const held: Pending<M>[] = [];
      all.forEach((p, i) => {
        const d = decisions[i];
        (d === 'send' ? toSend : d === 'hold' ? held : dropped).push(p);
      });
      if (toSend.length === 0 && offsets.length === 0) {
        this.held = held;
        for (const p of dropped) p.resolve();
        return;
      }
      const joinsBefore = this.joins;
      try {
        await this.transaction(toSend, offsets, member);
      } catch (e) {
        const { error, committing } = e as AttemptFailed;
        const kind = committing ? commitRetryKind(error) : retryKind(error);
        const last = kind === 'fatal' || attempt >= this.maxAttempts || this.closing;
        this.onBatch?.(toSend.length, performance.now() - started, error);
        if (last) {
          this.failure = error;
          const unknown = committing && kind === 'fatal';
          this.log.error(
            { err: error.message, records: toSend.length, attempt, outcomeUnknown: unknown },
            unknown ? 'transaction commit failed; its outcome is unknown' : 'transaction failed; not retried',
          );
          for (const p of all) p.reject(error);
          return;
        }
        this.log.warn(
          { err: error.message, records: toSend.length, attempt, retry: kind, offsets },
          'transaction failed uncommitted; retrying it with a new producer',
        );
        await this.backOff(attempt, kind === 'rejoin' ? joinsBefore : undefined);
        await this.replaceProducer().catch((err: Error) =>
          this.log.warn({ err: err.message }, 'new transactional producer failed to connect; retrying'),
        );
        continue;
      }
      this.onBatch?.(toSend.length, performance.now() - started);
      this.log.debug({ committed: offsets, records: toSend.length, attempt }, 'offsets committed');
      this.hooks.committed(offsets);
      this.held = held;
      for (const p of toSend) p.resolve();
      for (const p of dropped) p.resolve();
      return;
    }
  }

  /** One transaction: the records (in requests under the size cap), the offsets, the commit. */
  private async transaction(
    records: Pending<M>[],
    offsets: ConsumedOffset[],
    member: GroupMember | undefined,
  ): Promise<void> {
    let committing = false;
    let txn: Awaited<ReturnType<Producer['transaction']>> | undefined;
    try {
      txn = await this.producer.transaction();
      for (let from = 0; from < records.length; ) {
        const n = batchLength(records.slice(from, from + 10_000), Number.MAX_SAFE_INTEGER);
        await this.sendRecords(txn, records.slice(from, from + n));
        from += n;
      }
      if (offsets.length > 0) {
        // Read by our TxnOffsetCommit v3 when KafkaJS encodes it; only this publisher, one
        // transaction at a time, sets it for its transactional id.
        setTransactionalMember(this.transactionalId, member);
        await txn.sendOffsets({ consumerGroupId: this.groupId, topics: groupByTopic(offsets) });
      }
      committing = true;
      await txn.commit();
    } catch (err) {
      // Before the commit nothing of it can become visible: abort it now rather than leave
      // it open until the next producer's InitProducerId (or the transaction timeout), which
      // a partition's next owner would wait for (stable offsets).
      if (!committing && txn) await bounded(txn.abort(), 5000).catch(() => {});
      throw new AttemptFailed(err as Error, committing);
    }
  }

  /**
   * The records, one `sendBatch` per partition, all at once. Not one send for all of them:
   * KafkaJS 2.2.4 retries a multi-broker send while the requests to the other brokers are
   * still on the wire (`Promise.all` rejects at the first failure), and sends those brokers'
   * records again with new sequence numbers — the same results twice in one committed
   * transaction (the failover chaos test saw 816–3,122 such duplicates per run, most after a
   * CONCURRENT_TRANSACTIONS answer to AddPartitionsToTxn, which KafkaJS retries). A send for
   * one partition goes to one broker, so its retries cannot duplicate: a retried produce
   * keeps its sequence number and the broker drops the copy. Every send settles before a
   * failure is reported, so nothing of this attempt is on the wire when it is aborted.
   */
  private async sendRecords(txn: { sendBatch: Producer['sendBatch'] }, records: Pending<M>[]): Promise<void> {
    const byPartition = new Map<string, { topic: string; messages: Message[] }>();
    for (const p of records) {
      const partition = this.partitions.partitionOf(p.record);
      const id = partitionId(p.record.topic, partition);
      let entry = byPartition.get(id);
      if (!entry) {
        entry = { topic: p.record.topic, messages: [] };
        byPartition.set(id, entry);
      }
      entry.messages.push({ key: p.record.key, value: p.record.value, headers: p.record.headers, partition });
    }
    const sends = [...byPartition].map(async ([id, { topic, messages }]) => {
      const topicMessages: TopicMessages[] = [{ topic, messages }];
      // A send that resolves without acknowledging its partition did not deliver it
      // (see BatchPublisher.send): committing would commit its inputs without their results.
      const acknowledged = acknowledgedPartitions(
        await txn.sendBatch({
          topicMessages,
          acks: -1,
          ...(this.compression ? { compression: this.compression } : {}),
        }),
      );
      if (!acknowledged.has(id)) throw new MissingAcknowledgement(`send resolved without an acknowledgement for ${id}`);
    });
    const failed = (await Promise.allSettled(sends)).find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }

  /** Exponential wait; after a fencing error, until the consumer joined again (bounded). */
  private async backOff(attempt: number, rejoinAfter: number | undefined): Promise<void> {
    const delay = Math.min(5000, this.retryDelayMs * 2 ** (attempt - 1));
    await new Promise((r) => setTimeout(r, delay));
    if (rejoinAfter === undefined || this.joins !== rejoinAfter) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, this.rejoinWaitMs);
      this.onJoin = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.onJoin = undefined;
  }

  /**
   * A new producer with the same transactional id. Its InitProducerId aborts whatever the old
   * one left open (or waits for a commit in flight to complete) and bumps the epoch, so the
   * old one is fenced and no sequence number is reused after a send that may have half
   * succeeded: why limiting the producer's retries is safe here, whatever KafkaJS warns.
   */
  private async replaceProducer(): Promise<void> {
    const old = this.producer;
    this.producer = this.makeProducer();
    await old.disconnect().catch(() => {});
    await this.producer.connect();
  }

  flush(): Promise<void> {
    return this.batcher.flush();
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.batcher.close();
    setTransactionalMember(this.transactionalId, undefined);
    await this.producer.disconnect();
  }
}

function bounded<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
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
