import { describe, expect, it } from 'vitest';
import {
  committedTotal,
  createTopicsOn,
  endOffsets,
  endTotal,
  killLeadersMidStream,
  missingInputs,
  processorEnv,
  produceUntilStopped,
  resultsByInput,
  stableProducer,
  supervisedProcessor,
  useOwnCluster,
  waitFor,
} from '../helpers/children.js';

// Three combined broker/controller nodes: replication factor 3, min.insync.replicas 2.
const { name: CLUSTER, brokers } = useOwnCluster('chaos-failover-eos', 3);

// KNOWN FAILURE, so opt-in (EFV_EOS_FAILOVER=1): with KafkaJS 2.2.4's transactions, a leader
// failover broke exactly-once in both runs made — once 747 inputs had their offsets committed
// without a committed result, once 634 inputs got two committed results. See README, "Exactly-once".
describe.skipIf(process.env.EFV_EOS_FAILOVER !== '1')('broker failover, exactly-once (opt-in: known to fail)', () => {
  it('gives each input exactly one committed result when the leaders of an input and a result partition are killed', async () => {
    const topics = { input: 'foe', valid: 'foe.valid', invalid: 'foe.invalid', dlq: 'foe.dlq' };
    await createTopicsOn(brokers, Object.values(topics), 6);
    const groupId = 'foe-group';
    // A transaction that fails stops the processor; like Kubernetes, the supervisor starts it
    // again with the same transactional id, which aborts whatever the old one left open.
    const proc = supervisedProcessor(
      {
        ...processorEnv(brokers, topics, groupId),
        DELIVERY: 'exactly-once',
        KAFKA_TRANSACTIONAL_ID: 'foe-processor',
        PARTITION_WINDOW: '1000',
      },
      'p',
    );
    const producer = await stableProducer(brokers);
    const producing = produceUntilStopped(producer, topics.input, { chunk: 250, pauseMs: 200 });
    // Exactly-once commits input offsets inside the transactions that carry their results.
    const committed = () => committedTotal(brokers, groupId, topics.input);
    const recoveries = await killLeadersMidStream(CLUSTER, brokers, committed, [
      [topics.input, 'input'],
      [topics.valid, 'result'],
    ]);
    await producing.stop();
    await producer.disconnect();
    const total = await endTotal(brokers, topics.input);
    await waitFor('the processor to drain the topic', async () => (await committed()) >= total, 180_000);
    expect(await proc.stop()).toBe(0);

    const { counts, records } = await resultsByInput(
      brokers,
      { results: [topics.valid, topics.invalid], deadLetter: topics.dlq },
      { readCommitted: true },
    );
    const missing = missingInputs(await endOffsets(brokers, topics.input), counts);
    expect(missing, `inputs without a committed result: ${missing.slice(0, 10).join(', ')}`).toEqual([]);
    const repeated = [...counts].filter(([, n]) => n > 1).map(([coord]) => coord);
    expect(repeated, `inputs with more than one committed result: ${repeated.slice(0, 10).join(', ')}`).toEqual([]);
    expect(records).toBe(total);
    console.info(
      `failover (exactly-once): ${total} events, lost 0, 0 duplicates, processor restarts ${proc.restarts()}; ${recoveries.join('; ')}`,
    );
  });
});
