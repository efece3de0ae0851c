/**
 * Records of a (decompressed) record batch, checked in one pass at decode time and read
 * lazily. batch-decoder.ts reads the batch header, decompresses, and installs this into
 * KafkaJS.
 *
 * Why lazily: a fetch brings some 10k records (128 KB per partition × 12 partitions) and the
 * partition window takes 500 of a partition's at a time, so fetched records wait 50–300 ms
 * in KafkaJS batches. Read eagerly, as KafkaJS's decoder does, each one was a message object,
 * a Buffer view for its key, its value and every header value, a headers object and two
 * strings: in a sampling heap profile of the live objects mid-backlog, 72 % of the sampled
 * heap (the views alone 43 %). They outlived young-generation collections, so the scavenger
 * copied them and promoted them (~400 KB a scavenge; the collector was 18 % of the
 * processor's busy time over a 400k-event backlog). A `FetchedRecord` holds the batch, its
 * position and its offset delta (~108 bytes of heap unread, against ~530 for KafkaJS's
 * record of a sign-up with a trace header); `key`, `value`, `headers`, `timestamp` and
 * `offset` are read on first access and kept, so a second access returns the same object
 * (the marks of batch-decoder.ts are keyed by the headers object).
 *
 * Only some 5k records of a backlog are unread at a time, though: the batch loop dispatches
 * a batch's records soon after the fetch, and KafkaJS's batch keeps every record, read or
 * not, until the loop ends. So the processor also `release`s a record once it is routed,
 * dropping what was read from it, and KafkaJS's batch compares offsets without making
 * their strings (`safeOffset`, consumer-batch.ts). Together (quick bench runs, 400k events,
 * Node 24, --trace-gc-nvp over the whole run, five of each) the bytes promoted per
 * scavenge went from 1,020–1,090 KB to 740–955 KB, those surviving one from ~1,340 KB to
 * ~1,100 KB, the scavenges' pauses ~17 % down; as many scavenges (every record is read in
 * the end, so as much is allocated), and events/s and CPU per event within the machine's
 * noise.
 *
 * The checks stay eager: at decode time every varint, length and bound of the record is
 * checked without allocating, and the header caps are applied, so a malformed record still
 * fails its batch there (`Truncated`) and a record past the caps gets an empty headers
 * object reported through `caps.overflowed` at once. Reading a checked record cannot fail.
 * Headers are read into own properties (never the prototype).
 *
 * The fields are getters on the prototype: `{ ...record }`, `Object.keys(record)` and
 * deep-equality matchers see none of them (nothing in src/ or in KafkaJS's consumer does
 * either; `toJSON` gives the plain fields).
 *
 * The checking pass and the reads on access must agree on every byte, so they stay side by
 * side here; the cursor both use, and the record's types, are in record-cursor.ts.
 */
import { addInteger, type BatchContext, type DecodedRecord, type Headers, Reader } from './record-cursor.js';

const EMPTY = Buffer.alloc(0);

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

/**
 * Checks the headers of one record (count, then each name and value within the record),
 * allocating nothing. Past the caps, returns the empty headers object it reported instead;
 * otherwise undefined (they are read on first access).
 */
function checkHeaders(r: Reader, recordEnd: number, caps: HeaderCaps): Headers | undefined {
  const count = r.varInt();
  if (count <= 0) return undefined;
  const bytes = recordEnd - r.at;
  if (count > caps.maxHeaders || bytes > caps.maxHeaderBytes) {
    const headers: Headers = {};
    caps.overflowed(headers, { count, bytes, names: headerNames(r, Math.min(count, SUMMARY_NAMES)) });
    r.at = recordEnd;
    return headers;
  }
  for (let i = 0; i < count; i++) {
    r.skipBytes();
    r.skipBytes();
  }
  return undefined;
}

/** The headers of one checked record, read in one pass. */
function readHeaders(r: Reader): Headers {
  const count = r.varInt();
  const headers: Headers = {};
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

/**
 * What the records of one batch share: the bytes, the context, the first offset and
 * timestamp parsed once. KafkaJS's single-record decoder gets a batch context whose offsets
 * may be missing: they count from 0 then.
 */
class FetchedBatch {
  readonly offset: string;
  readonly offsetNumber: number;
  readonly timestamp: string;
  readonly timestampNumber: number;
  /** A LOG_APPEND_TIME batch's time (the broker's), which is each of its records' time. */
  readonly appendTime: string | undefined;

  constructor(
    readonly buf: Buffer,
    readonly ctx: BatchContext,
  ) {
    this.offset = ctx.firstOffset ?? '0';
    this.offsetNumber = Number(this.offset);
    this.timestamp = ctx.firstTimestamp ?? '0';
    this.timestampNumber = Number(this.timestamp);
    this.appendTime = ctx.timestampType === LOG_APPEND_TIME && ctx.maxTimestamp ? ctx.maxTimestamp : undefined;
  }
}

/** Headers objects set at decode time (over the caps, marked), which `release` keeps. */
const MARKED = new WeakSet<Headers>();

/** Not read yet (null is a value: a null key, value or header). */
const UNREAD: unique symbol = Symbol('unread');
type Lazy<T> = T | typeof UNREAD;

/**
 * One cursor for reading checked records on access (reads are synchronous). It drops its
 * buffer after each read, so it keeps no batch alive.
 */
const cursor = new Reader(EMPTY, 0, 0);

function cursorAt(buf: Buffer, at: number): Reader {
  cursor.buf = buf;
  cursor.at = at;
  cursor.end = buf.length;
  return cursor;
}

function released<T>(v: T): T {
  cursor.buf = EMPTY;
  return v;
}

/**
 * A checked record of a fetched batch, read on access: the fields of KafkaJS's record
 * decoder, as getters (each read once, then kept) with setters for whoever assigns them.
 */
export class FetchedRecord implements DecodedRecord {
  readonly #batch: FetchedBatch;
  /** Where the record's attributes are (its length read). */
  readonly #at: number;
  /** Where its key's length is. */
  readonly #keyAt: number;
  readonly #offsetDelta: number;
  #key: Lazy<Buffer | null> = UNREAD;
  #value: Lazy<Buffer | null> = UNREAD;
  #headers: Lazy<Headers> = UNREAD;
  #timestamp: Lazy<string> = UNREAD;
  #offset: Lazy<string> = UNREAD;

  /** Checks the record `r` is at (to `end`) and leaves `r` past what it read; throws `Truncated`. */
  constructor(batch: FetchedBatch, r: Reader, end: number, caps: HeaderCaps) {
    this.#batch = batch;
    this.#at = r.at;
    r.need(1); // attributes
    r.at++;
    r.skipVarLong(); // timestamp delta
    this.#offsetDelta = r.varInt();
    this.#keyAt = r.at;
    r.skipBytes(); // key
    r.skipBytes(); // value
    const overflowed = checkHeaders(r, end, caps);
    if (overflowed) {
      this.#headers = overflowed;
      MARKED.add(overflowed);
    }
  }

  /**
   * Drops what was read (key, value, headers, the strings): the reader is done with the record, and the
   * batch's arrays, which keep it until the batch loop ends, need not keep those alive too.
   * A later access reads them again (the same bytes, new objects); headers over the caps stay
   * (their mark is keyed by that object).
   */
  release(): void {
    this.#offset = UNREAD;
    this.#timestamp = UNREAD;
    this.#key = UNREAD;
    this.#value = UNREAD;
    if (this.#headers !== UNREAD && !MARKED.has(this.#headers)) this.#headers = UNREAD;
  }

  get magicByte(): number | undefined {
    return this.#batch.ctx.magicByte;
  }

  get attributes(): number {
    return this.#batch.buf.readInt8(this.#at);
  }

  get timestamp(): string {
    if (this.#timestamp === UNREAD) {
      const b = this.#batch;
      this.#timestamp =
        b.appendTime ?? addInteger(b.timestamp, released(cursorAt(b.buf, this.#at + 1).varLong()), b.timestampNumber);
    }
    return this.#timestamp;
  }

  set timestamp(v: string) {
    this.#timestamp = v;
  }

  get offset(): string {
    if (this.#offset === UNREAD) {
      const b = this.#batch;
      this.#offset = addInteger(b.offset, this.#offsetDelta, b.offsetNumber);
    }
    return this.#offset;
  }

  set offset(v: string) {
    this.#offset = v;
  }

  /**
   * The offset as a number when it is one exactly (below 2^53), else NaN; without making
   * its string (KafkaJS's batch compares every fetched record's offset before any is read).
   */
  safeOffset(): number {
    const b = this.#batch;
    const n = b.offsetNumber + this.#offsetDelta;
    return this.#offset === UNREAD && Number.isSafeInteger(b.offsetNumber) && Number.isSafeInteger(n) ? n : Number.NaN;
  }

  get key(): Buffer | null {
    if (this.#key === UNREAD) this.#key = released(cursorAt(this.#batch.buf, this.#keyAt).bytes());
    return this.#key;
  }

  set key(v: Buffer | null) {
    this.#key = v;
  }

  get value(): Buffer | null {
    if (this.#value === UNREAD) this.#value = this.peekValue();
    return this.#value;
  }

  set value(v: Buffer | null) {
    this.#value = v;
  }

  /** The value without keeping it (for a look at its framing before the record's turn). */
  peekValue(): Buffer | null {
    if (this.#value !== UNREAD) return this.#value;
    const r = cursorAt(this.#batch.buf, this.#keyAt);
    r.skipBytes();
    return released(r.bytes());
  }

  get headers(): Headers {
    if (this.#headers === UNREAD) {
      const r = cursorAt(this.#batch.buf, this.#keyAt);
      r.skipBytes();
      r.skipBytes();
      this.#headers = released(readHeaders(r));
    }
    return this.#headers;
  }

  set headers(v: Headers) {
    this.#headers = v;
  }

  get isControlRecord(): boolean {
    return this.#batch.ctx.isControlBatch ?? false;
  }

  get batchContext(): BatchContext {
    return this.#batch.ctx;
  }

  [Symbol.for('nodejs.util.inspect.custom')](
    _depth: number,
    options: object,
    inspect: (v: unknown, o: object) => string,
  ): string {
    return `FetchedRecord ${inspect(this.toJSON(), options)}`;
  }

  /** The fields as a plain object, as KafkaJS's decoder returns them (and as JSON shows them). */
  toJSON(): DecodedRecord {
    return {
      magicByte: this.magicByte,
      attributes: this.attributes,
      timestamp: this.timestamp,
      offset: this.offset,
      key: this.key,
      value: this.value,
      headers: this.headers,
      isControlRecord: this.isControlRecord,
      batchContext: this.batchContext,
    };
  }
}

/** A fetched record's value, without keeping it in the record when it was not read yet. */
export function peekValue(m: { value: Buffer | null }): Buffer | null {
  return m instanceof FetchedRecord ? m.peekValue() : m.value;
}

/** Tells a fetched record its reader is done with it (`FetchedRecord.release`); other records are left alone. */
export function releaseRecord(m: object): void {
  if (m instanceof FetchedRecord) m.release();
}

/**
 * One record whose length was read, `r` at its attributes and `end` where it stops (for
 * KafkaJS's single-record decoder); `r` is left past what the record used.
 */
export function readRecord(r: Reader, end: number, ctx: BatchContext, caps: HeaderCaps): FetchedRecord {
  return new FetchedRecord(new FetchedBatch(r.buf, ctx), r, end, caps);
}

/** The records of a batch, each checked (its length varint first) with one cursor bound to its own bytes. */
export function readRecords(
  buf: Buffer,
  at: number,
  end: number,
  count: number,
  ctx: BatchContext,
  caps: HeaderCaps,
): FetchedRecord[] {
  const r = new Reader(buf, at, end);
  const body = new Reader(buf, at, end);
  const batch = new FetchedBatch(buf, ctx);
  const records: FetchedRecord[] = [];
  for (let i = 0; i < count; i++) {
    const length = r.varInt();
    r.need(length);
    body.at = r.at;
    body.end = r.at + length;
    r.at = body.end;
    records.push(new FetchedRecord(batch, body, body.end, caps));
  }
  return records;
}
