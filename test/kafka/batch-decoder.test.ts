import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type DecodedRecord,
  decodeRecordBatch,
  headerOverflow,
  installBatchDecoder,
  kafkajsBatchDecoder,
  setDecoderLimits,
  undecodableBatch,
} from '../../src/kafka/batch-decoder.js';
import {
  CODECS,
  DecompressError,
  decompress,
  kafkajsCodecs,
  registerCompressionCodecs,
} from '../../src/kafka/compression.js';
import { encodeRecord, type RecordInput } from '../../src/kafka/record-encoder.js';
import { releaseRecord } from '../../src/kafka/record-reader.js';

const require = createRequire(import.meta.url);
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (buf: Buffer) => unknown;
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as {
  RecordBatch: (o: object) => Promise<{ buffer: Buffer }>;
};
const original = kafkajsBatchDecoder();
const codecTable = kafkajsCodecs();
const builtinCodecs = { ...codecTable };
registerCompressionCodecs();

type Codec = keyof typeof CODECS;

/** A record batch as a producer writes it (KafkaJS's own batch encoder, with our codecs). */
async function batch(records: RecordInput[], codec: Codec = 'none', firstOffset = 1000): Promise<Buffer> {
  const encoded = records.map((r, i) => encodeRecord({ offsetDelta: i, ...r }));
  const Long = require('kafkajs/src/utils/long.js') as { fromNumber(n: number): unknown };
  const b = await RecordBatch({
    compression: CODECS[codec],
    firstOffset: Long.fromNumber(firstOffset),
    firstTimestamp: 1_700_000_000_000,
    maxTimestamp: 1_700_000_000_000 + records.length,
    lastOffsetDelta: records.length - 1,
    records: encoded,
  });
  return b.buffer;
}

const ours = (buf: Buffer) => decodeRecordBatch(new Decoder(buf) as never);
const theirs = (buf: Buffer) => original(new Decoder(buf));
/** The fields of a record KafkaJS's decoder returns (the first test checks the list is whole). */
const FIELDS = [
  'magicByte',
  'attributes',
  'timestamp',
  'offset',
  'key',
  'value',
  'headers',
  'isControlRecord',
  'batchContext',
] as const;
/** A plain copy of each record, field by field: ours are read through getters, KafkaJS's are own properties. */
const plain = (records: DecodedRecord[]) =>
  records.map((r) => {
    const copy: Record<string, unknown> = {};
    for (const f of FIELDS) copy[f] = r[f];
    return { ...copy, headers: { ...r.headers }, batchContext: undefined };
  });

const sample: RecordInput[] = [
  { key: 'user-1', value: JSON.stringify({ email: 'a@example.com' }), headers: { 'content-type': 'application/json' } },
  { key: null, value: Buffer.alloc(3000, 'abc'), headers: { a: ['1', '2', '3'], b: Buffer.from([0, 1]) } },
  { key: Buffer.from([1, 2, 3]), value: null, headers: {}, timestampDelta: 5 },
];

describe('batch decoder', () => {
  it('returns what KafkaJS 2.2.4 returns, uncompressed and gzip', async () => {
    for (const codec of ['none', 'gzip'] as const) {
      const buf = await batch(sample, codec);
      const a = await ours(buf);
      const b = await theirs(buf);
      for (const r of b.records) expect(Object.keys(r).sort()).toEqual([...FIELDS].sort());
      expect(plain(a.records)).toEqual(plain(b.records));
      expect(a.records.map((r) => r.batchContext)).toEqual(b.records.map((r) => r.batchContext));
      expect({ ...a, records: undefined }).toEqual({ ...b, records: undefined });
    }
  });

  it('matches KafkaJS for any key, value and headers', async () => {
    const bytes = fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a));
    const rec = fc.record({
      key: fc.oneof(bytes, fc.constant(null)),
      value: fc.oneof(bytes, fc.string(), fc.constant(null)),
      timestampDelta: fc.integer({ min: -1_000_000, max: 10_000_000 }),
      headers: fc.dictionary(
        // Names of Object.prototype's members aside: KafkaJS mangles those (see the next test).
        fc.string({ minLength: 1, maxLength: 20 }).filter((k) => !(k in Object.prototype)),
        fc.oneof(bytes, fc.array(bytes, { minLength: 1, maxLength: 3 })),
        { maxKeys: 5 },
      ),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(rec, { minLength: 1, maxLength: 5 }), async (records) => {
        const buf = await batch(records);
        expect(plain((await ours(buf)).records)).toEqual(plain((await theirs(buf)).records));
      }),
      { numRuns: 300 },
    );
  });

  it('slices no key, value or header value at decode time; each on first access, once, as KafkaJS does', async () => {
    const buf = await batch(sample);
    const want = plain((await theirs(buf)).records);
    const views: number[] = [];
    buf.subarray = function (this: Buffer, start?: number, end?: number) {
      views.push(start ?? 0);
      return Buffer.prototype.subarray.call(this, start, end);
    };
    const { records } = await ours(buf);
    expect(records).toHaveLength(3);
    expect(views).toEqual([]);
    const r = records[1]!;
    const value = r.value;
    expect(views).toHaveLength(1);
    expect(r.value).toBe(value);
    // A slice of the fetched bytes, as KafkaJS's (not a copy).
    expect(value!.buffer).toBe(buf.buffer);
    const headers = r.headers;
    expect(r.headers).toBe(headers);
    expect(views).toHaveLength(1 + 4); // a: three values, b: one
    expect(r.key).toBeNull();
    expect(plain(records)).toEqual(want);
    expect(JSON.parse(JSON.stringify(records))).toEqual(JSON.parse(JSON.stringify((await theirs(buf)).records)));
  });

  it('still finds a malformed record and a record over the header caps at decode time', async () => {
    const buf = await batch([{ key: 'k', value: 'v', headers: { h: 'VVVV' } }, ...sample], 'none', 20);
    const at = buf.indexOf('VVVV');
    expect(buf[at - 1]).toBe(8); // zig-zag 4: the header value's length
    buf[at - 1] = 126; // 63 bytes: past the end of the record
    const { records } = await ours(buf);
    expect(records).toHaveLength(1);
    expect(undecodableBatch(records[0]!.headers)).toMatchObject({ firstOffset: '20', lastOffset: '23' });
    expect(undecodableBatch(records[0]!.headers)!.reason).toMatch(/past its batch/);

    // The caps in force when the batch is decoded decide, not those when the headers are read.
    setDecoderLimits({ maxHeaders: 2 });
    let over: DecodedRecord[];
    try {
      over = (await ours(await batch(sample))).records;
    } finally {
      setDecoderLimits({ maxHeaders: 256 });
    }
    expect(headerOverflow(over[1]!.headers)).toMatchObject({ count: 4, names: ['a', 'a', 'a', 'b'] });
    expect(Object.keys(over[1]!.headers)).toHaveLength(0);
    expect(headerOverflow(over[0]!.headers)).toBeUndefined();
  });

  it('drops what was read from a released record and reads the same bytes again; headers over the caps stay', async () => {
    const buf = await batch(sample);
    const want = plain((await theirs(buf)).records);
    const { records } = await ours(buf);
    const r = records[1]!;
    const value = r.value;
    const headers = r.headers;
    const { offset, timestamp } = r;
    releaseRecord(r);
    expect([r.offset, r.timestamp]).toEqual([offset, timestamp]);
    expect(r.value).not.toBe(value);
    expect(r.headers).not.toBe(headers);
    expect(plain(records)).toEqual(want);

    setDecoderLimits({ maxHeaders: 2 });
    let over: DecodedRecord;
    try {
      over = (await ours(await batch(sample))).records[1]!;
    } finally {
      setDecoderLimits({ maxHeaders: 256 });
    }
    const marked = over.headers;
    releaseRecord(over);
    expect(over.headers).toBe(marked);
    expect(headerOverflow(over.headers)).toMatchObject({ count: 4 });

    // The stand-in of an undecodable batch is a plain record: left as it is.
    const unknown = await batch(sample, 'none', 7);
    unknown.writeInt16BE(unknown.readInt16BE(21) | 0x07, 21);
    const standIn = (await ours(unknown)).records[0]!;
    const standInHeaders = standIn.headers;
    releaseRecord(standIn);
    expect(standIn.headers).toBe(standInHeaders);
    expect(undecodableBatch(standIn.headers)).toMatchObject({ codec: 'unknown(7)' });
  });

  it('keeps headers named __proto__, toString or constructor as headers', async () => {
    const headers = { ['__proto__']: ['x', 'y'], toString: 't', constructor: 'c' };
    const { records } = await ours(await batch([{ key: null, value: 'v', headers }]));
    const h = records[0]!.headers;
    expect(Object.getPrototypeOf(h)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(h, '__proto__')?.value).toEqual([Buffer.from('x'), Buffer.from('y')]);
    expect(h.toString).toEqual(Buffer.from('t'));
    expect(h.constructor).toEqual(Buffer.from('c'));
  });

  it('decodes snappy, lz4 and zstd, which KafkaJS refuses', async () => {
    const want = plain((await theirs(await batch(sample))).records);
    for (const codec of ['snappy', 'lz4', 'zstd'] as const) {
      const buf = await batch(sample, codec);
      Object.assign(codecTable, builtinCodecs);
      try {
        await expect(theirs(buf), codec).rejects.toThrow(/not implemented/i);
      } finally {
        registerCompressionCodecs(codecTable);
      }
      expect(plain((await ours(buf)).records), codec).toEqual(want);
    }
  });

  it('turns a batch over the decompression cap into one stand-in at its last offset', async () => {
    setDecoderLimits({ maxDecompressedBytes: 1024 * 1024 });
    try {
      // 4 MiB of zeros: a few KiB compressed (a compression bomb in small).
      const bomb = Array.from({ length: 4 }, () => ({ key: null, value: Buffer.alloc(1024 * 1024) }));
      for (const codec of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
        const buf = await batch(bomb, codec, 500);
        expect(buf.length, codec).toBeLessThan(300_000);
        const { records } = await ours(buf);
        expect(records, codec).toHaveLength(1);
        expect(records[0]!.offset).toBe('503');
        const mark = undecodableBatch(records[0]!.headers);
        expect(mark, codec).toMatchObject({ firstOffset: '500', lastOffset: '503', codec });
        expect(mark!.reason, codec).toMatch(/cap/);
        expect(records[0]!.value!.equals(buf)).toBe(true);
      }
    } finally {
      setDecoderLimits({ maxDecompressedBytes: 16 * 1024 * 1024 });
    }
  });

  it('turns a corrupt compressed batch or an unknown codec into a stand-in, never a throw', async () => {
    for (const codec of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
      const buf = await batch(sample, codec, 10);
      // Scramble the compressed records (after the 61-byte batch header), keep the framing.
      for (let i = 61 + 12; i < buf.length; i += 3) buf[i] = buf[i]! ^ 0x5a;
      const { records } = await ours(buf);
      expect(records, codec).toHaveLength(1);
      expect(undecodableBatch(records[0]!.headers), codec).toMatchObject({ firstOffset: '10', lastOffset: '12' });
    }
    const unknown = await batch(sample, 'none', 7);
    unknown.writeInt16BE(unknown.readInt16BE(21) | 0x07, 21); // attributes: codec 7
    const { records } = await ours(unknown);
    expect(undecodableBatch(records[0]!.headers)).toMatchObject({ codec: 'unknown(7)', lastOffset: '9' });
  });

  it('refuses a snappy stream whose literal length is negative (snappyjs looped on it forever)', async () => {
    // Stated length 10, then a literal with a 4-byte length of 0xfffffffa: -5 in 32-bit JS.
    const hostile = Buffer.from([0x0a, 0xfc, 0xfa, 0xff, 0xff, 0xff]);
    await expect(decompress(CODECS.snappy, hostile, 1024)).rejects.toBeInstanceOf(DecompressError);
  });

  it('turns a batch of more records than allowed into a stand-in, before decompressing it', async () => {
    setDecoderLimits({ maxBatchRecords: 2 });
    try {
      for (const codec of ['none', 'zstd'] as const) {
        const { records } = await ours(await batch(sample, codec, 40));
        expect(records, codec).toHaveLength(1);
        expect(undecodableBatch(records[0]!.headers)?.reason, codec).toMatch(/3 records, more than the 2 allowed/);
      }
    } finally {
      setDecoderLimits({ maxBatchRecords: 100_000 });
    }
  });

  it('reads 100,000 headers in one pass and marks the record instead of keeping them', async () => {
    const headers: Record<string, string[]> = { h: Array.from({ length: 100_000 }, (_, i) => String(i)) };
    const buf = await batch([{ key: 'k', value: '{}', headers }, ...sample]);
    const { records } = await ours(buf);
    expect(records).toHaveLength(4);
    expect(headerOverflow(records[0]!.headers)).toMatchObject({ count: 100_000, names: ['h', 'h', 'h', 'h', 'h'] });
    expect(Object.keys(records[0]!.headers)).toHaveLength(0);
    expect(records[0]!.value!.toString()).toBe('{}');
    // The records after it are decoded as usual.
    expect(plain(records.slice(1))).toEqual(
      plain((await theirs(await batch(sample))).records).map((r, i) => ({ ...r, offset: String(1001 + i) })),
    );
  });

  it('leaves the rest of a partition for the next fetch once its batches inflated past the cap', async () => {
    installBatchDecoder();
    const decodeMessages = require('kafkajs/src/protocol/requests/fetch/v4/decodeMessages.js') as (
      d: unknown,
    ) => Promise<DecodedRecord[]>;
    setDecoderLimits({ maxDecompressedBytes: 1024 * 1024 });
    try {
      // Three batches of 700 KB each, well under the cap alone: ~2 KB each compressed.
      const big = [{ key: null, value: Buffer.alloc(700_000, 1) }];
      const batches = await Promise.all([0, 1, 2].map((i) => batch(big, 'gzip', 10 + i)));
      const all = Buffer.concat(batches);
      const section = Buffer.alloc(4 + all.length);
      section.writeInt32BE(all.length);
      all.copy(section, 4);
      const messages = await decodeMessages(new Decoder(section));
      // The first two (1.4 MB > 1 MiB) are decoded; the third waits for a fetch of its own.
      expect(messages.map((m) => m.offset)).toEqual(['10', '11']);
    } finally {
      setDecoderLimits({ maxDecompressedBytes: 16 * 1024 * 1024 });
    }
  });

  it('is what KafkaJS fetch responses use once installed', async () => {
    const outcome = installBatchDecoder().outcome;
    expect(['installed', 'already']).toContain(outcome);
    expect(require('kafkajs/src/protocol/recordBatch/v0/decoder.js')).toBe(decodeRecordBatch);
    const decodeMessages = require('kafkajs/src/protocol/requests/fetch/v4/decodeMessages.js') as (
      d: unknown,
    ) => Promise<DecodedRecord[]>;
    const buf = await batch(sample, 'lz4');
    const section = Buffer.alloc(4 + buf.length);
    section.writeInt32BE(buf.length);
    buf.copy(section, 4);
    const messages = await decodeMessages(new Decoder(section));
    expect(messages.map((m) => m.offset)).toEqual(['1000', '1001', '1002']);
  });
});
