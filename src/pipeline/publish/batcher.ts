import type { OutgoingRecord } from '../records.js';

/**
 * Roughly what a record adds to a produce request. Batches are cut below
 * MAX_REQUEST_BYTES so that no request exceeds the broker's default 1 MiB message limit.
 */
export function recordBytes(r: OutgoingRecord): number {
  const h = headerSizes(r.headers);
  return 70 + (r.key?.length ?? 0) + (r.value?.length ?? 0) + h.length + 2 * h.count;
}

export interface HeaderSizes {
  count: number;
  /** Sum of the names' and values' `.length`. */
  length: number;
  /** Sum of the names' and values' bytes (UTF-8). */
  bytes: number;
}

/** Frozen header objects of strings are shared by many records (see `resultHeaders`): measured once. */
const frozenSizes = new WeakMap<object, HeaderSizes>();

export function headerSizes(headers: Record<string, string | Buffer>): HeaderSizes {
  const cached = frozenSizes.get(headers);
  if (cached) return cached;
  let count = 0;
  let length = 0;
  let bytes = 0;
  let strings = true;
  for (const k in headers) {
    const v = headers[k]!;
    count++;
    length += k.length + v.length;
    bytes += Buffer.byteLength(k) + Buffer.byteLength(v);
    if (typeof v !== 'string') strings = false;
  }
  const sizes = { count, length, bytes };
  if (strings && Object.isFrozen(headers)) frozenSizes.set(headers, sizes);
  return sizes;
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

/** A record waiting for its request, with what settles its caller's promise. */
export interface Queued {
  record: OutgoingRecord;
  resolve(): void;
  reject(err: Error): void;
}

/**
 * The queue both publishers share: records wait up to `lingerMs` for others to fill a
 * request (at most `batchSize` records, under the request byte cap); one request is in
 * flight at a time, in hand-in order, so one key's results keep their order.
 */
export class LingerBatcher<P extends Queued> {
  private queue: P[] = [];
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> | undefined;
  private closed = false;

  constructor(
    /** `maxBytes` (default MAX_REQUEST_BYTES) is read at each cut: the publisher lowers it to the topics' limit. */
    private readonly options: { batchSize: number; lingerMs: number; maxBytes?: number },
    private readonly send: (batch: P[]) => Promise<void>,
  ) {}

  /** Queues `item` (built around the resolve/reject of the returned promise). */
  enqueue(build: (resolve: () => void, reject: (err: Error) => void) => P): Promise<void> {
    if (this.closed) return Promise.reject(new Error('publisher is closed'));
    return new Promise<void>((resolve, reject) => this.push(build(resolve, reject)));
  }

  /**
   * Queues an item that settles itself (its `resolve`/`reject` are its own methods): no
   * promise or closure per record on the hot path.
   */
  push(item: P): void {
    if (this.closed) {
      item.reject(new Error('publisher is closed'));
      return;
    }
    this.queue.push(item);
    if (this.queue.length >= this.options.batchSize) this.kick();
    else if (!this.timer && !this.sending) this.timer = setTimeout(this.kickLater, this.options.lingerMs);
  }

  private readonly kickLater = () => this.kick();

  /** Records waiting, not counting the request on the wire. */
  pendingCount(): number {
    return this.queue.length;
  }

  private kick(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.sending || this.queue.length === 0) return;
    const batch = this.queue.splice(0, batchLength(this.queue, this.options.batchSize, this.options.maxBytes));
    this.sending = this.send(batch).finally(() => {
      this.sending = undefined;
      // Whatever accumulated while this request was on the wire goes out at once.
      if (this.queue.length > 0) this.kick();
    });
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
