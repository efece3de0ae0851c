import type { Message, Producer, RecordMetadata } from 'kafkajs';
import type { Logger } from '../telemetry/logger.js';
import { LingerBatcher, type Queued } from './batcher.js';
import { partitionForKey } from './murmur2.js';
import type { OutgoingRecord } from './records.js';

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

  partitionOf(record: OutgoingRecord): number {
    const n = this.partitionCounts.get(record.topic);
    if (!n) throw new Error(`no partition count known for topic ${record.topic}`);
    if (record.key === null) return this.roundRobin++ % n;
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
}

/**
 * Collects results from all partitions and sends them in few, large requests through one
 * producer with acks=all (not idempotent: see the Processor's producer options). Each `publish` promise resolves only when the broker
 * acknowledged the record: that acknowledgement is what allows its input offset to be
 * committed. Batches go out one at a time, in the order records were handed in, so results
 * of one key keep their order.
 */
export class BatchPublisher {
  private readonly batcher: LingerBatcher<Pending>;
  private readonly attempts: number;
  private readonly sendTimeoutMs: number;
  private producer: Producer;
  private readonly partitions = new PartitionAssigner();

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
    this.batcher = new LingerBatcher(options, (batch) => this.send(batch));
  }

  async connect(): Promise<void> {
    await this.producer.connect();
  }

  publish(record: OutgoingRecord): Promise<void> {
    return this.batcher.enqueue((resolve, reject) => ({ record, resolve, reject }));
  }

  /** Queues a record that settles itself when acknowledged or refused (no promise per record). */
  submit(item: Queued): void {
    this.batcher.push(item);
  }

  /** Records waiting to be sent. */
  pendingCount(): number {
    return this.batcher.pendingCount();
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
    const groups = new Map<string, Group>();
    for (const p of batch) {
      const partition = this.partitions.partitionOf(p.record);
      const id = partitionId(p.record.topic, partition);
      let g = groups.get(id);
      if (!g) {
        g = { id, topic: p.record.topic, partition, messages: [], pending: [] };
        groups.set(id, g);
      }
      g.messages.push({ key: p.record.key, value: p.record.value, headers: p.record.headers, partition });
      g.pending.push(p);
    }
    let remaining = [...groups.values()];
    let lastErr: Error | undefined;
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      const started = performance.now();
      let failed: Group[];
      try {
        const acknowledged = await this.sendGroups(remaining);
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
      await this.replaceProducer();
    }
    for (const g of remaining) for (const p of g.pending) p.reject(lastErr ?? new Error('publish failed'));
  }

  /** One `sendBatch` of the groups (acks=all, bounded in time); the topic-partitions acknowledged. */
  private async sendGroups(groups: Group[]): Promise<Set<string>> {
    const byTopic = new Map<string, Message[]>();
    for (const g of groups) {
      const messages = byTopic.get(g.topic);
      if (messages) for (const m of g.messages) messages.push(m);
      else byTopic.set(g.topic, [...g.messages]);
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      const metadata = await Promise.race([
        this.producer.sendBatch({
          topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
          acks: -1,
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

  private async replaceProducer(): Promise<void> {
    const old = this.producer;
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
  flush(): Promise<void> {
    return this.batcher.flush();
  }

  async close(): Promise<void> {
    await this.batcher.close();
    await this.producer.disconnect();
  }
}
