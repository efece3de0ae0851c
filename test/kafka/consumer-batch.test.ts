import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
// client.ts imports the batch before KafkaJS, as every command does.
import '../../src/kafka/client.js';
import { decodeRecordBatch } from '../../src/kafka/batch-decoder.js';
import { batchClass, consumerBatchOutcome, kafkajsBatch } from '../../src/kafka/consumer-batch.js';
import { encodeRecord } from '../../src/kafka/record-encoder.js';

const require = createRequire(import.meta.url);
const Original = kafkajsBatch();
const Ours = batchClass(
  Original,
  require('kafkajs/src/utils/long.js'),
  require('kafkajs/src/consumer/filterAbortedMessages.js'),
);

const ABORT_KEY = Buffer.from([0, 0, 0, 0]);
const bigOffset = fc.bigInt({ min: 0n, max: 2n ** 63n - 1n });

/** A fetched partition: offsets in order around the fetched one (small and 19-digit), control records, aborted transactions. */
const fetched = fc
  .record({
    base: fc.oneof(fc.bigInt({ min: 0n, max: 10n ** 15n }), bigOffset),
    gaps: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 40 }),
    fetchedAt: fc.integer({ min: -3, max: 50 }),
    control: fc.array(fc.boolean(), { maxLength: 40 }),
    producers: fc.array(fc.constantFrom('1', '2'), { maxLength: 40 }),
    aborted: fc.array(fc.record({ at: fc.integer({ min: 0, max: 60 }), producerId: fc.constantFrom('1', '2') }), {
      maxLength: 3,
    }),
    fetchedKind: fc.constantFrom('string', 'number', 'negative', 'huge'),
  })
  .map(({ base, gaps, fetchedAt, control, producers, aborted, fetchedKind }) => {
    let at = base;
    const messages = gaps.map((g, i) => {
      at += BigInt(g);
      const isControlRecord = control[i] ?? false;
      return {
        offset: at.toString(),
        key: isControlRecord && i % 2 === 0 ? ABORT_KEY : Buffer.from(`k${i}`),
        value: Buffer.from(`v${i}`),
        isControlRecord,
        batchContext: { producerId: producers[i] ?? '1', inTransaction: aborted.length > 0 },
      };
    });
    const fetchedOffset =
      fetchedKind === 'negative'
        ? '-1'
        : fetchedKind === 'huge'
          ? (2n ** 63n - 2n).toString()
          : fetchedKind === 'number'
            ? Number(base) + fetchedAt
            : (base + BigInt(fetchedAt)).toString();
    const abortedTransactions = aborted
      .map((a) => ({ firstOffset: (base + BigInt(a.at)).toString(), producerId: a.producerId }))
      .sort((a, b) => (BigInt(a.firstOffset) < BigInt(b.firstOffset) ? -1 : 1));
    return {
      fetchedOffset,
      partitionData: {
        partition: 3,
        highWatermark: (at + 5n).toString(),
        abortedTransactions,
        messages,
      },
    };
  });

type AnyBatch = Record<string, unknown> & Record<string, () => unknown>;
const view = (b: AnyBatch) => ({
  fields: { ...b },
  isEmpty: b.isEmpty!(),
  isEmptyIncludingFiltered: b.isEmptyIncludingFiltered!(),
  isEmptyDueToFiltering: b.isEmptyDueToFiltering!(),
  isEmptyControlRecord: b.isEmptyControlRecord!(),
  firstOffset: b.firstOffset!(),
  lastOffset: b.lastOffset!(),
  offsetLag: b.offsetLag!(),
  offsetLagLow: b.offsetLagLow!(),
});

describe('consumer batch', () => {
  it('keeps the records KafkaJS 2.2.4 keeps, with the same fields and answers', () => {
    fc.assert(
      fc.property(fetched, ({ fetchedOffset, partitionData }) => {
        const ours = new Ours('t', fetchedOffset, partitionData) as AnyBatch;
        const theirs = new Original('t', fetchedOffset, partitionData) as AnyBatch;
        expect(view(ours)).toEqual(view(theirs));
        expect(ours instanceof Original).toBe(true);
        // Two arrays, as KafkaJS's: a caller changing one does not change the other.
        expect(ours.messages).not.toBe(ours.messagesWithinOffset);
      }),
      { numRuns: 1000 },
    );
  });

  it('keeps the fetched records KafkaJS 2.2.4 keeps, comparing their offsets as numbers', async () => {
    const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as {
      RecordBatch: (o: object) => Promise<{ buffer: Buffer }>;
    };
    const Decoder = require('kafkajs/src/protocol/decoder.js') as new (buf: Buffer) => unknown;
    const Long = require('kafkajs/src/utils/long.js') as { fromString(s: string): unknown };
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.bigInt({ min: 0n, max: 10n ** 15n }), fc.constant(2n ** 53n - 3n), bigOffset),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: -2, max: 10 }),
        async (base, count, fetchedAt) => {
          const records = Array.from({ length: count }, (_, i) =>
            encodeRecord({ offsetDelta: i, key: null, value: `v${i}` }),
          );
          const { buffer } = await RecordBatch({
            firstOffset: Long.fromString(base.toString()),
            firstTimestamp: 1_700_000_000_000,
            maxTimestamp: 1_700_000_000_000,
            lastOffsetDelta: count - 1,
            records,
          });
          const messages = (await decodeRecordBatch(new Decoder(buffer) as never)).records;
          const partitionData = { partition: 0, highWatermark: (base + 100n).toString(), messages };
          const fetchedOffset = (base + BigInt(fetchedAt)).toString();
          const ours = new Ours('t', fetchedOffset, partitionData) as AnyBatch;
          const theirs = new Original('t', fetchedOffset, partitionData) as AnyBatch;
          // The same record objects (a deep equality would see none of a fetched record's getters).
          for (const field of ['messages', 'messagesWithinOffset'] as const) {
            const a = ours[field] as unknown as unknown[];
            const b = theirs[field] as unknown as unknown[];
            expect(a).toHaveLength(b.length);
            for (const [i, m] of a.entries()) expect(m).toBe(b[i]);
          }
          expect(ours.firstOffset!()).toBe(theirs.firstOffset!());
          expect(ours.lastOffset!()).toBe(theirs.lastOffset!());
        },
      ),
      { numRuns: 300 },
    );
  });

  it('is what KafkaJS consumers use, installed before KafkaJS loaded', () => {
    expect(consumerBatchOutcome.outcome).toBe('installed');
    const Installed = require('kafkajs/src/consumer/batch.js');
    expect(Installed).not.toBe(Original);
    // Installed: an offset is not parsed into a Long per record.
    const Long = require('kafkajs/src/utils/long.js');
    const fromValue = Long.fromValue;
    let calls = 0;
    Long.fromValue = (v: unknown) => {
      calls++;
      return fromValue.call(Long, v);
    };
    try {
      const messages = Array.from({ length: 100 }, (_, i) => ({ offset: String(1000 + i), isControlRecord: false }));
      const batch = new Installed('t', '1050', { partition: 0, highWatermark: '1100', messages });
      expect(batch.messages).toHaveLength(50);
      expect(calls).toBeLessThan(5);
    } finally {
      Long.fromValue = fromValue;
    }
  });
});
