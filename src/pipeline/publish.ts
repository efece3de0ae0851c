import { type Message, Partitioners, type PartitionMetadata, type Producer } from 'kafkajs';
import type { Logger } from '../telemetry/logger.js';

export interface OutgoingRecord {
  topic: string;
  key: Buffer | string | null;
  value: Buffer | null;
  headers: Record<string, string | Buffer>;
}

/**
 * Roughly what a record adds to a produce request. Batches are cut below
 * MAX_REQUEST_BYTES so that no request exceeds the broker's default 1 MiB message limit.
 */
export function recordBytes(r: OutgoingRecord): number {
  let n = 70 + (r.key?.length ?? 0) + (r.value?.length ?? 0);
  for (const k in r.headers) n += k.length + r.headers[k]!.length + 2;
  return n;
}

export const MAX_REQUEST_BYTES = 800_000;

/** How many queued records, from the front, fit one request: at least one, at most `maxCount`. */
export function batchLength(
  queue: readonly { record: OutgoingRecord }[],
  maxCount: number,
  maxBytes = MAX_REQUEST_BYTES,
): number {
  let bytes = 0;
  const limit = Math.min(queue.length, maxCount);
  for (let i = 0; i < limit; i++) {
    bytes += recordBytes(queue[i]!.record);
    if (bytes > maxBytes) return Math.max(1, i);
  }
  return limit;
}

/** The same murmur2 partitioner Java clients use, so a key lands where they would put it. */
const javaCompatiblePartitioner = Partitioners.DefaultPartitioner();

interface Group {
  topic: string;
  messages: Message[];
  pending: Pending[];
}

interface Pending {
  record: OutgoingRecord;
  resolve(): void;
  reject(err: Error): void;
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
 * idempotent producer with acks=all. Each `publish` promise resolves only when the broker
 * acknowledged the record: that acknowledgement is what allows its input offset to be
 * committed. Batches go out one at a time, in the order records were handed in, so results
 * of one key keep their order.
 */
export class BatchPublisher {
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> | undefined;
  private closed = false;
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
    private readonly options: PublisherOptions,
    private readonly log: Logger,
    private readonly onBatch?: (records: number, durationMs: number, error?: Error) => void,
  ) {
    this.attempts = options.attempts ?? 20;
    this.sendTimeoutMs = options.sendTimeoutMs ?? 30_000;
    this.producer = createProducer();
  }

  async connect(): Promise<void> {
    await this.producer.connect();
  }

  publish(record: OutgoingRecord): Promise<void> {
    if (this.closed) return Promise.reject(new Error('publisher is closed'));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ record, resolve, reject });
      if (this.queue.length >= this.options.batchSize) this.kick();
      else if (!this.timer && !this.sending) this.timer = setTimeout(() => this.kick(), this.options.lingerMs);
    });
  }

  /** Records waiting or being sent. */
  pendingCount(): number {
    return this.queue.length;
  }

  private kick(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.sending || this.queue.length === 0) return;
    const n = batchLength(this.queue, this.options.batchSize);
    const batch = n === this.queue.length ? this.queue : this.queue.slice(0, n);
    this.queue = batch === this.queue ? [] : this.queue.slice(n);
    this.sending = this.send(batch).finally(() => {
      this.sending = undefined;
      // Whatever accumulated while this request was on the wire goes out at once.
      if (this.queue.length > 0) this.kick();
    });
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
  async flush(): Promise<void> {
    while (this.queue.length > 0 || this.sending) {
      this.kick();
      await this.sending;
    }
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    await this.producer.disconnect();
  }
}
