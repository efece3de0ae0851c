import { describe, expect, it } from 'vitest';
import {
  answeredInputs,
  committedTotal,
  createTopicsOn,
  endTotal,
  type ProcessorChild,
  processorEnv,
  produceStream,
  stableProducer,
  startProcessorChild,
  useOwnCluster,
  waitFor,
} from '../helpers/children.js';

const { brokers } = useOwnCluster('chaos-rebalance', 1);
const PARTITIONS = 6;
const WINDOW = 500;
const EVENTS = 50_000;

interface LogLine {
  msg?: string;
  assignment?: Record<string, number[]>;
  committed?: { topic: string; partition: number; offset: string }[];
}

/** Commits a member made for a partition that its latest assignment did not give it. */
function commitsOutsideAssignment(proc: ProcessorChild, topic: string): string[] {
  let owned = new Set<number>();
  const bad: string[] = [];
  for (const raw of proc.lines) {
    let line: LogLine;
    try {
      line = JSON.parse(raw) as LogLine;
    } catch {
      continue;
    }
    if (line.msg === 'joined consumer group') owned = new Set(line.assignment?.[topic] ?? []);
    if (line.msg === 'offsets committed') {
      for (const c of line.committed ?? [])
        if (c.topic === topic && !owned.has(c.partition)) bad.push(`${c.partition}@${c.offset}`);
    }
  }
  return bad;
}

describe.each([
  { delivery: 'at-least-once', title: 'keeps every event' },
  { delivery: 'exactly-once', title: 'shows a read_committed reader exactly one result per event' },
] as const)('rebalance under load ($delivery)', ({ delivery, title }) => {
  it(`${title} while members join, leave and crash mid-stream`, async () => {
    const exactlyOnce = delivery === 'exactly-once';
    const prefix = exactlyOnce ? 'flowe' : 'flow';
    const topics = { input: prefix, valid: `${prefix}.valid`, invalid: `${prefix}.invalid`, dlq: `${prefix}.dlq` };
    await createTopicsOn(brokers, Object.values(topics), PARTITIONS);
    const groupId = `${prefix}-group`;
    // Exactly-once: each member's transactional id is its own (host name and pid).
    const env = {
      ...processorEnv(brokers, topics, groupId),
      PARTITION_WINDOW: String(WINDOW),
      LOG_LEVEL: 'debug',
      DELIVERY: delivery,
    };
    const producer = await stableProducer(brokers);
    const producing = produceStream(producer, topics.input, EVENTS, { chunk: 1000, pauseMs: 100 });
    const committed = () => committedTotal(brokers, groupId, topics.input);

    const a = startProcessorChild(env, 'a');
    await waitFor('a to make progress', async () => (await committed()) >= 5000, 90_000);
    const b = startProcessorChild(env, 'b');
    await waitFor('a and b to make progress', async () => (await committed()) >= 15_000, 90_000);
    const c = startProcessorChild(env, 'c');
    await waitFor('three members to make progress', async () => (await committed()) >= 25_000, 90_000);
    a.child.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    await waitFor('b and c to make progress', async () => (await committed()) >= 32_000, 90_000);
    b.child.kill('SIGKILL');
    await b.exited;
    await producing;
    await producer.disconnect();
    const total = await endTotal(brokers, topics.input);
    expect(total).toBe(EVENTS);
    try {
      await waitFor('c to drain the topic', async () => (await committed()) >= total, 240_000);
    } catch (err) {
      // Say where it stands, so a stall can be told from a slow machine.
      const lastStats = c.lines.filter((l) => l.includes('"partition stats"')).slice(-1)[0];
      const warnings = c.lines.filter((l) => /"level":(40|50)/.test(l)).slice(-5);
      console.error(`c: committed ${await committed()} of ${total}; ${lastStats}\n${warnings.join('\n')}`);
      throw err;
    }
    c.child.kill('SIGTERM');
    expect(await c.exited).toBe(0);

    const { missing, duplicates } = await answeredInputs(brokers, topics, { readCommitted: exactlyOnce });
    console.info(`rebalance (${delivery}): ${EVENTS} events, lost ${missing.length}, ${duplicates} duplicates`);
    expect(missing, `inputs without a result: ${missing.slice(0, 10).join(', ')}`).toEqual([]);
    // At-least-once: each membership change may replay at most a window per partition.
    // Exactly-once: a member's offsets are fenced by its generation, and a result is
    // committed only with its input offset.
    expect(duplicates).toBeLessThanOrEqual(exactlyOnce ? 0 : 3 * PARTITIONS * WINDOW);
    for (const [name, proc] of [
      ['a', a],
      ['b', b],
      ['c', c],
    ] as const) {
      // Exactly-once may log a commit after the join that revoked the partition: its offsets
      // went in under the old generation, which the new owner's stable offset fetch waits for.
      if (!exactlyOnce)
        expect(
          commitsOutsideAssignment(proc, topics.input),
          `member ${name} committed for a partition it did not own`,
        ).toEqual([]);
      expect(
        proc.lines.some((l) => l.includes('"msg":"offsets committed"')),
        `member ${name} never committed`,
      ).toBe(true);
    }
  });
});
