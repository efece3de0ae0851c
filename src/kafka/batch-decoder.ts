/**
 * A record batch decoder (record batch v2 format) swapped in for KafkaJS 2.2.4's own, for
 * three defects of KafkaJS's that any producer can trigger:
 *
 * - Compression: KafkaJS decodes only gzip, without an output cap; a batch compressed with
 *   snappy, lz4 or zstd throws `KafkaJSNotImplemented`, the fetch fails, and the consumer
 *   stops on the same batch after every restart. Here every codec is decoded under
 *   `maxDecompressedBytes` (src/kafka/compression.ts).
 * - A batch that still cannot be decoded (unknown codec, over the cap, corrupt) does not
 *   fail the fetch: it becomes one stand-in record at the batch's last offset, with the raw
 *   batch as its value, that `undecodableBatch()` recognises. The processor dead-letters it
 *   (UNDECODABLE_BATCH) and its offset moves the partition past the batch.
 * - Headers: KafkaJS builds a record's headers with one object spread per header, O(n²):
 *   16,000 headers blocked the event loop for 34 s. Here they are read in one pass; past
 *   `maxHeaders` or `maxHeaderBytes` they are not kept at all, and the record is marked
 *   for a TOO_MANY_HEADERS dead letter (`headerOverflow()`), with a summary.
 *
 * Records come out with the fields of KafkaJS's decoder (key/value as slices of the fetched
 * buffer), read on first access (src/kafka/record-reader.ts says why), so the rest of
 * KafkaJS (aborted-transaction filtering, offsets) is unchanged. Installed like the record
 * encoder: in KafkaJS's module cache, under the names of its batch and record decoders,
 * before a consumer loads them (`installBatchDecoder`).
 */
import { createRequire } from 'node:module';
import { CODECS, codecName, DecompressError, decompress } from './compression.js';
import { kafkajsMismatch } from './kafkajs-module.js';
import {
  addInteger,
  type BatchContext,
  type DecodedRecord,
  Reader,
  type Headers as RecordHeaders,
  Truncated,
} from './record-cursor.js';
import { type HeaderCaps, type HeaderOverflow, LOG_APPEND_TIME, readRecord, readRecords } from './record-reader.js';

const require = createRequire(import.meta.url);

const BATCH_MODULE = 'kafkajs/src/protocol/recordBatch/v0/decoder.js';
const RECORD_MODULE = 'kafkajs/src/protocol/recordBatch/record/v0/decoder.js';
const FETCH_MESSAGES_MODULE = 'kafkajs/src/protocol/requests/fetch/v4/decodeMessages.js';

export interface DecoderLimits {
  /** Bytes a compressed batch may decompress to. */
  maxDecompressedBytes: number;
  /** Headers one record may have. */
  maxHeaders: number;
  /** Bytes of header names and values one record may have. */
  maxHeaderBytes: number;
  /**
   * Records one batch may hold. The byte cap alone does not bound memory: 16 MiB of
   * minimal records is two million record objects (~500 MB).
   */
  maxBatchRecords: number;
}

export const DEFAULT_DECODER_LIMITS: DecoderLimits = {
  maxDecompressedBytes: 16 * 1024 * 1024,
  maxHeaders: 256,
  maxHeaderBytes: 64 * 1024,
  maxBatchRecords: 100_000,
};

let limits: DecoderLimits = { ...DEFAULT_DECODER_LIMITS };

export function setDecoderLimits(next: Partial<DecoderLimits>): void {
  limits = { ...limits, ...next };
}

export function decoderLimits(): DecoderLimits {
  return limits;
}

/** What a stand-in record of an undecodable batch tells about it. */
export interface UndecodableBatch {
  firstOffset: string;
  lastOffset: string;
  codec: string;
  reason: string;
  /** The raw batch (as fetched) is the stand-in's value. */
  batchBytes: number;
}

/** The header caps in force (a getter view of `limits`), and where a record over them is noted. */
const caps: HeaderCaps = {
  get maxHeaders() {
    return limits.maxHeaders;
  },
  get maxHeaderBytes() {
    return limits.maxHeaderBytes;
  },
  overflowed: (headers, overflow) => overflowed.set(headers, overflow),
};

// Marks, keyed by the record's headers object (the decoder hands these around untouched).
const undecodable = new WeakMap<object, UndecodableBatch>();
const overflowed = new WeakMap<object, HeaderOverflow>();

/** Set when `headers` belong to the stand-in record of a batch that could not be decoded. */
export function undecodableBatch(headers: object | undefined): UndecodableBatch | undefined {
  return headers ? undecodable.get(headers) : undefined;
}

/** Set when the record had more headers (or header bytes) than allowed: its headers are empty. */
export function headerOverflow(headers: object | undefined): HeaderOverflow | undefined {
  return headers ? overflowed.get(headers) : undefined;
}

const TIMESTAMP_TYPE_FLAG = 0x08;
const TRANSACTIONAL_FLAG = 0x10;
const CONTROL_FLAG = 0x20;
const CODEC_MASK = 0x07;
const CREATE_TIME = 0;

/** KafkaJS's `Decoder`, as far as the batch decoder uses it. */
interface KafkaDecoder {
  buffer: Buffer;
  offset: number;
  readInt64(): bigint;
  readInt32(): number;
  forward(n: number): void;
}

const { KafkaJSPartialMessageError } = require('kafkajs/src/errors') as {
  KafkaJSPartialMessageError: new (message: string) => Error;
};

/**
 * Bytes inflated so far from each partition's record set of a fetch response (KafkaJS
 * decodes a partition's batches through one Decoder). Past `maxDecompressedBytes`, the
 * partition's remaining batches are left for the next fetch, as KafkaJS leaves a batch cut
 * short by the fetch size: one fetch cannot inflate many near-cap batches at once.
 */
const inflatedBy = new WeakMap<object, number>();

/** KafkaJS's `recordBatch/v0/decoder`: one batch from the fetch response, its records. */
export async function decodeRecordBatch(
  fetchDecoder: KafkaDecoder,
): Promise<BatchContext & { records: DecodedRecord[] }> {
  const inflated = inflatedBy.get(fetchDecoder) ?? 0;
  if (inflated >= limits.maxDecompressedBytes)
    throw new KafkaJSPartialMessageError(`${inflated} bytes inflated from this partition's fetch; the rest waits`);
  const start = fetchDecoder.offset;
  const firstOffset = fetchDecoder.readInt64().toString();
  const length = fetchDecoder.readInt32();
  const buf = fetchDecoder.buffer;
  const at = fetchDecoder.offset;
  fetchDecoder.forward(length);
  if (buf.length - at < length) {
    // The tail of a fetch can end inside a batch (max bytes): KafkaJS stops there.
    throw new KafkaJSPartialMessageError(
      `Tried to decode a partial record batch: remainingBytes(${buf.length - at}) < recordBatchLength(${length})`,
    );
  }
  const end = at + length;
  // partitionLeaderEpoch 4, magic 1, crc 4, attributes 2, lastOffsetDelta 4, firstTimestamp 8,
  // maxTimestamp 8, producerId 8, producerEpoch 2, firstSequence 4, record count 4.
  if (length < 49) throw new KafkaJSPartialMessageError(`record batch of ${length} bytes is too short`);
  const partitionLeaderEpoch = buf.readInt32BE(at);
  const magicByte = buf.readInt8(at + 4);
  const attributes = buf.readInt16BE(at + 9);
  const lastOffsetDelta = buf.readInt32BE(at + 11);
  const firstTimestamp = buf.readBigInt64BE(at + 15).toString();
  const maxTimestamp = buf.readBigInt64BE(at + 23).toString();
  const producerId = buf.readBigInt64BE(at + 31).toString();
  const producerEpoch = buf.readInt16BE(at + 39);
  const firstSequence = buf.readInt32BE(at + 41);
  const count = buf.readInt32BE(at + 45);
  const recordsAt = at + 49;
  const ctx: BatchContext = {
    firstOffset,
    firstTimestamp,
    partitionLeaderEpoch,
    inTransaction: (attributes & TRANSACTIONAL_FLAG) > 0,
    isControlBatch: (attributes & CONTROL_FLAG) > 0,
    lastOffsetDelta,
    producerId,
    producerEpoch,
    firstSequence,
    maxTimestamp,
    timestampType: (attributes & TIMESTAMP_TYPE_FLAG) > 0 ? LOG_APPEND_TIME : CREATE_TIME,
  };
  const recordCtx = { ...ctx, magicByte };
  const codec = attributes & CODEC_MASK;
  let records: DecodedRecord[];
  try {
    if (count > limits.maxBatchRecords)
      throw new Truncated(`batch claims ${count} records, more than the ${limits.maxBatchRecords} allowed`);
    if (count <= 0) records = [];
    else if (codec === CODECS.none) records = readRecords(buf, recordsAt, end, count, recordCtx, caps);
    else {
      const out = await decompress(codec, buf.subarray(recordsAt, end), limits.maxDecompressedBytes);
      inflatedBy.set(fetchDecoder, inflated + out.length);
      records = readRecords(out, 0, out.length, count, recordCtx, caps);
    }
  } catch (err) {
    if (!(err instanceof DecompressError || err instanceof Truncated || err instanceof RangeError)) throw err;
    records = [standIn(buf.subarray(start, end), recordCtx, codec, err.message)];
  }
  return { ...ctx, records };
}

/** The one record standing for a batch that could not be decoded, at its last offset. */
function standIn(raw: Buffer, ctx: BatchContext, codec: number, reason: string): DecodedRecord {
  const lastOffset = addInteger(ctx.firstOffset, ctx.lastOffsetDelta);
  const headers: RecordHeaders = {};
  undecodable.set(headers, {
    firstOffset: ctx.firstOffset,
    lastOffset,
    codec: codecName(codec),
    reason,
    batchBytes: raw.length,
  });
  return {
    magicByte: ctx.magicByte,
    attributes: 0,
    timestamp: ctx.timestampType === LOG_APPEND_TIME ? ctx.maxTimestamp : ctx.firstTimestamp,
    offset: lastOffset,
    key: null,
    // A copy: the stand-in should not keep the whole fetch response alive.
    value: Buffer.from(raw),
    headers,
    isControlRecord: ctx.isControlBatch,
    batchContext: ctx,
  };
}

/** KafkaJS's `recordBatch/record/v0/decoder`, for any caller other than the batch decoder. */
export function decodeRecordV0(decoder: KafkaDecoder, batchContext: BatchContext): DecodedRecord {
  // KafkaJS hands it a Decoder over exactly one record (its length already read).
  const r = new Reader(decoder.buffer, decoder.offset, decoder.buffer.length);
  const record = readRecord(r, decoder.buffer.length, batchContext, caps);
  decoder.offset = r.at;
  return record;
}

export type InstallOutcome = 'installed' | 'already' | 'skipped';

/**
 * Makes KafkaJS consumers of this process use `decodeRecordBatch` (and `decodeRecordV0`).
 * Skipped when the installed KafkaJS is not the version it matches, or when a fetch response
 * decoder already holds KafkaJS's own batch decoder.
 */
export function installBatchDecoder(next: Partial<DecoderLimits> = {}): { outcome: InstallOutcome; reason?: string } {
  setDecoderLimits(next);
  const mismatch = kafkajsMismatch('the decoder');
  if (mismatch) return { outcome: 'skipped', reason: mismatch };
  const batchPath = require.resolve(BATCH_MODULE);
  if (require.cache[batchPath]?.exports === decodeRecordBatch) return { outcome: 'already' };
  if (require.cache[require.resolve(FETCH_MESSAGES_MODULE)])
    return { outcome: 'skipped', reason: 'a KafkaJS consumer already loaded its own batch decoder' };
  const recordPath = require.resolve(RECORD_MODULE);
  require(recordPath);
  require.cache[recordPath]!.exports = decodeRecordV0;
  require(batchPath);
  require.cache[batchPath]!.exports = decodeRecordBatch;
  return { outcome: 'installed' };
}

/** KafkaJS's own batch decoder (a fresh copy of its module), for comparison in tests. */
export function kafkajsBatchDecoder(): (decoder: unknown) => Promise<{ records: DecodedRecord[] }> {
  const batchPath = require.resolve(BATCH_MODULE);
  const recordPath = require.resolve(RECORD_MODULE);
  const saved = [require.cache[batchPath], require.cache[recordPath]];
  delete require.cache[batchPath];
  delete require.cache[recordPath];
  try {
    return require(batchPath);
  } finally {
    if (saved[0]) require.cache[batchPath] = saved[0];
    else delete require.cache[batchPath];
    if (saved[1]) require.cache[recordPath] = saved[1];
    else delete require.cache[recordPath];
  }
}
export type { DecodedRecord } from './record-cursor.js';
export type { HeaderOverflow } from './record-reader.js';
