import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
// client.ts imports the framing before KafkaJS, as every command does.
import '../../src/kafka/client.js';
import {
  framingOutcome,
  installProduceRequest,
  kafkajsProduceModules,
  produceRequestFactory,
  requestFramer,
} from '../../src/kafka/produce-request.js';
import { installRecordBatchEncoder } from '../../src/kafka/record-batch.js';
import { encodeRecord, installRecordEncoder, measureRecord } from '../../src/kafka/record-encoder.js';

const require = createRequire(import.meta.url);
installRecordEncoder();
installRecordBatchEncoder();
const Encoder = require('kafkajs/src/protocol/encoder.js');
const Long = require('kafkajs/src/utils/long.js');
const kafkajs = kafkajsProduceModules();
// Over our record and batch encoders, each record written in place in its batch (as installed).
const ours = produceRequestFactory(
  Encoder,
  encodeRecord,
  require('kafkajs/src/protocol/recordBatch/v0/index.js').RecordBatch,
  Long,
  measureRecord,
);

const bytes = fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a));
const message = fc.record(
  {
    key: fc.oneof(bytes, fc.string({ maxLength: 20 }), fc.constant(null)),
    value: fc.oneof(bytes, fc.constant(null)),
    headers: fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.string({ maxLength: 20 }), { maxKeys: 3 }),
    timestamp: fc.oneof(
      fc.integer({ min: 1_700_000_000_000, max: 1_800_000_000_000 }),
      fc.integer({ min: 1_700_000_000_000, max: 1_800_000_000_000 }).map(String),
    ),
    partition: fc.integer({ min: 0, max: 11 }),
  },
  { requiredKeys: ['value'] },
);
const produce = fc.record({
  acks: fc.constantFrom(-1, 0, 1),
  timeout: fc.integer({ min: 0, max: 60_000 }),
  transactionalId: fc.oneof(fc.constant(undefined), fc.constant(null), fc.string({ minLength: 1, maxLength: 30 })),
  producerEpoch: fc.integer({ min: 0, max: 100 }),
  topicData: fc.array(
    fc.record({
      topic: fc.string({ minLength: 1, maxLength: 40 }),
      partitions: fc.array(
        fc.record({
          partition: fc.integer({ min: 0, max: 200 }),
          firstSequence: fc.integer({ min: 0, max: 1000 }),
          messages: fc.array(message, { minLength: 1, maxLength: 20 }),
        }),
        { maxLength: 4 },
      ),
    }),
    { maxLength: 3 },
  ),
});

describe('produce request', () => {
  it('writes the bytes KafkaJS 2.2.4 writes, for any topics, partitions and records', async () => {
    // A record without a timestamp takes Date.now() in both: the same clock for both.
    vi.useFakeTimers({ toFake: ['Date'], now: 1_790_000_000_000 });
    onTestFinished(() => {
      vi.useRealTimers();
    });
    await fc.assert(
      fc.asyncProperty(produce, fc.boolean(), async (args, withTimestamps) => {
        const a = withTimestamps
          ? args
          : {
              ...args,
              topicData: args.topicData.map((t) => ({
                ...t,
                partitions: t.partitions.map((p) => ({
                  ...p,
                  messages: p.messages.map(({ timestamp: _, ...m }) => m),
                })),
              })),
            };
        const [x, y] = [ours(a), kafkajs.produce(a)];
        expect((await x.encode()).buffer.equals((await y.encode()).buffer)).toBe(true);
        expect(x).toMatchObject({ apiKey: y.apiKey, apiVersion: y.apiVersion, apiName: y.apiName });
        expect(x.expectResponse()).toBe(y.expectResponse());
      }),
      { numRuns: 300 },
    );
  });

  it('leaves compressed batches to KafkaJS, in the same request', async () => {
    const args = {
      acks: -1,
      timeout: 30_000,
      compression: 1,
      topicData: [
        { topic: 't', partitions: [{ partition: 0, messages: [{ key: 'k', value: 'v'.repeat(300), timestamp: 1 }] }] },
      ],
    };
    expect((await ours(args).encode()).buffer.equals((await kafkajs.produce(args).encode()).buffer)).toBe(true);
  });

  it('frames any request as KafkaJS does', async () => {
    const frame = requestFramer(Encoder);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.oneof(fc.constant(null), fc.string({ maxLength: 50 })),
        bytes,
        async (correlationId, clientId, payload) => {
          const request = {
            apiKey: 3,
            apiVersion: 7,
            encode: async () => Object.assign(new Encoder(0), { buf: payload, offset: payload.length }),
          };
          const [x, y] = await Promise.all([
            frame({ correlationId, clientId, request }),
            kafkajs.frame({ correlationId, clientId, request }),
          ]);
          expect(x.buffer.equals(y.buffer)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('is what KafkaJS loads: the framing before KafkaJS, the produce request once installed', async () => {
    expect(framingOutcome.outcome).toBe('installed');
    expect(require('kafkajs/src/protocol/request.js')).not.toBe(kafkajs.frame);
    expect(require('kafkajs/src/protocol/request.js').toString()).toBe(requestFramer(Encoder).toString());
    expect(['installed', 'already']).toContain(installProduceRequest().outcome);
    const installed = require('kafkajs/src/protocol/requests/produce/v3/request.js');
    expect(installed.toString()).toBe(ours.toString());
    expect(installProduceRequest().outcome).toBe('already');
    const args = {
      acks: -1,
      timeout: 1000,
      topicData: [{ topic: 't', partitions: [{ partition: 3, messages: [{ key: 'k', value: 'v', timestamp: 5 }] }] }],
    };
    expect((await installed(args).encode()).buffer.equals((await kafkajs.produce(args).encode()).buffer)).toBe(true);
  });
});
