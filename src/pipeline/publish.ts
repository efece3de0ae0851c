import type { Message, Producer, TopicMessages } from 'kafkajs';
import type { Logger } from '../telemetry/logger.js';

export interface OutgoingRecord {
  topic: string;
  key: Buffer | string | null;
  value: Buffer | null;
  headers: Record<string, string | Buffer>;
}

interface Pending {
  record: OutgoingRecord;
  resolve(): void;
  reject(err: Error): void;
}

export interface PublisherOptions {
  batchSize: number;
  lingerMs: number;
  /** Attempts of one batch beyond the producer's own retries before its records fail. */
  attempts?: number;
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

  constructor(
    private readonly producer: Producer,
    private readonly options: PublisherOptions,
    private readonly log: Logger,
    private readonly onBatch?: (records: number, durationMs: number, error?: Error) => void,
  ) {
    this.attempts = options.attempts ?? 5;
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
    const batch =
      this.queue.length <= this.options.batchSize ? this.queue : this.queue.slice(0, this.options.batchSize);
    this.queue = batch === this.queue ? [] : this.queue.slice(batch.length);
    this.sending = this.send(batch).finally(() => {
      this.sending = undefined;
      // Whatever accumulated while this request was on the wire goes out at once.
      if (this.queue.length > 0) this.kick();
    });
  }

  private async send(batch: Pending[]): Promise<void> {
    const byTopic = new Map<string, Message[]>();
    for (const p of batch) {
      let list = byTopic.get(p.record.topic);
      if (!list) {
        list = [];
        byTopic.set(p.record.topic, list);
      }
      list.push({ key: p.record.key, value: p.record.value, headers: p.record.headers });
    }
    const topicMessages: TopicMessages[] = [];
    for (const [topic, messages] of byTopic) topicMessages.push({ topic, messages });
    let lastErr: Error | undefined;
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      const started = performance.now();
      try {
        await this.producer.sendBatch({ topicMessages, acks: -1 });
        this.onBatch?.(batch.length, performance.now() - started);
        for (const p of batch) p.resolve();
        return;
      } catch (err) {
        lastErr = err as Error;
        this.onBatch?.(batch.length, performance.now() - started, lastErr);
        this.log.warn({ err: lastErr.message, attempt, records: batch.length }, 'publishing a batch failed; retrying');
        await new Promise((r) => setTimeout(r, Math.min(5000, 100 * 2 ** attempt)));
      }
    }
    for (const p of batch) p.reject(lastErr ?? new Error('publish failed'));
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
  }
}
