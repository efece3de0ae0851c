import { type Message, Partitioners, type PartitionMetadata, type Producer } from 'kafkajs';
import type { Logger } from '../telemetry/logger.js';
import { LingerBatcher, type Queued } from './batcher.js';

export interface OutgoingRecord {
  topic: string;
  key: Buffer | string | null;
  value: Buffer | null;
  headers: Record<string, string | Buffer>;
}

/** The same murmur2 partitioner Java clients use, so a key lands where they would put it. */
const javaCompatiblePartitioner = Partitioners.DefaultPartitioner();

interface Group {
  topic: string;
  messages: Message[];
  pending: Pending[];
}

type Pending = Queued;

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
 * idempotent producer with acks=all. Each `publish` promise resolves only when the broker
 * acknowledged the record: that acknowledgement is what allows its input offset to be
 * committed. Batches go out one at a time, in the order records were handed in, so results
 * of one key keep their order.
 */
export class BatchPublisher {
  private readonly batcher: LingerBatcher<Pending>;
  private readonly attempts: number;
  private readonly sendTimeoutMs: number;
  private producer: Producer;
  private partitionCounts: ReadonlyMap<string, number> = new Map();
  private readonly metadataByCount = new Map<number, PartitionMetadata[]>();
  private roundRobin = 0;

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

  /** Records waiting to be sent. */
  pendingCount(): number {
    return this.batcher.pendingCount();
  }

  /** Output topics' partition counts; records are assigned partitions here (see `send`). */
  setPartitionCounts(counts: ReadonlyMap<string, number>): void {
    this.partitionCounts = counts;
  }

  private partitionOf(record: OutgoingRecord): number {
    const n = this.partitionCounts.get(record.topic);
    if (!n) throw new Error(`no partition count known for topic ${record.topic}`);
    if (record.key === null) return this.roundRobin++ % n;
    let meta = this.metadataByCount.get(n);
    if (!meta) {
      meta = Array.from({ length: n }, (_, partitionId) => ({
        partitionErrorCode: 0,
        partitionId,
        leader: 0,
        replicas: [],
        isr: [],
        offlineReplicas: [],
      }));
      this.metadataByCount.set(n, meta);
    }
    return javaCompatiblePartitioner({
      topic: record.topic,
      partitionMetadata: meta,
      message: { key: record.key, value: null },
    });
  }

  /**
   * Sends one request per topic-partition. KafkaJS 2.2.4 retries a multi-broker send only
   * to brokers that have not answered yet; when a leader dies and its partitions move to a
   * broker that already answered for others, those records are never sent and the send still
   * succeeds. Seen here as lost results in the broker-failover test. A send that names one
   * partition always targets that partition's current leader, so a retry cannot skip it.
   */
  private async send(batch: Pending[]): Promise<void> {
    const groups = new Map<string, Group>();
    for (const p of batch) {
      const partition = this.partitionOf(p.record);
      const id = `${p.record.topic}\u0000${partition}`;
      let g = groups.get(id);
      if (!g) {
        g = { topic: p.record.topic, messages: [], pending: [] };
        groups.set(id, g);
      }
      g.messages.push({ key: p.record.key, value: p.record.value, headers: p.record.headers, partition });
      g.pending.push(p);
    }
    let remaining = [...groups.values()];
    let lastErr: Error | undefined;
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      const started = performance.now();
      const outcomes = await Promise.allSettled(remaining.map((g) => this.sendGroup(g)));
      const failed: Group[] = [];
      outcomes.forEach((o, i) => {
        const g = remaining[i]!;
        if (o.status === 'fulfilled') for (const p of g.pending) p.resolve();
        else {
          failed.push(g);
          lastErr = o.reason as Error;
        }
      });
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

  private async sendGroup(g: Group): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.producer.send({ topic: g.topic, messages: g.messages, acks: -1 }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no acknowledgement within ${this.sendTimeoutMs} ms`)),
            this.sendTimeoutMs,
          );
        }),
      ]);
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
