/**
 * The cursor the record reader (record-reader.ts) checks and reads a record batch with, and
 * the shapes of what it reads: a Kafka varint reader that allocates nothing, KafkaJS's batch
 * context and record, and offset arithmetic on decimal strings.
 */
/** The bytes end before what a length or count promised. */
export class Truncated extends Error {}

/** A cursor over a buffer that reads Kafka varints without allocating. */
export class Reader {
  constructor(
    public buf: Buffer,
    public at: number,
    /** Where the bytes this reader may read stop (moved on by readRecords, record by record). */
    public end: number,
  ) {}

  need(n: number): void {
    if (n < 0 || this.at + n > this.end) throw new Truncated('record runs past its batch');
  }

  int8(): number {
    this.need(1);
    return this.buf.readInt8(this.at++);
  }

  int32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.at);
    this.at += 4;
    return v;
  }

  /** Zig-zag varint of up to 32 bits. */
  varInt(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      this.need(1);
      const b = this.buf[this.at++]!;
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
      shift += 7;
      if (shift > 28) throw new Truncated('varint longer than 5 bytes');
    }
    return (result >>> 1) ^ -(result & 1);
  }

  /** Zig-zag varlong, as a bigint (timestamps deltas may use all 64 bits). */
  varLong(): bigint | number {
    // Fast path: fits in 7 bytes (49 bits) as a double.
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 7; i++) {
      this.need(1);
      const b = this.buf[this.at++]!;
      result += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
      mul *= 128;
    }
    let big = BigInt(result);
    let shift = 49n;
    for (;;) {
      this.need(1);
      const b = this.buf[this.at++]!;
      big |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
      shift += 7n;
      if (shift > 63n) throw new Truncated('varlong longer than 10 bytes');
    }
    big = BigInt.asUintN(64, big);
    return BigInt.asIntN(64, (big >> 1n) ^ -(big & 1n));
  }

  /** Passes a varlong, failing where `varLong` fails (past 10 bytes or past the end), without a bigint. */
  skipVarLong(): void {
    for (let i = 0; i < 10; i++) {
      this.need(1);
      if ((this.buf[this.at++]! & 0x80) === 0) return;
    }
    throw new Truncated('varlong longer than 10 bytes');
  }

  /** Varint-length bytes (a slice, no copy), or null for length -1. */
  bytes(): Buffer | null {
    const n = this.varInt();
    if (n < 0) return null;
    this.need(n);
    const v = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return v;
  }

  /** Passes varint-length bytes (or a string), failing where `bytes` fails. */
  skipBytes(): void {
    const n = this.varInt();
    if (n < 0) return;
    this.need(n);
    this.at += n;
  }

  string(): string | null {
    const n = this.varInt();
    if (n < 0) return null;
    this.need(n);
    const v = this.buf.toString('utf8', this.at, this.at + n);
    this.at += n;
    return v;
  }
}

export interface BatchContext {
  firstOffset: string;
  firstTimestamp: string;
  partitionLeaderEpoch: number;
  inTransaction: boolean;
  isControlBatch: boolean;
  lastOffsetDelta: number;
  producerId: string;
  producerEpoch: number;
  firstSequence: number;
  maxTimestamp: string;
  timestampType: number;
  magicByte?: number;
}

type HeaderValue = Buffer | null;
export type Headers = Record<string, HeaderValue | HeaderValue[]>;

/** A record as KafkaJS's record decoder returns it. */
export interface DecodedRecord {
  magicByte: number | undefined;
  attributes: number;
  timestamp: string;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Headers;
  isControlRecord: boolean;
  batchContext: BatchContext;
}

export function addInteger(base: string, delta: number | bigint, baseNumber = Number(base)): string {
  if (typeof delta === 'number' && Number.isSafeInteger(baseNumber) && Number.isSafeInteger(baseNumber + delta))
    return String(baseNumber + delta);
  return (BigInt(base) + BigInt(delta)).toString();
}
