import { describe, expect, it } from 'vitest';
import { signupEventType } from '../../src/schemas.js';
import {
  committedTotal,
  createTopicsOn,
  endOffsets,
  endTotal,
  kafkaFor,
  killLeadersMidStream,
  missingInputs,
  processorEnv,
  produceUntilStopped,
  resultsByInput,
  stableProducer,
  startProcessorChild,
  useOwnCluster,
  waitFor,
} from '../helpers/children.js';
import { resultType } from '../helpers/processor.js';

// Three combined broker/controller nodes: replication factor 3, min.insync.replicas 2.
const { name: CLUSTER, brokers } = useOwnCluster('chaos-failover', 3);

/** Where the first missing input went: its record, any result naming its event, the commits around it. */
async function explainMissing(
  coord: string,
  topics: { input: string; valid: string; invalid: string; dlq: string },
  lines: string[],
): Promise<string> {
  const [partition, offset] = coord.split(':').map(Number) as [number, number];
  const consumer = kafkaFor(brokers).consumer({ groupId: `explain-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topics: [topics.input, topics.valid, topics.invalid, topics.dlq], fromBeginning: true });
  let eventId: string | undefined;
  const found: string[] = [];
  const seen: { topic: string; partition: number; offset: string; eventId: string; src: string }[] = [];
  await new Promise<void>((resolve) => {
    setTimeout(resolve, 20_000);
    void consumer.run({
      eachMessage: async ({ topic, partition: p, message }) => {
        if (topic === topics.input) {
          if (p === partition && Number(message.offset) === offset)
            eventId = signupEventType.fromBuffer(message.value!).eventId;
          return;
        }
        if (topic === topics.dlq) return;
        const r = resultType.fromBuffer(message.value!);
        seen.push({
          topic,
          partition: p,
          offset: message.offset,
          eventId: r.eventId,
          src: `${r.sourceRecord.partition}:${r.sourceRecord.offset}`,
        });
      },
    });
  });
  await consumer.disconnect();
  for (const r of seen) if (r.eventId === eventId) found.push(JSON.stringify(r));
  const commits = lines
    .filter((l) => l.includes('"offsets committed"') && l.includes(`"partition":${partition},`))
    .map((l) => {
      const c = (JSON.parse(l) as { time: string; committed: { partition: number; offset: string }[] }).committed;
      return c.find((x) => x.partition === partition)?.offset;
    })
    .filter((o) => o !== undefined && Math.abs(Number(o) - offset) < 3000);
  return `missing ${coord}: input eventId ${eventId}; results with that eventId: ${found.join(' ') || 'none'}; commits of p${partition} near it: ${commits.join(',')}`;
}

describe('broker failover', () => {
  it('loses no event when the leaders of an input and a result partition are killed mid-stream', async () => {
    const topics = { input: 'fo', valid: 'fo.valid', invalid: 'fo.invalid', dlq: 'fo.dlq' };
    await createTopicsOn(brokers, Object.values(topics), 6);
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
    const recoveries = await killLeadersMidStream(CLUSTER, brokers, committed, [
      [topics.input, 'input'],
      [topics.valid, 'result'],
    ]);
    const produced = await producing.stop();
    await producer.disconnect();
    // The guarantee under test is the processor's: a result for every record the input topic
    // holds. The test's own KafkaJS producer is not held to it (its multi-partition sends can
    // lose records in a failover, the KafkaJS flaw the processor's publisher works around).
    const total = await endTotal(brokers, topics.input);
    if (total !== produced) console.warn(`test producer: sent ${produced}, input topic holds ${total}`);
    await waitFor('the processor to drain the topic', async () => (await committed()) >= total, 180_000);
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);

    const { counts, records } = await resultsByInput(brokers, {
      results: [topics.valid, topics.invalid],
      deadLetter: topics.dlq,
    });
    const missing = missingInputs(await endOffsets(brokers, topics.input), counts);
    if (missing.length > 0) console.error(await explainMissing(missing[0]!, topics, proc.lines));
    expect(missing, `inputs without a result: ${missing.slice(0, 10).join(', ')}`).toEqual([]);
    console.info(`failover: ${total} events, lost 0, ${records - counts.size} duplicates; ${recoveries.join('; ')}`);
  });
});
