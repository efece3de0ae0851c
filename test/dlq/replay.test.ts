import { Partitioners } from 'kafkajs';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { replayDlqCommand } from '../../src/commands/replay-dlq.js';
import { type Config, loadConfig } from '../../src/config.js';
import { DLQ_HEADERS, REPLAY_HEADERS } from '../../src/contract/headers.js';
import { encodeSignupEvent } from '../../src/contract/schemas.js';
import { ReplayOptionError } from '../../src/dlq/filter.js';
import type { Validator } from '../../src/validation/types.js';
import {
  type ConsumedRecord,
  consumeRecords,
  createTopics,
  deleteTopics,
  testBrokers,
  testKafka,
  topicSize,
  uniqueName,
  withAdmin,
} from '../helpers/kafka.js';
import { resultType, startTestPipeline, type TestPipeline } from '../helpers/processor.js';

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface DeadLetter {
  key: string | null;
  value: Buffer | null;
  code?: string;
  lastFailureAt?: string;
  timestamp?: string;
  headers?: Record<string, string | Buffer>;
  partition?: number;
}

/** A dead-letter topic and an input topic of their own, and a config naming them. */
async function replaySetup(partitions = 1): Promise<{ config: Config; dlq: string; input: string }> {
  const base = uniqueName('replay');
  const dlq = `${base}.dlq`;
  const input = base;
  await createTopics([dlq, input], partitions);
  cleanups.push(() => deleteTopics([dlq, input]));
  const config = loadConfig({
    KAFKA_BROKERS: testBrokers().join(','),
    KAFKA_GROUP_ID: uniqueName('group'),
    INPUT_TOPIC: input,
    DLQ_TOPIC: dlq,
    VALID_TOPIC: `${base}.valid`,
    INVALID_TOPIC: `${base}.invalid`,
  });
  return { config, dlq, input };
}

function dlqHeaders(d: DeadLetter): Record<string, string | Buffer> {
  const h: Record<string, string | Buffer> = {
    [DLQ_HEADERS.message]: 'test failure',
    [DLQ_HEADERS.topic]: 'signups',
    [DLQ_HEADERS.partition]: '0',
    [DLQ_HEADERS.offset]: '12',
    [DLQ_HEADERS.attempts]: '1',
    ...d.headers,
  };
  if (d.code) h[DLQ_HEADERS.code] = d.code;
  if (d.lastFailureAt) h[DLQ_HEADERS.lastFailureAt] = d.lastFailureAt;
  return h;
}

/** Idempotent, so a retried request on a loaded broker cannot write a record twice and skew the counts. */
function exactProducer() {
  return testKafka().producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
}

async function produceDeadLetters(topic: string, records: DeadLetter[]): Promise<void> {
  const producer = exactProducer();
  await producer.connect();
  await producer.send({
    topic,
    acks: -1,
    messages: records.map((d) => ({
      key: d.key,
      value: d.value,
      headers: dlqHeaders(d),
      partition: d.partition ?? 0,
      ...(d.timestamp ? { timestamp: d.timestamp } : {}),
    })),
  });
  await producer.disconnect();
}

async function replay(config: Config, opts: Parameters<typeof replayDlqCommand>[2] = {}) {
  return replayDlqCommand(config, logger, { quiet: true, ...opts });
}

const keys = (records: ConsumedRecord[]) => records.map((r) => r.message.key?.toString()).sort();

describe('replay-dlq on a real broker', () => {
  it('re-publishes each record with its original key, value bytes and headers, minus efv-*, plus the replay headers', async () => {
    const { config, dlq, input } = await replaySetup();
    const binary = Buffer.from([0x00, 0xff, 0x80, 0x7f]);
    const avroBytes = Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00]);
    const records: DeadLetter[] = [
      { key: 'k-avro', value: avroBytes, code: 'AVRO_DECODE', headers: { 'x-bin': binary } },
      { key: 'k-null', value: null, code: 'NULL_VALUE' },
      { key: null, value: Buffer.from('{"email":"a@example.com"}'), code: 'VALIDATION_ERROR' },
    ];
    await produceDeadLetters(dlq, records);
    const before = Date.now();
    const summary = await replay(config);
    expect(summary).toMatchObject({ scanned: 3, matching: 3, published: 3, dryRun: false });
    expect(summary.byCode).toEqual({
      AVRO_DECODE: { scanned: 1, matching: 1 },
      NULL_VALUE: { scanned: 1, matching: 1 },
      VALIDATION_ERROR: { scanned: 1, matching: 1 },
    });
    const out = await consumeRecords([input], 3);
    expect(out).toHaveLength(3);
    const byOffset = new Map(
      out.map((r) => [r.message.headers![REPLAY_HEADERS.replayOf]!.toString().split('/').pop(), r.message]),
    );
    records.forEach((d, i) => {
      const m = byOffset.get(String(i))!;
      expect(m, `offset ${i}`).toBeDefined();
      expect(m.headers![REPLAY_HEADERS.replayOf]!.toString()).toBe(`${dlq}/0/${i}`);
      expect(m.key?.toString() ?? null).toBe(d.key);
      if (d.value === null) expect(m.value).toBeNull();
      else expect(Buffer.compare(m.value!, d.value)).toBe(0);
      const replayedAt = Date.parse(m.headers![REPLAY_HEADERS.replayedAt]!.toString());
      expect(replayedAt).toBeGreaterThanOrEqual(before - 1000);
      expect(
        Object.keys(m.headers!).filter(
          (h) => h.startsWith('efv-') && !Object.values(REPLAY_HEADERS).includes(h as never),
        ),
      ).toEqual([]);
    });
    expect(Buffer.compare(byOffset.get('0')!.headers!['x-bin'] as Buffer, binary)).toBe(0);
  });

  it('filters by error code and by the last failure time, falling back to the record timestamp', async () => {
    const { config, dlq, input } = await replaySetup();
    await produceDeadLetters(dlq, [
      { key: 'jan', value: Buffer.from('1'), code: 'AVRO_DECODE', lastFailureAt: '2026-01-10T00:00:00.000Z' },
      { key: 'feb', value: Buffer.from('2'), code: 'AVRO_DECODE', lastFailureAt: '2026-02-10T00:00:00.000Z' },
      { key: 'feb-json', value: Buffer.from('3'), code: 'JSON_DECODE', lastFailureAt: '2026-02-11T00:00:00.000Z' },
      { key: 'mar', value: Buffer.from('4'), code: 'AVRO_DECODE', lastFailureAt: '2026-03-01T00:00:00.000Z' },
      // No failure-time header: the record timestamp (2026-02-20) decides.
      { key: 'feb-ts', value: Buffer.from('5'), code: 'AVRO_DECODE', timestamp: String(Date.parse('2026-02-20')) },
    ]);
    const febAvro = await replay(config, { code: 'AVRO_DECODE', since: '2026-02-01', until: '2026-03-01' });
    expect(febAvro).toMatchObject({ scanned: 5, matching: 2, published: 2 });
    expect(febAvro.byCode).toEqual({
      AVRO_DECODE: { scanned: 4, matching: 2 },
      JSON_DECODE: { scanned: 1, matching: 0 },
    });
    expect(keys(await consumeRecords([input], 2))).toEqual(['feb', 'feb-ts']);

    // Another filter is another replay: it scans the topic anew.
    const json = await replay(config, { code: 'json_decode' });
    expect(json).toMatchObject({ scanned: 5, matching: 1, published: 1 });
    const all = await consumeRecords([input], 3);
    expect(keys(all)).toEqual(['feb', 'feb-json', 'feb-ts']);
    expect(await topicSize(input)).toBe(3);
  });

  it('--dry-run counts and publishes nothing, and does not hide records from the real run after it', async () => {
    const { config, dlq, input } = await replaySetup(3);
    await produceDeadLetters(
      dlq,
      Array.from({ length: 30 }, (_, i) => ({
        key: `k${i}`,
        value: Buffer.from([i]),
        code: i % 3 === 0 ? 'NULL_VALUE' : 'AVRO_DECODE',
        partition: i % 3,
      })),
    );
    const dry = await replay(config, { code: 'AVRO_DECODE', dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, scanned: 30, matching: 20, published: 0 });
    expect(dry.byCode).toEqual({
      AVRO_DECODE: { scanned: 20, matching: 20 },
      NULL_VALUE: { scanned: 10, matching: 0 },
    });
    expect(await topicSize(input)).toBe(0);
    // The throwaway group of the dry run is gone; the replay group was never moved.
    const { groups } = await withAdmin((admin) => admin.listGroups());
    expect(groups.filter((g) => g.groupId.includes('.dry-run.'))).toEqual([]);

    const real = await replay(config, { code: 'AVRO_DECODE' });
    expect(real).toMatchObject({ scanned: 30, matching: 20, published: 20 });
    expect(await topicSize(input)).toBe(20);
  });

  it('is idempotent: the same command run twice publishes once, and the second run takes only what arrived since', async () => {
    const { config, dlq, input } = await replaySetup(2);
    await produceDeadLetters(
      dlq,
      Array.from({ length: 1200 }, (_, i) => ({
        key: `k${i}`,
        value: Buffer.from(`v${i}`),
        code: 'VALIDATION_ERROR',
        partition: i % 2,
      })),
    );
    const first = await replay(config, { code: 'VALIDATION_ERROR' });
    expect(first).toMatchObject({ scanned: 1200, published: 1200 });
    const second = await replay(config, { code: 'VALIDATION_ERROR' });
    expect(second).toMatchObject({ scanned: 0, matching: 0, published: 0 });
    expect(second.groupId).toBe(first.groupId);
    expect(await topicSize(input)).toBe(1200);

    await produceDeadLetters(dlq, [
      { key: 'late', value: Buffer.from('late'), code: 'VALIDATION_ERROR', partition: 1 },
      { key: 'other', value: Buffer.from('other'), code: 'AVRO_DECODE', partition: 0 },
    ]);
    const third = await replay(config, { code: 'VALIDATION_ERROR' });
    expect(third).toMatchObject({ scanned: 2, matching: 1, published: 1 });
    expect(await topicSize(input)).toBe(1201);
    const replayed = await consumeRecords([input], 1201);
    const sources = new Set(replayed.map((r) => r.message.headers![REPLAY_HEADERS.replayOf]!.toString()));
    expect(sources.size).toBe(1201);
  });

  it('stops at the end of a dead-letter topic written in transactions, skipping aborted records', async () => {
    const { config, dlq, input } = await replaySetup();
    const producer = testKafka().producer({
      transactionalId: uniqueName('tx'),
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    const send = async (key: string, commit: boolean) => {
      const tx = await producer.transaction();
      await tx.send({
        topic: dlq,
        messages: [{ key, value: Buffer.from(key), headers: dlqHeaders({ key, value: null, code: 'AVRO_DECODE' }) }],
      });
      if (commit) await tx.commit();
      else await tx.abort();
    };
    await send('committed-1', true);
    await send('aborted', false);
    await send('committed-2', true);
    await producer.disconnect();
    // The topic ends with a commit marker, which no consumer ever sees as a record.
    const summary = await replay(config);
    expect(summary).toMatchObject({ scanned: 2, published: 2 });
    expect(keys(await consumeRecords([input], 2))).toEqual(['committed-1', 'committed-2']);
    expect(await replay(config)).toMatchObject({ scanned: 0, published: 0 });
  });

  it('rejects bad options before reading anything', async () => {
    const { config, dlq } = await replaySetup();
    await expect(replay(config, { code: 'NOT_A_CODE' })).rejects.toThrow(/unknown error code NOT_A_CODE/);
    await expect(replay(config, { since: 'last tuesday' })).rejects.toThrow(ReplayOptionError);
    await expect(replay(config, { to: dlq })).rejects.toThrow(/is the dead-letter topic itself/);
    await expect(replay(config, { to: '' })).rejects.toThrow(/--to needs a topic name/);
    await expect(replay(config, { to: uniqueName('missing') })).rejects.toThrow(/topic missing-\S+ does not exist/);
    const noDlq = loadConfig({ ...envOf(config), DLQ_TOPIC: uniqueName('no-dlq') });
    await expect(replay(noDlq)).rejects.toThrow(/topic no-dlq-\S+ does not exist/);
  });
});

function envOf(config: Config): Record<string, string> {
  return {
    KAFKA_BROKERS: config.kafka.brokers.join(','),
    KAFKA_GROUP_ID: config.kafka.groupId,
    INPUT_TOPIC: config.topics.input,
    VALID_TOPIC: config.topics.valid,
    INVALID_TOPIC: config.topics.invalid,
  };
}

describe('replay-dlq end to end', () => {
  let pipeline: TestPipeline | undefined;
  afterEach(async () => {
    await pipeline?.stop();
    pipeline = undefined;
  });

  it('replayed records flow through a running processor to results', async () => {
    // The validator fails on its first look at each address (a bug, dead-lettered as
    // VALIDATION_ERROR) and works afterwards, as after a fix is deployed.
    const seen = new Set<string>();
    const validator: Validator = {
      async validate(address) {
        if (!seen.has(address)) {
          seen.add(address);
          throw new Error('validator bug');
        }
        return { verdict: 'deliverable', reason: null, flags: [], normalized: address, suggestion: null, checks: [] };
      },
    };
    pipeline = await startTestPipeline({ validator, partitions: 2 });
    const t = pipeline.topics;
    const events = Array.from({ length: 20 }, (_, i) => ({
      key: `user-${i}`,
      value: encodeSignupEvent({
        eventId: `evt-${i}`,
        userId: `user-${i}`,
        email: `person${i}@example.com`,
        occurredAt: 1_764_300_000_000,
        source: 'web',
        locale: null,
      }),
    }));
    const producer = exactProducer();
    await producer.connect();
    await producer.send({
      topic: t.input,
      acks: -1,
      messages: [...events, { key: 'poison', value: Buffer.from([0xff, 1]) }],
    });
    await producer.disconnect();
    const dead = await consumeRecords([t.deadLetter], 21);
    expect(dead).toHaveLength(21);
    // At-least-once: a rebalance may have dead-lettered an event twice; the replay takes what is there.
    const deadCount = await topicSize(t.deadLetter);

    const summary = await replay(pipeline.config, { code: 'VALIDATION_ERROR' });
    expect(summary).toMatchObject({ scanned: deadCount, matching: deadCount - 1, published: deadCount - 1 });
    const results = await consumeRecords([t.valid], summary.published);
    expect(results.length).toBeGreaterThanOrEqual(20);
    const ids = [...new Set(results.map((r) => resultType.fromBuffer(r.message.value!).eventId as string))].sort();
    expect(ids).toEqual(events.map((_, i) => `evt-${i}`).sort());
    for (const r of results) {
      const result = resultType.fromBuffer(r.message.value!);
      expect(r.message.key?.toString()).toBe(result.userId);
      expect(result.sourceRecord.topic).toBe(t.input);
    }
    // The poison record stayed where it was; nothing new reached the dead-letter topic.
    expect(await topicSize(t.deadLetter)).toBe(deadCount);
    expect(pipeline.processor.state).toBe('running');
  });
});
