/**
 * KafkaJS 2.2.4's consumer `Batch` drops the records of a fetch below the offset it asked for
 * with `Long.fromValue(message.offset).gte(fetchedOffset)`: every fetched record's offset
 * string is parsed into a Long (fromString builds several Longs per string), ~3 % of the
 * processor's CPU time and a share of its garbage in benchmark profiles. This `Batch` is the
 * same class (KafkaJS's prototype, so every method and `instanceof` are unchanged) with a
 * constructor that compares an offset of up to 15 digits as a number, and any other value as
 * KafkaJS does (a fetched record's as a number, without making its string: see
 * record-reader.ts); the result is the same batch (test/kafka/consumer-batch.test.ts).
 *
 * KafkaJS loads that module with its main module (the consumer group keeps a reference), so
 * it must be in the module cache first: importing this module does it (client.ts imports it
 * before KafkaJS), as producer-grouping.ts does.
 */
import { createRequire } from 'node:module';
import { freshKafkajsModule, kafkajsMismatch } from './kafkajs-module.js';
import { FetchedRecord } from './record-reader.js';

const require = createRequire(import.meta.url);

const BATCH_MODULE = 'kafkajs/src/consumer/batch.js';
const CONSUMER_GROUP_MODULE = 'kafkajs/src/consumer/consumerGroup.js';
const LONG_MODULE = 'kafkajs/src/utils/long.js';
const FILTER_ABORTED_MODULE = 'kafkajs/src/consumer/filterAbortedMessages.js';

interface Long {
  gte(other: Long): boolean;
  lessThan(other: Long | number): boolean;
  isNegative(): boolean;
  toNumber(): number;
}
interface LongStatic {
  fromValue(v: unknown): Long;
  fromNumber(v: number): Long;
}
interface FetchedMessage {
  offset: unknown;
  isControlRecord?: boolean;
}
interface PartitionData {
  partition: number;
  highWatermark: string;
  abortedTransactions?: unknown[];
  messages: FetchedMessage[];
}
type FilterAborted = (args: { messages: FetchedMessage[]; abortedTransactions?: unknown[] }) => FetchedMessage[];
type BatchClass = new (topic: string, fetchedOffset: unknown, partitionData: PartitionData) => object;

/** The number of an offset string of 1 to 15 digits (below 2^53, exact), else NaN. */
function smallOffset(v: unknown): number {
  if (typeof v !== 'string' || v.length === 0 || v.length > 15) return Number.NaN;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 48 || c > 57) return Number.NaN;
  }
  return Number(v);
}

/** KafkaJS's Batch class with its constructor replaced (the arguments and fields as KafkaJS's). */
export function batchClass(Original: BatchClass, Long: LongStatic, filterAborted: FilterAborted): BatchClass {
  const SAFE = Long.fromNumber(Number.MAX_SAFE_INTEGER);
  function Batch(this: Record<string, unknown>, topic: string, fetchedOffset: unknown, partitionData: PartitionData) {
    this.fetchedOffset = fetchedOffset;
    const longFetchedOffset = Long.fromValue(fetchedOffset);
    const { abortedTransactions, messages } = partitionData;
    this.topic = topic;
    this.partition = partitionData.partition;
    this.highWatermark = partitionData.highWatermark;
    this.rawMessages = messages;
    // Compared as numbers when both fit one exactly; a negative or huge fetched offset as KafkaJS.
    const from =
      !longFetchedOffset.isNegative() && longFetchedOffset.lessThan(SAFE) ? longFetchedOffset.toNumber() : Number.NaN;
    const within: FetchedMessage[] = [];
    for (const message of messages) {
      // A fetched record's offset as a number, its string made only when the record is read.
      const n = Number.isNaN(from)
        ? Number.NaN
        : message instanceof FetchedRecord
          ? message.safeOffset()
          : smallOffset(message.offset);
      if (Number.isNaN(n) ? Long.fromValue(message.offset).gte(longFetchedOffset) : n >= from) within.push(message);
    }
    this.messagesWithinOffset = within;
    const kept = filterAborted({ messages: within, abortedTransactions });
    let control = false;
    for (const m of kept) if (m.isControlRecord) control = true;
    this.messages = control ? kept.filter((m) => !m.isControlRecord) : kept === within ? within.slice() : kept;
  }
  Batch.prototype = Original.prototype;
  return Batch as unknown as BatchClass;
}

const INSTALLED = Symbol('efv.consumerBatch');

function install(): { outcome: 'installed' | 'skipped'; reason?: string } {
  const mismatch = kafkajsMismatch('the consumer batch');
  if (mismatch) return { outcome: 'skipped', reason: mismatch };
  const path = require.resolve(BATCH_MODULE);
  const cached = require.cache[path]?.exports as { [INSTALLED]?: true } | undefined;
  if (cached?.[INSTALLED]) return { outcome: 'installed' };
  if (require.cache[require.resolve(CONSUMER_GROUP_MODULE)])
    return { outcome: 'skipped', reason: 'KafkaJS was loaded before its consumer batch could be replaced' };
  const Original = require(path) as BatchClass;
  const replaced = Object.assign(
    batchClass(Original, require(LONG_MODULE) as LongStatic, require(FILTER_ABORTED_MODULE) as FilterAborted),
    { [INSTALLED]: true as const },
  );
  require.cache[path]!.exports = replaced;
  return { outcome: 'installed' };
}

/** Whether KafkaJS consumers of this process make their batches with `batchClass`. */
export const consumerBatchOutcome = install();

/** KafkaJS's own Batch (a fresh copy of its module), for comparison in tests. */
export function kafkajsBatch(): BatchClass {
  return freshKafkajsModule(BATCH_MODULE);
}
