import type { Message, Producer, RecordMetadata } from 'kafkajs';
import type { CodecName } from '../../kafka/compression.js';
import { CODECS } from '../../kafka/compression.js';
import { partitionForKey } from '../../kafka/murmur2.js';
import type { Logger } from '../../telemetry/logger.js';
import type { OutgoingRecord } from '../records.js';
import { LingerBatcher, type Queued } from './batcher.js';
import { isTooLarge, MessageSizeGuard } from './message-size.js';

export type { OutgoingRecord };

interface Group {
  /** `partitionId(topic, partition)` */
  id: string;
  topic: string;
  partition: number;
  messages: Message[];
  pending: Pending[];
}

type Pending = Queued;

export const partitionId = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/** The topic-partitions a send's returned metadata acknowledges (see `BatchPublisher.send`). */
export function acknowledgedPartitions(metadata: RecordMetadata[]): Set<string> {
  return new Set(metadata.filter((m) => m.errorCode === 0).map((m) => partitionId(m.topicName, m.partition)));
}

/**
 * Assigns output partitions as Java clients would (murmur2 of the key; keyless records round
 * robin), so the publisher knows which partitions a send must come back acknowledged for.
 */
export class PartitionAssigner {
  private partitionCounts: ReadonlyMap<string, number> = new Map();
  private roundRobin = 0;

  setPartitionCounts(counts: ReadonlyMap<string, number>): void {
    this.partitionCounts = counts;
  }

  knows(topic: string): boolean {
    return this.partitionCounts.has(topic);
  }

  partitionOf(record: OutgoingRecord): number {
    const n = this.partitionCounts.get(record.topic);
    if (!n) throw new Error(`no partition count known for topic ${record.topic}`);
    if (record.key === null) return this.roundRobin++ % n;
    // KafkaJS's own murmur2 is quadratic in the key length (see src/kafka/murmur2.ts).
    return partitionForKey(record.key, n);
  }
}

export interface PublisherOptions {
  batchSize: number;
  lingerMs: number;
  /** Attempts of one batch, each with the producer's own retries, before its records fail. */
  attempts?: number;
  /** An attempt that has not been acknowledged by then counts as failed. */
  sendTimeoutMs?: number;
  /** Where a record too large for its topic goes instead, as a capped dead letter (RESULT_TOO_LARGE). */
  deadLetterTopic?: string;
  /** KAFKA_PRODUCER_COMPRESSION. */
  compression?: CodecName;
  /**
   * PUBLISH_IN_FLIGHT: requests in flight at once, one per lane; each output partition
   * belongs to one lane, so a partition is never in two requests at once (default 1).
   */
  lanes?: number;
}

/**
 * Collects results from all partitions and sends them in few, large requests through one
 * producer with acks=all (not idempotent: see the Processor's producer options). Each `publish` promise resolves only when the broker
 * acknowledged the record: that acknowledgement is what allows its input offset to be
 * committed. Each output partition belongs to one lane (`lanes`, PUBLISH_IN_FLIGHT); a lane's
 * batches go out one at a time, in the order records were handed in, so results of one key
 * keep their order while the lanes' requests are on the wire together.
 */
export class BatchPublisher {
  private readonly lanes: LingerBatcher<Pending>[];
  /** Topic → its index, for the lane of (topic, partition). */
  private readonly topicIndex = new Map<string, number>();
  private readonly attempts: number;
  private readonly sendTimeoutMs: number;
  private producer: Producer;
  private readonly partitions = new PartitionAssigner();
  private readonly batcherOptions: { batchSize: number; lingerMs: number; maxBytes?: number };
  private readonly sizes: MessageSizeGuard;
  private readonly compression: number;

  /**
   * Takes a factory rather than a producer: after a failed or stalled attempt the producer
   * is replaced. A KafkaJS idempotent producer that lost its broker mid-request can stay
   * stuck (or keep failing on sequence numbers) for good; a new one starts a fresh session.
   */
  constructor(
    private readonly createProducer: () => Producer,
    options: PublisherOptions,
    private readonly log: Logger,
    private readonly onBatch?: (records: number, durationMs: number, error?: Error) => void,
  ) {
    this.attempts = options.attempts ?? 20;
    this.sendTimeoutMs = options.sendTimeoutMs ?? 30_000;
    this.producer = createProducer();
    this.compression = CODECS[options.compression ?? 'none'];
    this.batcherOptions = { batchSize: options.batchSize, lingerMs: options.lingerMs };
    this.sizes = new MessageSizeGuard(options.deadLetterTopic, this.batcherOptions);
    const lanes = Math.max(1, options.lanes ?? 1);
    this.lanes = Array.from(
      { length: lanes },
      () => new LingerBatcher(this.batcherOptions, (batch) => this.send(batch)),
    );
  }

  /**
   * The lane of the record's output partition (assigned here, once: `send` keeps it). A
   * record whose topic's partition count is not known yet goes to the first lane and gets
   * its partition, or its error, in `send`.
   */
  private laneOf(record: OutgoingRecord): LingerBatcher<Pending> {
    if (this.lanes.length === 1) return this.lanes[0]!;
    if (record.partition === undefined) {
      if (!this.partitions.knows(record.topic)) return this.lanes[0]!;
      record.partition = this.partitions.partitionOf(record);
    }
    let t = this.topicIndex.get(record.topic);
    if (t === undefined) {
      t = this.topicIndex.size;
      this.topicIndex.set(record.topic, t);
    }
    return this.lanes[(t * 7 + record.partition) % this.lanes.length]!;
  }

  /** Output topics' `max.message.bytes` (see `topicMessageLimits`). */
  setMessageLimits(limits: ReadonlyMap<string, number>): void {
    this.sizes.setLimits(limits);
  }

  async connect(): Promise<void> {
    await this.producer.connect();
  }

  publish(record: OutgoingRecord): Promise<void> {
    const fitted = this.sizes.fit(record);
    return this.laneOf(fitted).enqueue((resolve, reject) => ({ record: fitted, resolve, reject }));
  }

  /** Queues a record that settles itself when acknowledged or refused (no promise per record). */
  submit(item: Queued): void {
    item.record = this.sizes.fit(item.record);
    this.laneOf(item.record).push(item);
  }

  /** Records waiting to be sent. */
  pendingCount(): number {
    let n = 0;
    for (const lane of this.lanes) n += lane.pendingCount();
    return n;
  }

  /** Output topics' partition counts; records are assigned partitions here (see `send`). */
  setPartitionCounts(counts: ReadonlyMap<string, number>): void {
    this.partitions.setPartitionCounts(counts);
  }

  /**
   * Sends the batch with one `sendBatch` (KafkaJS makes one request per leader broker), then
   * checks that every topic-partition in it was acknowledged. KafkaJS 2.2.4 retries a
   * multi-broker send only to brokers that have not answered yet: when a dead leader's
   * partitions move to a broker that already answered for others, those records are never
   * sent and the send still resolves (seen as lost results in the broker-failover test).
   * Such a send returns no acknowledgement for those partitions, so they are sent again,
   * with a new producer, like a failed send. Records are assigned partitions here, so the
   * partitions to expect are known.
   */
  private async send(batch: Pending[]): Promise<void> {
    // Groups by topic, then by partition number: no key string per record.
    const byTopic = new Map<string, Group[]>();
    let remaining: Group[] = [];
    for (const p of batch) {
      const { record } = p;
      const partition = record.partition ?? this.partitions.partitionOf(record);
      let slots = byTopic.get(record.topic);
      if (!slots) {
        slots = [];
        byTopic.set(record.topic, slots);
      }
      let g = slots[partition];
      if (!g) {
        g = { id: partitionId(record.topic, partition), topic: record.topic, partition, messages: [], pending: [] };
        slots[partition] = g;
        remaining.push(g);
      }
      // The record itself is KafkaJS's message (it reads key, value, headers and partition).
      record.partition = partition;
      g.messages.push(record as Message);
      g.pending.push(p);
    }
    let lastErr: Error | undefined;
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      const started = performance.now();
      const producer = this.producer;
      let failed: Group[];
      try {
        const acknowledged = await this.sendGroups(remaining, producer);
        failed = [];
        for (const g of remaining) {
          if (acknowledged.has(g.id)) for (const p of g.pending) p.resolve();
          else failed.push(g);
        }
        if (failed.length > 0)
          lastErr = new Error(
            `send resolved without an acknowledgement for ${failed.map((g) => `${g.topic}[${g.partition}]`).join(', ')}`,
          );
      } catch (err) {
        if (isTooLarge(err)) {
          // Not transient: find the record(s) that do not fit, one at a time, and cap them.
          await this.sendOneByOne(remaining);
          return;
        }
        failed = remaining;
        lastErr = err as Error;
      }
      const records = remaining.reduce((n, g) => n + g.pending.length, 0);
      if (failed.length === 0) {
        this.onBatch?.(records, performance.now() - started);
        return;
      }
      this.onBatch?.(records, performance.now() - started, lastErr);
      this.log.warn(
        { err: lastErr?.message, attempt, partitions: failed.length },
        'publishing failed for some partitions; retrying them with a new producer',
      );
      remaining = failed;
      await new Promise((r) => setTimeout(r, Math.min(5000, 100 * 2 ** attempt)));
      await this.replaceProducer(producer);
    }
    for (const g of remaining) for (const p of g.pending) p.reject(lastErr ?? new Error('publish failed'));
  }

  /**
   * After MESSAGE_TOO_LARGE (the broker names no record): every record alone, and one still
   * too large alone is replaced by its capped dead letter. Other failures take the usual
   * retries, one record at a time.
   */
  private async sendOneByOne(groups: Group[]): Promise<void> {
    this.log.warn(
      { records: groups.reduce((n, g) => n + g.pending.length, 0) },
      'a batch was too large for the broker; sending its records one by one',
    );
    for (const g of groups) {
      for (const p of g.pending) {
        let record = p.record;
        let forced = false;
        for (;;) {
          const partition = record.partition ?? this.partitions.partitionOf(record);
          const single: Group = {
            id: partitionId(record.topic, partition),
            topic: record.topic,
            partition,
            messages: [{ key: record.key, value: record.value, headers: record.headers, partition }],
            pending: [p],
          };
          try {
            const acknowledged = await this.sendGroups([single]);
            if (!acknowledged.has(single.id)) throw new Error('send resolved without an acknowledgement');
            p.resolve();
            break;
          } catch (err) {
            if (isTooLarge(err) && !forced) {
              this.log.warn(
                { topic: record.topic },
                'record too large for its topic; publishing a capped dead letter instead',
              );
              record = this.sizes.fit(record, true);
              forced = true;
              continue;
            }
            p.reject(err as Error);
            break;
          }
        }
      }
    }
  }

  /** One `sendBatch` of the groups (acks=all, bounded in time); the topic-partitions acknowledged. */
  private async sendGroups(groups: Group[], producer = this.producer): Promise<Set<string>> {
    const byTopic = new Map<string, Message[]>();
    for (const g of groups) {
      const messages = byTopic.get(g.topic);
      if (messages) for (const m of g.messages) messages.push(m);
      else byTopic.set(g.topic, [...g.messages]);
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      const metadata = await Promise.race([
        producer.sendBatch({
          topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
          acks: -1,
          ...(this.compression ? { compression: this.compression } : {}),
        }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no acknowledgement within ${this.sendTimeoutMs} ms`)),
            this.sendTimeoutMs,
          );
        }),
      ]);
      return acknowledgedPartitions(metadata);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Replaces `old`, the producer a failed attempt used, unless another lane replaced it
   * already: lanes failing together (a broker gone) make one new producer, not one each.
   */
  private async replaceProducer(old: Producer): Promise<void> {
    if (this.producer !== old) return;
    this.producer = this.createProducer();
    // The old one may hang on its dead connection: do not wait for it.
    void old.disconnect().catch(() => {});
    try {
      await this.producer.connect();
    } catch (err) {
      // The next attempt's send connects again (KafkaJS connects lazily); just report it.
      this.log.warn({ err: (err as Error).message }, 'new producer could not connect yet');
    }
  }

  /** Sends everything queued now and waits for it. */
  async flush(): Promise<void> {
    await Promise.all(this.lanes.map((lane) => lane.flush()));
  }

  async close(): Promise<void> {
    await Promise.all(this.lanes.map((lane) => lane.close()));
    await this.producer.disconnect();
  }
}
