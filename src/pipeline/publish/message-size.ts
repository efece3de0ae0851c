/**
 * What keeps a record under its topic's `max.message.bytes`, for both publishers: the bound
 * of the record batch it makes, the errors that mean it is too large, and the guard that
 * replaces one that cannot fit by a capped dead letter.
 */
import { DEFAULT_MAX_MESSAGE_BYTES } from '../../kafka/message-limits.js';
import { cappedDeadLetter, type OutgoingRecord } from '../records.js';
import { headerSizes, MAX_REQUEST_BYTES } from './batcher.js';

/** Record batch header (61 bytes) and a record's worst-case varints: what the broker counts besides the bytes. */
const BATCH_OVERHEAD = 61;
const RECORD_OVERHEAD = 36;
const HEADER_OVERHEAD = 10;

/** An upper bound of the record batch one record makes, as the broker measures it against max.message.bytes. */
export function batchBytesOf(r: OutgoingRecord): number {
  let n = BATCH_OVERHEAD + RECORD_OVERHEAD;
  if (r.key !== null) n += Buffer.byteLength(r.key);
  if (r.value !== null) n += r.value.length;
  const h = headerSizes(r.headers);
  return n + h.count * HEADER_OVERHEAD + h.bytes;
}

/** The errors that mean a record (or its batch) is too large for the topic: never transient. */
export function isTooLarge(err: unknown): boolean {
  const type = (err as { type?: string } | undefined)?.type;
  return type === 'MESSAGE_TOO_LARGE' || type === 'RECORD_LIST_TOO_LARGE';
}

/**
 * Keeps records under their topics' `max.message.bytes`: a record that cannot fit is
 * replaced by a capped dead letter (`cappedDeadLetter`), and the batcher's byte cap per
 * request is held below the smallest limit, so no partition's batch passes it.
 */
export class MessageSizeGuard {
  private limits: ReadonlyMap<string, number> = new Map();

  constructor(
    private readonly deadLetterTopic: string | undefined,
    private readonly batcherOptions: { maxBytes?: number },
  ) {}

  setLimits(limits: ReadonlyMap<string, number>): void {
    this.limits = limits;
    const smallest = Math.min(MAX_REQUEST_BYTES, ...limits.values());
    // The batcher's estimate leaves out the batch header; keep room for it and for varints.
    this.batcherOptions.maxBytes = Math.max(1024, Math.floor(smallest * 0.9) - BATCH_OVERHEAD);
  }

  limitOf(topic: string): number {
    return this.limits.get(topic) ?? DEFAULT_MAX_MESSAGE_BYTES;
  }

  /** The record, or its capped dead letter when it cannot fit its topic (or `force`). */
  fit(record: OutgoingRecord, force = false): OutgoingRecord {
    if (!this.deadLetterTopic) return record;
    const size = batchBytesOf(record);
    const limit = this.limitOf(record.topic);
    if (!force && size <= limit) return record;
    return cappedDeadLetter(record, this.deadLetterTopic, limit, size);
  }
}
