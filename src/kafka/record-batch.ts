/**
 * A faster record batch encoder (Kafka record batch v2, uncompressed) and a native CRC-32C,
 * swapped in for KafkaJS 2.2.4's own, as record-encoder.ts swaps the record encoder.
 *
 * KafkaJS builds a batch through three growing, zero-filled `Encoder`s, copying every
 * record's bytes three times, and checksums it with a CRC-32C in JavaScript that reads one
 * byte at a time (~3 ns a byte: a tenth of the processor's CPU time in profiles, results
 * being a few hundred bytes). This one sizes the batch first, copies each record once into
 * one buffer and checksums it with `@node-rs/crc32` (hardware CRC-32C; KafkaJS's own when
 * the native module cannot load). Byte for byte what KafkaJS writes
 * (test/kafka/record-batch.test.ts compares them). A compressed batch is left to KafkaJS
 * (with the faster checksum).
 *
 * Both modules load lazily, the first time a producer sends (the checksum also at the first
 * fetch). Installing puts these in the module cache first; only for the KafkaJS version they
 * were written against.
 */
import { createRequire } from 'node:module';
import { kafkajsMismatch } from './kafkajs-module.js';
import { MeasuredRecord } from './record-encoder.js';

const require = createRequire(import.meta.url);

const BATCH_MODULE = 'kafkajs/src/protocol/recordBatch/v0/index.js';
const CRC_MODULE = 'kafkajs/src/protocol/recordBatch/crc32C/index.js';
const ENCODER_MODULE = 'kafkajs/src/protocol/encoder.js';

interface KafkaEncoder {
  buf: Buffer;
  offset: number;
  readonly buffer: Buffer;
  size(): number;
  writeInt8(v: number): KafkaEncoder;
  writeInt16(v: number): KafkaEncoder;
  writeInt32(v: number): KafkaEncoder;
  writeUInt32(v: number): KafkaEncoder;
  writeInt64(v: unknown): KafkaEncoder;
}
type EncoderClass = new (initialSize?: number) => KafkaEncoder;

export interface RecordBatchInput {
  compression?: number;
  firstOffset?: unknown;
  firstTimestamp?: number | string;
  maxTimestamp?: number | string;
  partitionLeaderEpoch?: number;
  lastOffsetDelta?: number;
  transactional?: boolean;
  producerId?: unknown;
  producerEpoch?: number;
  firstSequence?: number;
  /** KafkaJS's encoded records, or records measured to be written in place (`MeasuredRecord`). */
  records?: ({ buf?: unknown; buffer?: Buffer } | MeasuredRecord)[];
}
type RecordBatchFn = (input: RecordBatchInput) => Promise<KafkaEncoder>;

const MAGIC_BYTE = 2;
const COMPRESSION_CODEC_MASK = 0x07;
const TRANSACTIONAL_MASK = 16;

function nativeCrc32c(): ((data: Buffer) => number) | undefined {
  try {
    const { crc32c } = require('@node-rs/crc32') as { crc32c(data: Buffer): number };
    return (data) => crc32c(data) >>> 0;
  } catch {
    return undefined;
  }
}

const native = nativeCrc32c();
/** Whether the native CRC-32C loaded (it ships prebuilt for the usual platforms). */
export const CRC32C_IS_NATIVE = native !== undefined;
/** CRC-32C (Castagnoli) as an unsigned 32-bit integer: native when it loads, else KafkaJS's. */
export const crc32c: (data: Buffer) => number = native ?? (require(CRC_MODULE) as (data: Buffer) => number);

/**
 * Makes the record batch function: uncompressed batches written here, compressed ones (or
 * records not already encoded) handed to `fallback`, KafkaJS's own.
 */
function recordBatchEncoder(Encoder: EncoderClass, fallback: RecordBatchFn): RecordBatchFn {
  return async (input) => {
    const { compression = 0, records = [] } = input;
    const codec = compression & COMPRESSION_CODEC_MASK;
    let recordBytes = 0;
    let measured = false;
    for (const r of records) {
      if (r instanceof MeasuredRecord) {
        measured = true;
        recordBytes += r.size;
      } else if (typeof r === 'object' && r !== null && Buffer.isBuffer(r.buf)) recordBytes += r.buffer!.length;
      else return fallback(input);
    }
    if (codec !== 0) {
      // KafkaJS compresses encoded records: write the measured ones out first.
      if (!measured) return fallback(input);
      return fallback({ ...input, records: records.map((r) => (r instanceof MeasuredRecord ? encoded(r) : r)) });
    }
    const now = Date.now();
    const {
      firstOffset = 0,
      firstTimestamp = now,
      maxTimestamp = now,
      partitionLeaderEpoch = 0,
      lastOffsetDelta = 0,
      transactional = false,
      producerId = -1,
      producerEpoch = 0,
      firstSequence = 0,
    } = input;
    // The body, from attributes to the records count (36 + 4 bytes), written by KafkaJS's
    // Encoder, which takes every form of int64 KafkaJS passes (number, string, Long).
    const head = new Encoder(64)
      .writeInt16(codec | (transactional ? TRANSACTIONAL_MASK : 0))
      .writeInt32(lastOffsetDelta)
      .writeInt64(firstTimestamp)
      .writeInt64(maxTimestamp)
      .writeInt64(producerId)
      .writeInt16(producerEpoch)
      .writeInt32(firstSequence)
      .writeInt32(records.length).buffer;
    const bodyBytes = head.length + recordBytes;
    // firstOffset int64, length int32, partitionLeaderEpoch int32, magic int8, crc uint32.
    const prefix = new Encoder(32)
      .writeInt64(firstOffset)
      .writeInt32(4 + 1 + 4 + bodyBytes)
      .writeInt32(partitionLeaderEpoch)
      .writeInt8(MAGIC_BYTE).buffer;
    const buf = Buffer.allocUnsafe(prefix.length + 4 + bodyBytes);
    // TypedArray#set: Buffer#copy makes a view of the source per call, a cost on small copies.
    buf.set(prefix, 0);
    const bodyAt = prefix.length + 4;
    buf.set(head, bodyAt);
    let at = bodyAt + head.length;
    for (const r of records) {
      if (r instanceof MeasuredRecord) at = r.writeTo(buf, at);
      else {
        buf.set(r.buffer!, at);
        at += r.buffer!.length;
      }
    }
    buf.writeUInt32BE(crc32c(buf.subarray(bodyAt, at)), prefix.length);
    const out = new Encoder(0);
    out.buf = buf;
    out.offset = buf.length;
    return out;
  };
}

function encoded(r: MeasuredRecord): { buf: Buffer; buffer: Buffer } {
  const buf = Buffer.allocUnsafe(r.size);
  r.writeTo(buf, 0);
  return { buf, buffer: buf };
}

/** Whether `fn` is this module's batch encoder (it writes `MeasuredRecord`s in place). */
export function writesMeasuredRecords(fn: unknown): boolean {
  return installed !== undefined && fn === installed.RecordBatch;
}

export type InstallOutcome = 'installed' | 'already' | 'skipped';

let installed: { RecordBatch: RecordBatchFn; MAGIC_BYTE: number } | undefined;

/**
 * Makes KafkaJS producers of this process use the batch encoder and native CRC-32C. Skipped
 * when the installed KafkaJS is not the version it matches, or when a producer or consumer
 * already loaded KafkaJS's record batch module.
 */
export function installRecordBatchEncoder(): { outcome: InstallOutcome; reason?: string } {
  const mismatch = kafkajsMismatch('the batch encoder');
  if (mismatch) return { outcome: 'skipped', reason: mismatch };
  const batchPath = require.resolve(BATCH_MODULE);
  if (installed && require.cache[batchPath]?.exports === installed) return { outcome: 'already' };
  if (require.cache[batchPath])
    return { outcome: 'skipped', reason: 'KafkaJS already loaded its own record batch encoder' };
  // Load KafkaJS's modules normally (so the cache entries are real modules), then swap exports:
  // the checksum first, so KafkaJS's own batch encoder (kept for compressed batches) uses it.
  const crcPath = require.resolve(CRC_MODULE);
  require(crcPath);
  require.cache[crcPath]!.exports = crc32c;
  const original = require(batchPath) as { RecordBatch: RecordBatchFn; MAGIC_BYTE: number };
  const Encoder = require(ENCODER_MODULE) as EncoderClass;
  installed = { RecordBatch: recordBatchEncoder(Encoder, original.RecordBatch), MAGIC_BYTE: original.MAGIC_BYTE };
  require.cache[batchPath]!.exports = installed;
  return { outcome: 'installed' };
}

/** KafkaJS's own record batch encoder and checksum (fresh copies of their modules), for tests. */
export function kafkajsRecordBatch(): { RecordBatch: RecordBatchFn; crc32C: (data: Buffer) => number } {
  const paths = [require.resolve(BATCH_MODULE), require.resolve(CRC_MODULE)];
  const saved = paths.map((p) => require.cache[p]);
  for (const p of paths) delete require.cache[p];
  try {
    const { RecordBatch } = require(paths[0]!) as { RecordBatch: RecordBatchFn };
    return { RecordBatch, crc32C: require(paths[1]!) as (data: Buffer) => number };
  } finally {
    paths.forEach((p, i) => {
      if (saved[i]) require.cache[p] = saved[i];
      else delete require.cache[p];
    });
  }
}

/** The batch encoder of this module over KafkaJS's Encoder (whether or not it is installed), for tests. */
export function ownRecordBatch(): RecordBatchFn {
  const Encoder = require(ENCODER_MODULE) as EncoderClass;
  return recordBatchEncoder(Encoder, kafkajsRecordBatch().RecordBatch);
}
