/**
 * A faster encoder for one Kafka record (record batch v2 format), swapped in for KafkaJS
 * 2.2.4's own. Written by hand: no library encodes a single record for KafkaJS.
 *
 * KafkaJS encodes each record through an `Encoder` that starts with a zero-filled 512-byte
 * buffer, does the same again for every header, and allocates an array and a Buffer for each
 * varint. Profiles of the processor put that encoding at ~17 % of its CPU time plus much of
 * its garbage. This one sizes the record first and writes it into one buffer (from Node's
 * pool), byte for byte what KafkaJS writes (test/kafka/record-encoder.test.ts compares them).
 *
 * KafkaJS loads `protocol/recordBatch/record/v0` lazily, from the produce request module,
 * the first time a producer sends. Installing puts this encoder in the module cache under
 * that name first, so every KafkaJS producer of this process uses it. It is only installed
 * for the KafkaJS version it was written against.
 */
import { createRequire } from 'node:module';
import { freshKafkajsModule, kafkajsMismatch } from './kafkajs-module.js';

const require = createRequire(import.meta.url);

/** What KafkaJS's record batch needs of an encoded record: its bytes in `buf` and `buffer`. */
export interface EncodedRecord {
  buf: Buffer;
  buffer: Buffer;
}

type HeaderValue = Buffer | string | null | undefined;

export interface RecordInput {
  offsetDelta?: number;
  timestampDelta?: number;
  key?: Buffer | string | null;
  value?: Buffer | string | null;
  headers?: Record<string, HeaderValue | HeaderValue[]>;
}

const RECORD_MODULE = 'kafkajs/src/protocol/recordBatch/record/v0/index.js';
const PRODUCE_V3_MODULE = 'kafkajs/src/protocol/requests/produce/v3/request.js';

/** Zig-zag of a 32-bit int, as KafkaJS computes it (for the same bytes). */
const zigZag32 = (v: number) => ((v << 1) ^ (v >> 31)) >>> 0;

function sizeOfUVarInt32(u: number): number {
  let bytes = 1;
  while ((u & 0xffffff80) !== 0) {
    bytes++;
    u >>>= 7;
  }
  return bytes;
}

/** Zig-zag of a 64-bit integer held in a double (exact below 2^52). */
function zigZag64(v: number): number {
  return v >= 0 ? v * 2 : -v * 2 - 1;
}

function sizeOfUVarLong(u: number): number {
  let bytes = 1;
  while (u >= 128) {
    bytes++;
    u = Math.floor(u / 128);
  }
  return bytes;
}

function writeUVarInt32(buf: Buffer, at: number, u: number): number {
  while ((u & 0xffffff80) !== 0) {
    buf[at++] = (u & 0x7f) | 0x80;
    u >>>= 7;
  }
  buf[at++] = u & 0x7f;
  return at;
}

function writeUVarLong(buf: Buffer, at: number, u: number): number {
  while (u >= 128) {
    buf[at++] = (u % 128) | 0x80;
    u = Math.floor(u / 128);
  }
  buf[at++] = u;
  return at;
}

/** A key, value or header value: its bytes, or null for a Kafka null. */
function bytesOf(v: Buffer | string | null | undefined): Buffer | string | null {
  if (v == null) return null;
  return Buffer.isBuffer(v) ? v : String(v);
}

const byteLengthOf = (v: Buffer | string) => (typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : v.length);

function sizeOfVarBytes(v: Buffer | string | null): number {
  if (v === null) return 1; // varint -1
  const n = byteLengthOf(v);
  return sizeOfUVarInt32(zigZag32(n)) + n;
}

function writeVarBytes(buf: Buffer, at: number, v: Buffer | string | null): number {
  if (v === null) return writeUVarInt32(buf, at, zigZag32(-1));
  if (typeof v === 'string') {
    const n = Buffer.byteLength(v, 'utf8');
    at = writeUVarInt32(buf, at, zigZag32(n));
    return at + buf.write(v, at, n, 'utf8');
  }
  at = writeUVarInt32(buf, at, zigZag32(v.length));
  // TypedArray#set: Buffer#copy makes a view of the source per call, a cost on small copies.
  buf.set(v, at);
  return at + v.length;
}

/**
 * The header section (count and pairs) of frozen header objects of strings, encoded once: the
 * processor hands the same frozen headers to every result of one verdict and reason.
 */
const frozenHeaders = new WeakMap<object, Buffer>();
/** A header count of zero (zig-zag varint 0). */
const NO_HEADERS = Buffer.from([0]);

function encodeHeaders(headers: Record<string, HeaderValue | HeaderValue[]>): Buffer {
  // Headers as KafkaJS flattens them: an array value is one header per element.
  const names: string[] = [];
  const values: (Buffer | string | null)[] = [];
  for (const name of Object.keys(headers)) {
    const v = headers[name];
    if (Array.isArray(v)) {
      for (const each of v) {
        names.push(name);
        values.push(bytesOf(each));
      }
    } else {
      names.push(name);
      values.push(bytesOf(v));
    }
  }
  if (names.length === 0) return NO_HEADERS;
  let size = sizeOfUVarInt32(zigZag32(names.length));
  for (let i = 0; i < names.length; i++) size += sizeOfVarBytes(names[i]!) + sizeOfVarBytes(values[i]!);
  const buf = Buffer.allocUnsafe(size);
  let at = writeUVarInt32(buf, 0, zigZag32(names.length));
  for (let i = 0; i < names.length; i++) {
    at = writeVarBytes(buf, at, names[i]!);
    at = writeVarBytes(buf, at, values[i]!);
  }
  return buf;
}

function headerSection(headers: Record<string, HeaderValue | HeaderValue[]> | undefined): Buffer {
  if (!headers) return NO_HEADERS;
  if (!Object.isFrozen(headers)) return encodeHeaders(headers);
  let encoded = frozenHeaders.get(headers);
  if (!encoded) {
    encoded = encodeHeaders(headers);
    // Only strings: a frozen object's Buffer values could still change.
    if (Object.values(headers).every((v) => typeof v === 'string')) frozenHeaders.set(headers, encoded);
  }
  return encoded;
}

/**
 * A record sized, not yet written: the batch encoder (record-batch.ts) writes it in place in
 * its batch, without a buffer of its own and a copy from it.
 */
export class MeasuredRecord {
  constructor(
    private readonly key: Buffer | string | null,
    private readonly value: Buffer | string | null,
    private readonly headers: Buffer,
    private readonly ts: number,
    private readonly timestampBig: boolean,
    private readonly tsZigZag: number,
    private readonly offsetZigZag: number,
    private readonly bodyZigZag: number,
    /** Its bytes, length varint included. */
    readonly size: number,
  ) {}

  /** Writes the record at `at`; where it ends. */
  writeTo(buf: Buffer, at: number): number {
    const start = at;
    at = writeUVarInt32(buf, at, this.bodyZigZag);
    buf[at++] = 0;
    at = this.timestampBig ? writeBigVarLong(buf, at, this.ts) : writeUVarLong(buf, at, this.tsZigZag);
    at = writeUVarInt32(buf, at, this.offsetZigZag);
    at = writeVarBytes(buf, at, this.key);
    at = writeVarBytes(buf, at, this.value);
    buf.set(this.headers, at);
    at += this.headers.length;
    if (at - start !== this.size) throw new Error(`record encoder wrote ${at - start} of ${this.size} bytes`);
    return at;
  }
}

/** Sizes a record as KafkaJS 2.2.4's `recordBatch/record/v0` encodes it. */
export function measureRecord({
  offsetDelta = 0,
  timestampDelta = 0,
  key,
  value,
  headers,
}: RecordInput): MeasuredRecord {
  const keyBytes = bytesOf(key);
  const valueBytes = bytesOf(value);
  const headerBytes = headerSection(headers);
  const ts = Math.trunc(Number(timestampDelta));
  const timestampBig = !(Math.abs(ts) < 2 ** 51);
  const tsZigZag = timestampBig ? 0 : zigZag64(ts);
  const offsetZigZag = zigZag32(offsetDelta);
  const body =
    1 + // attributes
    (timestampBig ? sizeOfBigVarLong(ts) : sizeOfUVarLong(tsZigZag)) +
    sizeOfUVarInt32(offsetZigZag) +
    sizeOfVarBytes(keyBytes) +
    sizeOfVarBytes(valueBytes) +
    headerBytes.length;
  const bodyZigZag = zigZag32(body);
  return new MeasuredRecord(
    keyBytes,
    valueBytes,
    headerBytes,
    ts,
    timestampBig,
    tsZigZag,
    offsetZigZag,
    bodyZigZag,
    sizeOfUVarInt32(bodyZigZag) + body,
  );
}

/** One record, encoded as KafkaJS 2.2.4's `recordBatch/record/v0` encodes it. */
export function encodeRecord(input: RecordInput): EncodedRecord {
  const record = measureRecord(input);
  const buf = Buffer.allocUnsafe(record.size);
  record.writeTo(buf, 0);
  return { buf, buffer: buf };
}

// Deltas beyond ±2^51 ms (never seen in practice) take the exact BigInt path.
function bigZigZag(v: number): bigint {
  const b = BigInt.asIntN(64, BigInt(v));
  return BigInt.asUintN(64, (b << 1n) ^ (b >> 63n));
}

function sizeOfBigVarLong(v: number): number {
  let u = bigZigZag(v);
  let bytes = 1;
  while (u >= 128n) {
    bytes++;
    u >>= 7n;
  }
  return bytes;
}

function writeBigVarLong(buf: Buffer, at: number, v: number): number {
  let u = bigZigZag(v);
  while (u >= 128n) {
    buf[at++] = Number(u & 0x7fn) | 0x80;
    u >>= 7n;
  }
  buf[at++] = Number(u);
  return at;
}

export type InstallOutcome = 'installed' | 'already' | 'skipped';

/**
 * Makes KafkaJS producers of this process use `encodeRecord`. Skipped (KafkaJS's own
 * encoder stays) when the installed KafkaJS is not the version it matches, or when a
 * producer already loaded KafkaJS's record encoder.
 */
export function installRecordEncoder(): { outcome: InstallOutcome; reason?: string } {
  const mismatch = kafkajsMismatch('the encoder');
  if (mismatch) return { outcome: 'skipped', reason: mismatch };
  const recordPath = require.resolve(RECORD_MODULE);
  const cached = require.cache[recordPath];
  if (cached?.exports === encodeRecord) return { outcome: 'already' };
  if (require.cache[require.resolve(PRODUCE_V3_MODULE)])
    return { outcome: 'skipped', reason: 'a KafkaJS producer already loaded its own record encoder' };
  // Load KafkaJS's module normally (so the cache entry is a real module), then swap its exports.
  require(recordPath);
  require.cache[recordPath]!.exports = encodeRecord;
  return { outcome: 'installed' };
}

/** KafkaJS's own record encoder (a fresh copy of its module), for comparison in tests. */
export function kafkajsRecordEncoder(): (input: RecordInput) => { buffer: Buffer } {
  return freshKafkajsModule(RECORD_MODULE);
}
