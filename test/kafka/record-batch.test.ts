import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CRC32C_IS_NATIVE,
  crc32c,
  installRecordBatchEncoder,
  kafkajsRecordBatch,
  ownRecordBatch,
  type RecordBatchInput,
} from '../../src/kafka/record-batch.js';
import { encodeRecord, measureRecord } from '../../src/kafka/record-encoder.js';

const require = createRequire(import.meta.url);
const kafkajs = kafkajsRecordBatch();
const ours = ownRecordBatch();
const Long = require('kafkajs/src/utils/long.js') as { fromValue(v: unknown): unknown; fromInt(v: number): unknown };

const bytes = fc.uint8Array({ maxLength: 400 }).map((a) => Buffer.from(a));
const record = fc
  .record({
    offsetDelta: fc.integer({ min: 0, max: 1000 }),
    key: fc.oneof(bytes, fc.constant(null)),
    value: fc.oneof(bytes, fc.string({ maxLength: 100 }), fc.constant(null)),
    headers: fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), fc.oneof(bytes, fc.string({ maxLength: 40 })), {
      maxKeys: 3,
    }),
  })
  .map((r) => encodeRecord(r));
const int64 = fc.oneof(
  fc.integer({ min: 0, max: 2 ** 47 }),
  fc.integer({ min: 0, max: 2 ** 47 }).map(String),
  fc.integer({ min: -1, max: 2 ** 40 }).map((v) => Long.fromValue(v)),
);
const batch: fc.Arbitrary<RecordBatchInput> = fc.record(
  {
    firstOffset: fc.oneof(fc.constant(Long.fromInt(0)), fc.integer({ min: 0, max: 2 ** 40 })),
    firstTimestamp: int64 as fc.Arbitrary<number>,
    maxTimestamp: int64 as fc.Arbitrary<number>,
    partitionLeaderEpoch: fc.integer({ min: 0, max: 1000 }),
    lastOffsetDelta: fc.integer({ min: 0, max: 10_000 }),
    transactional: fc.boolean(),
    producerId: int64,
    producerEpoch: fc.integer({ min: 0, max: 32_767 }),
    firstSequence: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    records: fc.array(record, { maxLength: 40 }),
  },
  { requiredKeys: ['records', 'firstTimestamp', 'maxTimestamp'] },
);

describe('record batch encoder', () => {
  it('writes the bytes KafkaJS 2.2.4 writes, for any uncompressed batch', async () => {
    await fc.assert(
      fc.asyncProperty(batch, async (b) => {
        const [a, k] = await Promise.all([ours(b), kafkajs.RecordBatch(b)]);
        expect(a.buffer.equals(k.buffer)).toBe(true);
        expect(a.size()).toBe(k.size());
      }),
      { numRuns: 500 },
    );
  });

  it('writes measured records in place: the same bytes as from their encoded buffers', async () => {
    await fc.assert(
      fc.asyncProperty(batch, fc.integer({ min: 0, max: 1 }), async (b, compression) => {
        const inputs = (b.records ?? []).map((_, i) => ({
          key: `k${i}`,
          value: Buffer.alloc(i % 50, i),
          offsetDelta: i,
        }));
        const measured = { ...b, compression, records: inputs.map(measureRecord) };
        const encoded = { ...b, compression, records: inputs.map(encodeRecord) };
        expect((await ours(measured)).buffer.equals((await kafkajs.RecordBatch(encoded)).buffer)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('leaves a compressed batch to KafkaJS (same bytes: gzip is deterministic here)', async () => {
    const records = [encodeRecord({ key: 'k', value: 'v'.repeat(500) })];
    const b = { compression: 1, records, firstTimestamp: 1, maxTimestamp: 2 };
    expect((await ours(b)).buffer.equals((await kafkajs.RecordBatch(b)).buffer)).toBe(true);
  });

  it('checksums as KafkaJS does, natively where the prebuilt module loads', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), (a) => {
        expect(crc32c(Buffer.from(a))).toBe(kafkajs.crc32C(Buffer.from(a)));
      }),
      { numRuns: 300 },
    );
    // linux-x64 (CI, the image) has a prebuilt binary: without it producing costs ~3 ns a byte more.
    if (process.platform === 'linux' && process.arch === 'x64') expect(CRC32C_IS_NATIVE).toBe(true);
  });

  it('is what KafkaJS producers load once installed', () => {
    const outcome = installRecordBatchEncoder().outcome;
    expect(['installed', 'already']).toContain(outcome);
    const loaded = require('kafkajs/src/protocol/recordBatch/v0/index.js') as {
      RecordBatch: unknown;
      MAGIC_BYTE: number;
    };
    expect(loaded.RecordBatch).not.toBe(kafkajs.RecordBatch);
    expect(loaded.MAGIC_BYTE).toBe(2);
    expect(require('kafkajs/src/protocol/recordBatch/crc32C/index.js')).toBe(crc32c);
    expect(installRecordBatchEncoder().outcome).toBe('already');
  });
});
