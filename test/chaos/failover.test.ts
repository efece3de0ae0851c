import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, startNode, stopCluster, stopNode } from '../../dev/kafka/cluster.mjs';
import {
  committedTotal,
  endOffsets,
  endTotal,
  missingInputs,
  processorEnv,
  produceUntilStopped,
  resultsByInput,
  stableProducer,
  startProcessorChild,
  waitFor,
  withAdminOn,
} from '../helpers/children.js';

const CLUSTER = `chaos-failover-${process.pid}`;
let brokers: string[];

beforeAll(async () => {
  // Three combined broker/controller nodes: replication factor 3, min.insync.replicas 2.
  brokers = (await startCluster({ name: CLUSTER, nodes: 3 })).brokers.split(',');
});
afterAll(async () => {
  await stopCluster({ name: CLUSTER });
});

async function leaderOf(topic: string, partition: number): Promise<number> {
  return withAdminOn(brokers, async (admin) => {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    return topics[0]!.partitions.find((p) => p.partitionId === partition)!.leader;
  });
}

describe('broker failover', () => {
  it('loses no event when the leaders of an input and a result partition are killed mid-stream', async () => {
    const topics = { input: 'fo', valid: 'fo.valid', invalid: 'fo.invalid', dlq: 'fo.dlq' };
    await withAdminOn(brokers, (admin) =>
      admin.createTopics({
        waitForLeaders: true,
        topics: Object.values(topics).map((topic) => ({ topic, numPartitions: 6, replicationFactor: 3 })),
      }),
    );
    const groupId = 'fo-group';
    const proc = startProcessorChild(
      {
        ...processorEnv(brokers, topics, groupId),
        PARTITION_WINDOW: '1000',
        LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'info',
      },
      'p',
    );
    const producer = await stableProducer(brokers);
    // A steady stream until both faults are over, so each kill lands while events flow.
    const producing = produceUntilStopped(producer, topics.input, { chunk: 250, pauseMs: 200 });
    const committed = () => committedTotal(brokers, groupId, topics.input);
    const recoveries: string[] = [];

    for (const [topic, label] of [
      [topics.input, 'input'],
      [topics.valid, 'result'],
    ] as const) {
      const before = await committed();
      await waitFor(
        `progress before killing the ${label} leader`,
        async () => (await committed()) >= before + 3000,
        120_000,
      );
      const leader = await leaderOf(topic, 0);
      const killedAt = Date.now();
      const atKill = await committed();
      await stopNode({ name: CLUSTER, id: leader, signal: 'SIGKILL' });
      await waitFor(`progress with the ${label} leader down`, async () => (await committed()) > atKill + 1000, 120_000);
      recoveries.push(`${label} leader (node ${leader}) killed: progress again after ${Date.now() - killedAt} ms`);
      await new Promise((r) => setTimeout(r, 2000));
      await startNode({ name: CLUSTER, id: leader });
    }
    const produced = await producing.stop();
    await producer.disconnect();
    // The test's producer may duplicate a chunk on a retry (it is not idempotent), never lose one.
    const total = await endTotal(brokers, topics.input);
    expect(total).toBeGreaterThanOrEqual(produced);
    await waitFor('the processor to drain the topic', async () => (await committed()) >= total, 180_000);
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);

    const { counts, records } = await resultsByInput(brokers, {
      results: [topics.valid, topics.invalid],
      deadLetter: topics.dlq,
    });
    const missing = missingInputs(await endOffsets(brokers, topics.input), counts);
    expect(missing, `inputs without a result: ${missing.slice(0, 10).join(', ')}`).toEqual([]);
    console.info(`failover: ${total} events, lost 0, ${records - counts.size} duplicates; ${recoveries.join('; ')}`);
  });
});
