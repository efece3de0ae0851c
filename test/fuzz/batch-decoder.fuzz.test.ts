/**
 * Property-based tests of the record batch decoder (src/kafka/batch-decoder.ts) and of what
 * it hands the event decoder: whatever bytes a fetch returns, in any codec, it resolves (a
 * batch cut short by the fetch size is the one error it passes on, as KafkaJS does), with
 * the batch's records or one stand-in for it; and any keys and headers a producer sends end
 * as ok or a known dead-letter code.
 */
import { createRequire } from 'node:module';
import fc from 'fast-check';
import type { IHeaders, KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { decodeRecordBatch, setDecoderLimits, undecodableBatch } from '../../src/kafka/batch-decoder.js';
import { CODECS, registerCompressionCodecs } from '../../src/kafka/compression.js';
import { encodeRecord, type RecordInput } from '../../src/kafka/record-encoder.js';
import { decodeSignup } from '../../src/pipeline/decode.js';
import { recordBytes } from '../../src/pipeline/publish/batcher.js';
import { batchBytesOf, MessageSizeGuard } from '../../src/pipeline/publish/message-size.js';
import { deadLetterRecord } from '../../src/pipeline/records.js';

const guard = new MessageSizeGuard('signups.dlq', {});

const RUNS = Number(process.env.FC_RUNS ?? 200);
const require = createRequire(import.meta.url);
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (buf: Buffer) => unknown;
const Long = require('kafkajs/src/utils/long.js') as { fromNumber(n: number): unknown };
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as {
  RecordBatch: (o: object) => Promise<{ buffer: Buffer }>;
};
registerCompressionCodecs();

const codecs = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
const bytes = (max: number) => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a));
const headerName = fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('content-type', '__proto__', 'efv-attempts'));
const record: fc.Arbitrary<RecordInput> = fc.record({
  key: fc.oneof(bytes(64), fc.string({ maxLength: 64 }), fc.constant(null), fc.constant('k'.repeat(5000))),
  value: fc.oneof(bytes(200), fc.constant('{"email":"a@example.org"}'), fc.constant(null)),
  headers: fc.dictionary(
    headerName,
    fc.oneof(bytes(30), fc.constant(null), fc.array(fc.string({ maxLength: 10 }), { maxLength: 4 })),
    {
      maxKeys: 8,
    },
  ),
});

async function batch(records: RecordInput[], codec: (typeof codecs)[number]): Promise<Buffer> {
  return (
    await RecordBatch({
      compression: CODECS[codec],
      firstOffset: Long.fromNumber(100),
      firstTimestamp: 1_700_000_000_000,
      maxTimestamp: 1_700_000_000_000,
      lastOffsetDelta: records.length - 1,
      records: records.map((r, i) => encodeRecord({ offsetDelta: i, ...r })),
    })
  ).buffer;
}

/** Resolves with the records, or rejects only with KafkaJS's partial-batch error. */
async function decodes(buf: Buffer) {
  try {
    return (await decodeRecordBatch(new Decoder(buf) as never)).records;
  } catch (err) {
    expect((err as Error).name).toBe('KafkaJSPartialMessageError');
    return undefined;
  }
}

const KNOWN = new Set([
  'NULL_VALUE',
  'OVERSIZED',
  'AVRO_DECODE',
  'JSON_DECODE',
  'UNSUPPORTED_CONTENT_TYPE',
  'MISSING_EMAIL',
  'INVALID_EVENT',
  'EMAIL_TOO_LONG',
  'INVALID_UTF8',
  'UNSAFE_CHARACTERS',
  'UNDECODABLE_BATCH',
  'TOO_MANY_HEADERS',
  'KEY_TOO_LONG',
  'EVENT_ID_TOO_LONG',
  'USER_ID_TOO_LONG',
]);

describe('batch decoder, any bytes', () => {
  it('never throws on a damaged batch of any codec: records, or one stand-in for the batch', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(record, { minLength: 1, maxLength: 4 }),
        fc.constantFrom(...codecs),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 6 }),
        async (records, codec, flips) => {
          const buf = await batch(records, codec);
          // Damage anything after the offset and length (those only move the fetch cursor).
          for (const [at, x] of flips) {
            const i = 12 + (at % (buf.length - 12));
            buf[i] = buf[i]! ^ x;
          }
          const out = await decodes(buf);
          if (!out) return;
          if (out.length === 1 && undecodableBatch(out[0]!.headers)) {
            expect(out[0]!.value!.length).toBe(buf.length);
          }
          // Records are checked at decode time and read on access: reading one cannot fail.
          for (const m of out) expect(() => JSON.stringify(m)).not.toThrow();
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('never throws on random bytes behind a batch header', async () => {
    await fc.assert(
      fc.asyncProperty(
        bytes(400),
        fc.integer({ min: 0, max: 7 }),
        fc.integer({ min: -5, max: 1000 }),
        async (tail, codec, count) => {
          const head = Buffer.alloc(12 + 49);
          head.writeBigInt64BE(5n, 0);
          head.writeInt32BE(49 + tail.length, 8);
          head.writeInt8(2, 16);
          head.writeInt16BE(codec, 21);
          head.writeInt32BE(count, 57);
          await decodes(Buffer.concat([head, tail]));
        },
      ),
      { numRuns: RUNS * 2 },
    );
  });

  it('hands the event decoder only ok or a known code, for any keys and headers', async () => {
    setDecoderLimits({ maxHeaders: 6, maxHeaderBytes: 200 });
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.array(record, { minLength: 1, maxLength: 4 }),
          fc.constantFrom(...codecs),
          async (records, codec) => {
            const out = await decodes(await batch(records, codec));
            for (const m of out ?? []) {
              const r = decodeSignup(
                m.value,
                m.headers as IHeaders,
                { key: m.key, timestamp: m.timestamp, topic: 'signups', partition: 0, offset: m.offset },
                { format: 'auto', maxMessageBytes: 65_536 },
              );
              if (r.ok) continue;
              expect(KNOWN).toContain(r.error.code);
              // Its dead letter can be sized and fitted (a null header value once made this throw).
              const src = { topic: 'signups', partition: 0, offset: m.offset };
              const dl = deadLetterRecord(m as unknown as KafkaMessage, src, r.error, 'signups.dlq');
              expect(batchBytesOf(guard.fit(dl))).toBeGreaterThan(0);
              expect(recordBytes(dl)).toBeGreaterThan(0);
            }
          },
        ),
        { numRuns: RUNS },
      );
    } finally {
      setDecoderLimits({ maxHeaders: 256, maxHeaderBytes: 65_536 });
    }
  });
});
