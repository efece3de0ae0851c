import { describe, expect, it } from 'vitest';
import {
  committedTotal,
  createTopicsOn,
  endOffsets,
  missingInputs,
  processorEnv,
  produceStream,
  resultsByInput,
  stableProducer,
  startProcessorChild,
  useOwnCluster,
  waitFor,
  withAdminOn,
} from '../helpers/children.js';

const { brokers } = useOwnCluster('chaos-shutdown', 1);

describe('graceful shutdown during a peak', () => {
  it('on SIGTERM drains, commits exactly what it published, and exits 0 within the deadline', async () => {
    const topics = { input: 'peak', valid: 'peak.valid', invalid: 'peak.invalid', dlq: 'peak.dlq' };
    await createTopicsOn(brokers, Object.values(topics), 6);
    const producer = await stableProducer(brokers);
    await produceStream(producer, topics.input, 30_000, { chunk: 2000 });
    await producer.disconnect();
    const groupId = 'peak-group';
    const proc = startProcessorChild({
      ...processorEnv(brokers, topics, groupId),
      SHUTDOWN_TIMEOUT_MS: '10000',
      PARTITION_WINDOW: '1000',
    });
    await waitFor(
      'the processor to be busy',
      async () => (await committedTotal(brokers, groupId, topics.input)) > 3000,
      60_000,
    );
    const signalled = Date.now();
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
    const shutdownMs = Date.now() - signalled;
    expect(shutdownMs).toBeLessThan(10_000 + 5000);

    // Drained: every offset below the commit has a result, and nothing at or above it was
    // published (no work was left half done).
    const committed = await withAdminOn(brokers, async (admin) => {
      const [t] = await admin.fetchOffsets({ groupId, topics: [topics.input] });
      return new Map((t?.partitions ?? []).map((p) => [p.partition, Math.max(0, Number(p.offset))]));
    });
    const { counts } = await resultsByInput(brokers, {
      results: [topics.valid, topics.invalid],
      deadLetter: topics.dlq,
    });
    expect(missingInputs(committed, counts)).toEqual([]);
    const beyond = [...counts.keys()].filter((k) => {
      const [p, o] = k.split(':').map(Number) as [number, number];
      return o >= (committed.get(p) ?? 0);
    });
    expect(beyond, 'results published but not committed').toEqual([]);
    const total = [...committed.values()].reduce((a, b) => a + b, 0);
    const ends = await endOffsets(brokers, topics.input);
    expect(total).toBeLessThan([...ends.values()].reduce((a, b) => a + b, 0));
    expect(proc.lines.some((l) => l.includes('"state":"stopped"'))).toBe(true);
    console.info(`shutdown: ${total} committed, stopped ${shutdownMs} ms after SIGTERM`);
  });
});
