import type { Producer } from 'kafkajs';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { type ConsumedOffset, TransactionalPublisher } from '../../src/pipeline/transactions.js';
import { consumeRecords, createTopics, deleteTopics, testKafka, uniqueName } from '../helpers/kafka.js';

const producers: Producer[] = [];
afterEach(async () => {
  await Promise.all(producers.splice(0).map((p) => p.disconnect().catch(() => {})));
});

function transactionalProducer(transactionalId: string): Producer {
  const p = testKafka().producer({ transactionalId, idempotent: true, maxInFlightRequests: 1 });
  producers.push(p);
  return p;
}

describe('TransactionalPublisher on a real broker', () => {
  it('after a failed transaction sends nothing more: later records are refused, not committed', async () => {
    const topic = uniqueName('txn-results');
    await createTopics([topic], 2);
    const transactionalId = uniqueName('txn');
    let prepared = 0;
    const publisher = new TransactionalPublisher<number>(
      transactionalProducer(transactionalId),
      uniqueName('group'),
      { batchSize: 10, lingerMs: 1 },
      {
        prepare: (metas) => {
          prepared++;
          return { keep: metas.map(() => true), offsets: [] as ConsumedOffset[] };
        },
        committed: () => {},
      },
      pino({ level: 'silent' }),
    );
    publisher.setPartitionCounts(new Map([[topic, 2]]));
    await publisher.connect();
    const record = (n: number) => ({ topic, key: `k${n}`, value: Buffer.from(`v${n}`), headers: {} });

    await publisher.publish(record(1), 1);
    expect(prepared).toBe(1);

    // The broker refuses a record over its 1 MB limit: that transaction fails and is aborted.
    const tooLarge = { ...record(2), value: Buffer.alloc(2 * 1024 * 1024, 1) };
    await expect(publisher.publish(tooLarge, 2)).rejects.toThrow();
    expect(prepared).toBe(2);

    // Nothing after a failure is prepared or sent: it would commit offsets of records whose
    // results were aborted.
    await expect(publisher.publish(record(3), 3)).rejects.toThrow();
    expect(prepared).toBe(2);

    const committed = await consumeRecords([topic], 3, 5000, { readCommitted: true });
    expect(committed.map((r) => r.message.value?.toString())).toEqual(['v1']);
    await deleteTopics([topic]);
  });
});
