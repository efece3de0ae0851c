/**
 * Records of a (decompressed) record batch, read in one pass with a cursor that allocates
 * nothing per varint, as KafkaJS's record decoder returns them; headers are read once into
 * own properties (never the prototype), and a record past the header caps gets an empty
 * object reported through `caps.overflowed` instead of its headers. batch-decoder.ts reads
 * the batch header, decompresses, and installs this into KafkaJS.
 */
/** LOG_APPEND_TIME batches carry the broker's time in maxTimestamp. */
export const LOG_APPEND_TIME = 1;
/** Header names listed in the summary of a record over the caps. */
const SUMMARY_NAMES = 5;

/** What a record over the header caps had: counted, never copied. */
export interface HeaderOverflow {
  count: number;
  bytes: number;
  /** The first few header names (truncated), for whoever looks at the dead letter. */
  names: string[];
}

export interface HeaderCaps {
  maxHeaders: number;
  maxHeaderBytes: number;
  /** Told of a record whose headers were over the caps (its headers object stays empty). */
  overflowed(headers: object, overflow: HeaderOverflow): void;
}

/** The bytes end before what a length or count promised. */
export class Truncated extends Error {}

/** A cursor over a buffer that reads Kafka varints without allocating. */
export class Reader {
  constructor(
    readonly buf: Buffer,
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

  /** Varint-length bytes (a slice, no copy), or null for length -1. */
  bytes(): Buffer | null {
    const n = this.varInt();
    if (n < 0) return null;
    this.need(n);
    const v = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return v;
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

/** The headers of one record, read in one pass; undefined past the caps (then skipped). */
function readHeaders(r: Reader, recordEnd: number, caps: HeaderCaps): Headers {
  const count = r.varInt();
  const headers: Headers = {};
  if (count <= 0) return headers;
  const { maxHeaders, maxHeaderBytes } = caps;
  const bytes = recordEnd - r.at;
  if (count > maxHeaders || bytes > maxHeaderBytes) {
    caps.overflowed(headers, { count, bytes, names: headerNames(r, Math.min(count, SUMMARY_NAMES)) });
    r.at = recordEnd;
    return headers;
  }
  for (let i = 0; i < count; i++) {
    const key = r.string() ?? 'null';
    const value = r.bytes();
    if (key === '__proto__') {
      // An own property, never the prototype (KafkaJS's decoder made it [Object.prototype, value]).
      const own = Object.hasOwn(headers, key) ? headers[key] : undefined;
      const next = own === undefined ? value : Array.isArray(own) ? [...own, value] : [own, value];
      Object.defineProperty(headers, key, { value: next, enumerable: true, writable: true, configurable: true });
      continue;
    }
    // Own properties only: KafkaJS's decoder turned a header named toString or constructor
    // into [Object.prototype.toString, value].
    const prev = Object.hasOwn(headers, key) ? headers[key] : undefined;
    if (prev === undefined) headers[key] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else headers[key] = [prev, value];
  }
  return headers;
}

function headerNames(r: Reader, n: number): string[] {
  const names: string[] = [];
  try {
    for (let i = 0; i < n; i++) {
      names.push((r.string() ?? 'null').slice(0, 64));
      r.bytes();
    }
  } catch {
    // A summary of what could be read.
  }
  return names;
}

/** A batch's first offset and timestamp, parsed once for all its records. */
interface Bases {
  offset: string;
  offsetNumber: number;
  timestamp: string;
  timestampNumber: number;
}

function basesOf(ctx: BatchContext): Bases {
  const offset = ctx.firstOffset ?? '0';
  const timestamp = ctx.firstTimestamp ?? '0';
  return { offset, offsetNumber: Number(offset), timestamp, timestampNumber: Number(timestamp) };
}

/**
 * A record's fields from its attributes to its headers (the length already read; `end` is
 * where the record stops). KafkaJS's single-record decoder gets a batch context whose
 * offsets may be missing: they count from 0 then.
 */
export function recordFrom(
  body: Reader,
  end: number,
  ctx: BatchContext,
  caps: HeaderCaps,
  bases: Bases = basesOf(ctx),
): DecodedRecord {
  const attributes = body.int8();
  const timestampDelta = body.varLong();
  const offsetDelta = body.varInt();
  const key = body.bytes();
  const value = body.bytes();
  const headers = readHeaders(body, end, caps);
  return {
    magicByte: ctx.magicByte,
    attributes,
    timestamp:
      ctx.timestampType === LOG_APPEND_TIME && ctx.maxTimestamp
        ? ctx.maxTimestamp
        : addInteger(bases.timestamp, timestampDelta, bases.timestampNumber),
    offset: addInteger(bases.offset, offsetDelta, bases.offsetNumber),
    key,
    value,
    headers,
    isControlRecord: ctx.isControlBatch ?? false,
    batchContext: ctx,
  };
}

/** The records of a batch, each read (its length varint first) with one cursor bound to its own bytes. */
export function readRecords(
  buf: Buffer,
  at: number,
  end: number,
  count: number,
  ctx: BatchContext,
  caps: HeaderCaps,
): DecodedRecord[] {
  const r = new Reader(buf, at, end);
  const body = new Reader(buf, at, end);
  const bases = basesOf(ctx);
  const records: DecodedRecord[] = [];
  for (let i = 0; i < count; i++) {
    const length = r.varInt();
    r.need(length);
    body.at = r.at;
    body.end = r.at + length;
    r.at = body.end;
    records.push(recordFrom(body, body.end, ctx, caps, bases));
  }
  return records;
}
