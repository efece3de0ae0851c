import { describe, expect, it } from 'vitest';
import {
  answeredInputs,
  committedTotal,
  createTopicsOn,
  endTotal,
  processorEnv,
  produceStream,
  stableProducer,
  supervisedProcessor,
  useOwnCluster,
  waitFor,
} from '../helpers/children.js';

const { brokers } = useOwnCluster('chaos-crash', 1);
const PARTITIONS = 6;
const EVENTS = 50_000;
const KILLS = 3;

describe('processor crashes (exactly-once)', () => {
  it('SIGKILLed mid-stream and restarted, again and again: a read_committed reader sees exactly one result per input', async () => {
    const topics = { input: 'crash', valid: 'crash.valid', invalid: 'crash.invalid', dlq: 'crash.dlq' };
    await createTopicsOn(brokers, Object.values(topics), PARTITIONS);
    const groupId = 'crash-group';
    // Restarted as a supervisor would; each start has a transactional id of its own (host
    // name and pid), so a killed one's open transaction is ended by its timeout, not by the
    // next start: the fencing of its offsets is what keeps its results out.
    const proc = supervisedProcessor(
      { ...processorEnv(brokers, topics, groupId), DELIVERY: 'exactly-once', PARTITION_WINDOW: '1000' },
      'p',
    );
    const producer = await stableProducer(brokers);
    const producing = produceStream(producer, topics.input, EVENTS, { chunk: 500, pauseMs: 100 });
    const committed = () => committedTotal(brokers, groupId, topics.input);
    const killedAt: number[] = [];
    for (let k = 1; k <= KILLS; k++) {
      const before = await committed();
      await waitFor(`progress before kill ${k}`, async () => (await committed()) >= before + 4000, 180_000);
      const child = proc.current();
      child.child.kill('SIGKILL');
      await child.exited;
      killedAt.push(await committed());
    }
    await producing;
    await producer.disconnect();
    const total = await endTotal(brokers, topics.input);
    expect(total).toBe(EVENTS);
    await waitFor('the processor to drain the topic', async () => (await committed()) >= total, 240_000);
    expect(await proc.stop()).toBe(0);

    const { missing, duplicates } = await answeredInputs(brokers, topics, { readCommitted: true });
    console.info(
      `crash (exactly-once): ${total} events, ${KILLS} SIGKILLs (committed ${killedAt.join(', ')} at the kills), lost ${missing.length}, ${duplicates} duplicates, restarts ${proc.restarts()}`,
    );
    expect(missing, `inputs without a result: ${missing.slice(0, 10).join(', ')}`).toEqual([]);
    expect(duplicates).toBe(0);
    expect(proc.restarts()).toBe(KILLS);
  });
});
