/**
 * The publisher's lanes (PUBLISH_IN_FLIGHT) on the real broker: several produce requests on
 * the wire at once, yet never one partition in two of them, so each key's results arrive in
 * the order they were handed in. The producer is a real KafkaJS producer; the test only
 * watches its `sendBatch` calls.
 */
import type { Producer } from 'kafkajs';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { producerConfig } from '../../src/kafka/clients.js';
import { BatchPublisher } from '../../src/pipeline/publish/batch-publisher.js';
import type { Queued } from '../../src/pipeline/publish/batcher.js';
import { consumeRecords, createTopics, deleteTopics, testKafka, topicSize, uniqueName } from '../helpers/kafka.js';

const topics: string[] = [];
afterAll(async () => {
  if (topics.length > 0) await deleteTopics(topics);
});

/** Wraps a real producer's sendBatch to see which topic-partitions are on the wire together. */
function watched(producer: Producer, seen: { maxConcurrent: number; overlaps: number }): Producer {
  const onWire = new Map<string, number>();
  let concurrent = 0;
  const sendBatch = producer.sendBatch.bind(producer);
  producer.sendBatch = async (batch) => {
    const parts = new Set<string>();
    for (const tm of batch.topicMessages ?? []) for (const m of tm.messages) parts.add(`${tm.topic}/${m.partition}`);
    for (const p of parts) {
      if ((onWire.get(p) ?? 0) > 0) seen.overlaps++;
      onWire.set(p, (onWire.get(p) ?? 0) + 1);
    }
    concurrent++;
    seen.maxConcurrent = Math.max(seen.maxConcurrent, concurrent);
    try {
      return await sendBatch(batch);
    } finally {
      concurrent--;
      for (const p of parts) onWire.set(p, onWire.get(p)! - 1);
    }
  };
  return producer;
}

describe('publisher lanes', () => {
  it('keeps requests in flight together, each partition in one at a time, and every key in order', async () => {
    const topic = uniqueName('lanes');
    topics.push(topic);
    await createTopics([topic], 12);
    const seen = { maxConcurrent: 0, overlaps: 0 };
    const kafka = testKafka();
    const publisher = new BatchPublisher(
      () => watched(kafka.producer(producerConfig({ maxInFlightRequests: 4 })), seen),
      { batchSize: 50, lingerMs: 1, lanes: 4 },
      pino({ level: 'silent' }),
    );
    publisher.setPartitionCounts(new Map([[topic, 12]]));
    await publisher.connect();
    const keys = 40;
    const perKey = 100;
    let acknowledged = 0;
    let failed = 0;
    const done = new Promise<void>((resolve) => {
      for (let i = 0; i < perKey; i++) {
        for (let k = 0; k < keys; k++) {
          const item: Queued = {
            record: { topic, key: `user-${k}`, value: Buffer.from(String(i)), headers: {} },
            resolve: () => {
              if (++acknowledged + failed === keys * perKey) resolve();
            },
            reject: () => {
              if (acknowledged + ++failed === keys * perKey) resolve();
            },
          };
          publisher.submit(item);
        }
      }
    });
    await done;
    await publisher.close();
    expect(failed).toBe(0);
    expect(seen.maxConcurrent).toBeGreaterThan(1);
    expect(seen.overlaps).toBe(0);
    // At-least-once: KafkaJS retries a whole produce request when some of its partitions
    // failed, so those that were written are written again (on a topic created just before,
    // 30–160 of 4,000 here, with one lane as with four). So each key's first occurrences
    // must be complete and in order; a repeat is a duplicate.
    const distinct = (rs: { message: { key: Buffer | null; value: Buffer | null } }[]) =>
      new Set(rs.map((r) => `${r.message.key}/${r.message.value}`)).size;
    const records = await consumeRecords([topic], keys * perKey, 30_000, {
      until: (rs) => distinct(rs) >= keys * perKey,
    });
    const byKey = new Map<string, number[]>();
    for (const r of records) {
      const key = r.message.key!.toString();
      const value = Number(r.message.value!.toString());
      const list = byKey.get(key) ?? [];
      if (!list.includes(value)) list.push(value);
      byKey.set(key, list);
    }
    expect(byKey.size).toBe(keys);
    for (const list of byKey.values()) expect(list).toEqual(Array.from({ length: perKey }, (_, i) => i));
    if (records.length > keys * perKey)
      console.info(`${records.length - keys * perKey} duplicates after retries; topic holds ${await topicSize(topic)}`);
  });
});
