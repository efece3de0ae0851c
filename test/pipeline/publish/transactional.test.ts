import { createRequire } from 'node:module';
import {
  type Consumer,
  Kafka,
  KafkaJSConnectionError,
  KafkaJSNumberOfRetriesExceeded,
  logLevel,
  type Producer,
} from 'kafkajs';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { installGroupFencing, requireStableOffsets } from '../../../src/kafka/group-fencing.js';
import {
  type ConsumedOffset,
  commitRetryKind,
  type Decision,
  retryKind,
  TransactionalPublisher,
} from '../../../src/pipeline/publish/transactional.js';
import {
  consumeRecords,
  createTopics,
  deleteTopics,
  testBrokers,
  testKafka,
  uniqueName,
  withAdmin,
} from '../../helpers/kafka.js';

const producers: Producer[] = [];
const consumers: Consumer[] = [];
afterEach(async () => {
  await Promise.all(consumers.splice(0).map((c) => c.disconnect().catch(() => {})));
  await Promise.all(producers.splice(0).map((p) => p.disconnect().catch(() => {})));
});

function transactionalProducer(transactionalId: string): () => Producer {
  return () => {
    const p = testKafka().producer({ transactionalId, idempotent: true, maxInFlightRequests: 1 });
    producers.push(p);
    return p;
  };
}

const silent = pino({ level: 'silent' });
const record = (topic: string, n: number) => ({ topic, key: `k${n}`, value: Buffer.from(`v${n}`), headers: {} });

/** A group member that joined: its member id and the GROUP_JOIN events it saw. */
async function joinedConsumer(groupId: string, topic: string, onJoin?: (memberId: string) => void) {
  const consumer = testKafka().consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 500 });
  consumers.push(consumer);
  let joins = 0;
  let memberId = '';
  let wake: (() => void) | undefined;
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    memberId = e.payload.memberId;
    joins++;
    onJoin?.(memberId);
    wake?.();
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({ eachMessage: async () => {} });
  const joinsAtLeast = async (n: number) => {
    while (joins < n) await new Promise<void>((r) => (wake = r));
  };
  await joinsAtLeast(1);
  return { consumer, memberId: () => memberId, joins: () => joins, joinsAtLeast };
}

const { createErrorFromCode } = createRequire(import.meta.url)('kafkajs/src/protocol/error.js') as {
  createErrorFromCode(code: number): Error;
};

describe('which failed transactions are retried', () => {
  it('before the commit: group fencing waits for the rejoin, broker and leader moves retry, refused records stop', () => {
    expect(retryKind(createErrorFromCode(22))).toBe('rejoin'); // ILLEGAL_GENERATION
    expect(retryKind(createErrorFromCode(25))).toBe('rejoin'); // UNKNOWN_MEMBER_ID
    expect(retryKind(createErrorFromCode(14))).toBe('retry'); // COORDINATOR_LOAD_IN_PROGRESS (AddOffsetsToTxn)
    expect(retryKind(createErrorFromCode(6))).toBe('retry'); // NOT_LEADER_FOR_PARTITION
    expect(retryKind(createErrorFromCode(51))).toBe('retry'); // CONCURRENT_TRANSACTIONS
    expect(retryKind(createErrorFromCode(47))).toBe('retry'); // INVALID_PRODUCER_EPOCH
    const refused = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:1');
    expect(retryKind(new KafkaJSNumberOfRetriesExceeded(refused, { retryCount: 5, retryTime: 100 }))).toBe('retry');
    expect(retryKind(createErrorFromCode(10))).toBe('fatal'); // MESSAGE_TOO_LARGE
    expect(retryKind(new Error('bug'))).toBe('fatal');
  });

  it('a failed commit only when the coordinator refused it: otherwise its outcome is unknown', () => {
    expect(commitRetryKind(createErrorFromCode(47))).toBe('retry'); // INVALID_PRODUCER_EPOCH
    expect(commitRetryKind(new KafkaJSConnectionError('Connection error: read ECONNRESET'))).toBe('fatal');
  });
});

describe('TransactionalPublisher on a real broker', () => {
  it('after a transaction the broker refuses sends nothing more: later records are refused, not committed', async () => {
    const topic = uniqueName('txn-results');
    await createTopics([topic], 2);
    let prepared = 0;
    const publisher = new TransactionalPublisher<number>(
      transactionalProducer(uniqueName('txn')),
      uniqueName('group'),
      { batchSize: 10, lingerMs: 1, transactionalId: uniqueName('txn') },
      {
        prepare: (metas) => {
          prepared++;
          return { decisions: metas.map((): Decision => 'send'), offsets: [] as ConsumedOffset[] };
        },
        committed: () => {},
      },
      silent,
    );
    publisher.setPartitionCounts(new Map([[topic, 2]]));
    await publisher.connect();

    await publisher.publish(record(topic, 1), 1);
    expect(prepared).toBe(1);

    // The broker refuses a record over its 1 MB limit: not retriable, that transaction fails.
    const tooLarge = { ...record(topic, 2), value: Buffer.alloc(2 * 1024 * 1024, 1) };
    await expect(publisher.publish(tooLarge, 2)).rejects.toThrow();
    expect(prepared).toBe(2);

    // Nothing after a failure is prepared or sent: it would commit offsets of records whose
    // results were aborted.
    await expect(publisher.publish(record(topic, 3), 3)).rejects.toThrow();
    expect(prepared).toBe(2);

    const committed = await consumeRecords([topic], 3, 5000, { readCommitted: true });
    expect(committed.map((r) => r.message.value?.toString())).toEqual(['v1']);
    await publisher.close();
    await deleteTopics([topic]);
  });

  it('holds a record until a transaction commits its offset, and drops those of a revoked partition', async () => {
    const topic = uniqueName('txn-hold');
    await createTopics([topic], 1);
    // Stand-in for the processor's prepare: offsets below `frontier` are done and contiguous.
    let frontier = 0;
    const committedOffsets: string[] = [];
    const publisher = new TransactionalPublisher<{ offset: number; revoked?: boolean }>(
      transactionalProducer(uniqueName('txn')),
      uniqueName('group'),
      { batchSize: 10, lingerMs: 1, transactionalId: uniqueName('txn') },
      {
        prepare: (metas) => ({
          decisions: metas.map((m): Decision => (m.revoked ? 'drop' : m.offset < frontier ? 'send' : 'hold')),
          offsets: [],
        }),
        committed: () => committedOffsets.push(String(frontier)),
      },
      silent,
    );
    publisher.setPartitionCounts(new Map([[topic, 1]]));
    await publisher.connect();
    let fiveSettled = false;
    const five = publisher.publish(record(topic, 5), { offset: 5 }).then(() => {
      fiveSettled = true;
    });
    await publisher.publish(record(topic, 9), { offset: 9, revoked: true });
    expect(fiveSettled).toBe(false);
    expect(publisher.pendingCount()).toBe(1);
    frontier = 6;
    await publisher.publish(record(topic, 0), { offset: 0 });
    await five;
    const committed = await consumeRecords([topic], 2, 5000, { readCommitted: true });
    // In hand-in order: the held record first.
    expect(committed.map((r) => r.message.value?.toString())).toEqual(['v5', 'v0']);
    await publisher.close();
    await deleteTopics([topic]);
  });
});

describe('consumer-group fencing of transactional offsets (KIP-447)', () => {
  it("rejects a stale member's offsets: the transaction aborts and nothing of it is visible", async () => {
    const topic = uniqueName('fence-in');
    const results = uniqueName('fence-out');
    await createTopics([topic, results], 2);
    const groupId = uniqueName('fence-group');
    installGroupFencing();
    const make = (transactionalId: string) =>
      new TransactionalPublisher<number>(
        transactionalProducer(transactionalId),
        groupId,
        { batchSize: 10, lingerMs: 1, transactionalId, maxAttempts: 1 },
        {
          prepare: (metas) => ({
            decisions: metas.map((): Decision => 'send'),
            offsets: [{ topic, partition: 0, offset: String(metas[0]! + 1) }],
          }),
          committed: () => {},
        },
        silent,
      );
    // `stale` learns A's generation at its first join only; `current` at every join.
    const stale = make(uniqueName('txn-stale'));
    const current = make(uniqueName('txn-current'));
    for (const p of [stale, current]) {
      p.setPartitionCounts(new Map([[results, 2]]));
      await p.connect();
    }
    let staleSet = false;
    const a = await joinedConsumer(groupId, topic, (memberId) => {
      if (!staleSet) stale.groupJoined(memberId);
      staleSet = true;
      current.groupJoined(memberId);
    });
    // B joining starts a new generation; A rejoins into it.
    await joinedConsumer(groupId, topic);
    await a.joinsAtLeast(2);

    const err = await stale.publish(record(results, 1), 1).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err, 'a stale generation commits offsets').toBeDefined();
    expect(['ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'REBALANCE_IN_PROGRESS']).toContain(
      (err as { type?: string }).type,
    );
    expect(retryKind(err)).toBe('rejoin');

    // The member's current generation commits.
    await current.publish(record(results, 2), 2);
    const visible = await consumeRecords([results], 2, 5000, { readCommitted: true });
    expect(visible.map((r) => r.message.value?.toString())).toEqual(['v2']);
    const offsets = await withAdmin((admin) => admin.fetchOffsets({ groupId, topics: [topic] }));
    expect(offsets[0]!.partitions.find((p) => p.partition === 0)!.offset).toBe('3');
    await stale.close().catch(() => {});
    await current.close();
    await deleteTopics([topic, results]);
  });

  it("a partition's next owner reads the committed offset only once the transaction carrying it ended", async () => {
    installGroupFencing();
    const topic = uniqueName('stable-in');
    await createTopics([topic], 1);
    const groupId = uniqueName('stable-group');
    requireStableOffsets(groupId);
    const producer = transactionalProducer(uniqueName('txn'))();
    await producer.connect();
    const txn = await producer.transaction();
    await txn.sendOffsets({
      consumerGroupId: groupId,
      topics: [{ topic, partitions: [{ partition: 0, offset: '7' }] }],
    });
    // Few retries: while the transaction is open, every answer is UNSTABLE_OFFSET_COMMIT.
    const once = new Kafka({
      brokers: testBrokers(),
      logLevel: logLevel.NOTHING,
      retry: { retries: 2, initialRetryTime: 50 },
    }).admin();
    await once.connect();
    try {
      const err = await once.fetchOffsets({ groupId, topics: [topic] }).then(
        () => undefined,
        (e: { type?: string; cause?: { type?: string } }) => e,
      );
      expect(err?.type ?? err?.cause?.type).toBe('UNSTABLE_OFFSET_COMMIT');
      await txn.commit();
      // EndTxn answers once the commit is decided; the coordinator writes its markers (into
      // __consumer_offsets too) right after, so the offset may stay unstable a moment longer.
      let offset: string | undefined;
      for (const until = Date.now() + 15_000; offset === undefined && Date.now() < until; ) {
        offset = await once.fetchOffsets({ groupId, topics: [topic] }).then(
          ([t]) => t!.partitions[0]!.offset,
          async (e: { type?: string; cause?: { type?: string } }) => {
            if ((e.type ?? e.cause?.type) !== 'UNSTABLE_OFFSET_COMMIT') throw e;
            await new Promise((r) => setTimeout(r, 100));
            return undefined;
          },
        );
      }
      expect(offset).toBe('7');
    } finally {
      await once.disconnect();
      requireStableOffsets(groupId, false);
    }
    await deleteTopics([topic]);
  });
});
