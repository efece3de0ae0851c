/**
 * One record's journey through the TaskRunner, without a broker: a fetched record (a record
 * batch as KafkaJS encodes it, read by our batch decoder) is decoded, validated, routed and
 * handed to the publisher, and what was read from it is released while its result waits for
 * the broker's answer (the in-flight records are what the young-generation collector copies).
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { encodeSignupEvent } from '../../src/contract/schemas.js';
import { type DecodedRecord, decodeRecordBatch } from '../../src/kafka/batch-decoder.js';
import { encodeRecord, type RecordInput } from '../../src/kafka/record-encoder.js';
import { Deadlines } from '../../src/pipeline/deadlines.js';
import { PartitionTable } from '../../src/pipeline/partition-table.js';
import { type RecordTask, TaskRunner } from '../../src/pipeline/record-task.js';
import type { OutgoingRecord } from '../../src/pipeline/records.js';
import { createGlobalLimit, PartitionScheduler } from '../../src/pipeline/scheduler.js';
import { RecordSpans } from '../../src/telemetry/record-spans.js';
import { createValidator } from '../../src/validation/validator.js';

const require = createRequire(import.meta.url);
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (buf: Buffer) => unknown;
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as {
  RecordBatch: (o: object) => Promise<{ buffer: Buffer }>;
};
const Long = require('kafkajs/src/utils/long.js') as { fromNumber(n: number): unknown };

async function fetched(records: RecordInput[], firstOffset = 500): Promise<DecodedRecord[]> {
  const b = await RecordBatch({
    compression: 0,
    firstOffset: Long.fromNumber(firstOffset),
    firstTimestamp: 1_700_000_000_000,
    maxTimestamp: 1_700_000_000_000 + records.length,
    lastOffsetDelta: records.length - 1,
    records: records.map((r, i) => encodeRecord({ offsetDelta: i, ...r })),
  });
  return (await decodeRecordBatch(new Decoder(b.buffer) as never)).records;
}

const signup = (email: string) =>
  encodeSignupEvent({
    eventId: 'e-1',
    userId: 'u-1',
    email,
    occurredAt: 1_700_000_000_000,
    source: 'web',
    locale: null,
  });

function harness() {
  const config = loadConfig({});
  const table = new PartitionTable(100, () => new PartitionScheduler('key', 4, createGlobalLimit(8)), {
    pause: () => {},
    resume: () => {},
  });
  const submitted: (RecordTask & { record: OutgoingRecord })[] = [];
  const done: RecordTask[] = [];
  const abandoned: RecordTask[] = [];
  const failed: Error[] = [];
  const routed: string[] = [];
  const runner = new TaskRunner({
    validator: createValidator({ ...config.validation, dnsEnabled: false }),
    decodeOptions: { format: 'auto', maxMessageBytes: 1_048_576 },
    policy: { topics: config.topics, riskyRoute: 'valid', retryTopics: [], retryDelaysMs: [] },
    deadlines: new Deadlines(1000),
    publisher: { submit: (task) => submitted.push(task) },
    spans: new RecordSpans(undefined, 'group', undefined),
    observer: { routed: (destination) => routed.push(destination) },
    done: (task) => done.push(task),
    abandoned: (task) => abandoned.push(task),
    failed: (err) => failed.push(err),
  });
  return { config, st: table.get('signups', 4), runner, submitted, done, abandoned, failed, routed };
}

describe('TaskRunner', () => {
  it('routes a fetched record, releases what was read from it, and settles it with the acknowledgement', async () => {
    const h = harness();
    const [message] = await fetched([{ key: 'user-1', value: signup('jane.doe@gmail.com'), headers: {} }]);
    const valueBefore = message!.value;
    h.runner.start(h.st, { topic: 'signups', partition: 4, offset: message!.offset }, message as never, false);

    expect(h.submitted).toHaveLength(1);
    const task = h.submitted[0]!;
    expect(task.destination).toBe('valid');
    expect(task.record.topic).toBe(h.config.topics.valid);
    expect(task.record.key?.toString()).toBe('user-1');
    expect(task.record.source).toEqual({ topic: 'signups', partition: 4, offset: '500' });
    // Released: the task keeps a frozen stand-in, and the fetched record dropped its views
    // (a value read again is a new view of the same bytes).
    expect(task.message).not.toBe(message);
    expect(Object.isFrozen(task.message)).toBe(true);
    expect(task.message.value).toBeNull();
    expect(task.event).toBeNull();
    expect(message!.value).not.toBe(valueBefore);
    expect(message!.value!.equals(valueBefore!)).toBe(true);
    expect(task.offset).toBe(500);
    expect(h.st.tasks).toBe(1);
    expect(h.done).toEqual([]);

    task.resolve();
    expect(h.done).toEqual([task]);
    expect(h.routed).toEqual(['valid']);
    expect(h.failed).toEqual([]);
  });

  it('dead-letters a record that does not decode, also releasing it', async () => {
    const h = harness();
    const [message] = await fetched([{ key: 'user-2', value: Buffer.from([0xff, 0x00, 0x13]), headers: {} }], 900);
    const valueBefore = message!.value;
    h.runner.start(h.st, { topic: 'signups', partition: 4, offset: message!.offset }, message as never, false);

    const task = h.submitted[0]!;
    expect(task.destination).toBe('deadLetter');
    expect(task.code).toBe('AVRO_DECODE');
    expect(task.record.topic).toBe(h.config.topics.deadLetter);
    // The dead letter carries the original bytes, copied out before the record was released.
    expect(task.record.value!.equals(valueBefore!)).toBe(true);
    expect(task.message).not.toBe(message);
    expect(message!.value).not.toBe(valueBefore);
  });

  it('fails the processor, not the record, when its result cannot be published', async () => {
    const h = harness();
    const [message] = await fetched([{ key: 'user-3', value: signup('a@mailinator.com'), headers: {} }]);
    h.runner.start(h.st, { topic: 'signups', partition: 4, offset: message!.offset }, message as never, false);
    const task = h.submitted[0]!;
    task.reject(new Error('broker gone'));
    expect(h.done).toEqual([]);
    expect(h.failed.map((e) => e.message)).toEqual(['result could not be published: broker gone']);
    expect((h.failed[0] as { code?: string }).code).toBe('PUBLISH_FAILED');
  });
});
