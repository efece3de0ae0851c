import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Partitioners } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { DLQ_HEADERS } from '../../src/contract/headers.js';
import { signupMessage } from '../../src/produce/publish-signups.js';
import { syntheticSignups } from '../../src/sim/synthetic.js';
import {
  consumeRecords,
  createTopics,
  deleteTopics,
  testBrokers,
  testKafka,
  uniqueName,
  withAdmin,
} from '../helpers/kafka.js';
import { resultType } from '../helpers/processor.js';

const bin = fileURLToPath(new URL('../../bin/email-flow-validator.mjs', import.meta.url));
const PARTITIONS = 4;
const WINDOW = 200;

const children = new Set<ChildProcess>();

function startChild(env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, [bin, 'run'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  child.stderr?.on('data', (d: Buffer) => {
    if (process.env.TEST_LOG_LEVEL) process.stderr.write(d);
  });
  return child;
}

async function committedTotal(groupId: string, topic: string): Promise<number> {
  return withAdmin(async (admin) => {
    const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return (t?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
  });
}

async function endTotal(topic: string): Promise<number> {
  return withAdmin(async (admin) => (await admin.fetchTopicOffsets(topic)).reduce((s, p) => s + Number(p.high), 0));
}

async function waitFor(what: string, cond: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    // Coordinator moves and group loading are retriable: ask again.
    if (await cond().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

const topicsToDelete: string[] = [];
afterAll(async () => {
  // A failed test must not leave processors behind.
  for (const child of children) child.kill('SIGKILL');
  await deleteTopics(topicsToDelete);
});

describe.each([
  { delivery: 'at-least-once', title: 'loses nothing; duplicates stay within the window' },
  { delivery: 'exactly-once', title: 'shows a read_committed consumer exactly one result per input' },
])('crash safety on a real broker ($delivery)', ({ delivery, title }) => {
  it(`SIGKILLed mid-stream and restarted, the processor ${title}`, async () => {
    const base = uniqueName('crash');
    const topics = { input: base, valid: `${base}.valid`, invalid: `${base}.invalid`, dlq: `${base}.dlq` };
    topicsToDelete.push(...Object.values(topics));
    await createTopics(Object.values(topics), PARTITIONS);
    const groupId = uniqueName('crash-group');
    const env = {
      KAFKA_BROKERS: testBrokers().join(','),
      KAFKA_GROUP_ID: groupId,
      INPUT_TOPIC: topics.input,
      VALID_TOPIC: topics.valid,
      INVALID_TOPIC: topics.invalid,
      DLQ_TOPIC: topics.dlq,
      PARTITION_WINDOW: String(WINDOW),
      PARTITION_CONCURRENCY: '32',
      CHECK_DNS: 'false',
      HTTP_PORT: '-1',
      RETRY_DELAYS: '',
      // Test the sources, not a dist/ that may be stale.
      EFV_FROM_SOURCE: '1',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
      // The killed member's partitions move once its session expires; keep that short.
      KAFKA_SESSION_TIMEOUT_MS: '8000',
      DELIVERY: delivery,
      // The restarted replica keeps its transactional id, which aborts the killed one's
      // open transaction.
      KAFKA_TRANSACTIONAL_ID: `${groupId}-replica-0`,
    };
    const producer = testKafka().producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const all = [...syntheticSignups(12_000, 7)].map((s) => signupMessage(s.event));
    await producer.send({ topic: topics.input, acks: -1, messages: all.slice(0, 8000) });

    const first = startChild(env);
    // Keep producing while the first processor runs, so the kill lands mid-stream.
    const producing = (async () => {
      for (let i = 8000; i < all.length; i += 500) {
        await producer.send({ topic: topics.input, acks: -1, messages: all.slice(i, i + 500) });
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await waitFor('first commits', async () => (await committedTotal(groupId, topics.input)) >= 2000, 60_000);
    first.kill('SIGKILL');
    expect(await exited(first)).toBeNull();
    let committedAtCrash = 0;
    await waitFor(
      'the committed offsets',
      async () => {
        committedAtCrash = await committedTotal(groupId, topics.input);
        return true;
      },
      10_000,
    );
    await producing;
    await producer.disconnect();
    const total = await endTotal(topics.input);
    expect(total).toBe(all.length);
    expect(committedAtCrash).toBeLessThan(total);

    const second = startChild(env);
    await waitFor(
      'the restarted processor to drain the topic',
      async () => (await committedTotal(groupId, topics.input)) >= total,
      90_000,
    );
    second.kill('SIGTERM');
    expect(await exited(second)).toBe(0);

    const outputs = [topics.valid, topics.invalid, topics.dlq];
    const written = (await Promise.all(outputs.map((t) => endTotal(t)))).reduce((a, b) => a + b, 0);
    const exactlyOnce = delivery === 'exactly-once';
    // Under exactly-once, aborted transactions and their markers occupy offsets: read until
    // the consumer has seen one result per input, or the time is up.
    const out = await consumeRecords(outputs, exactlyOnce ? total : written, 60_000, { readCommitted: exactlyOnce });
    if (!exactlyOnce) expect(out).toHaveLength(written);
    const seen = new Map<string, number>();
    for (const r of out) {
      let coord: string;
      if (r.topic === topics.dlq) {
        const h = r.message.headers!;
        coord = `${h[DLQ_HEADERS.partition]}:${h[DLQ_HEADERS.offset]}`;
      } else {
        const src = resultType.fromBuffer(r.message.value!).sourceRecord;
        coord = `${src.partition}:${src.offset}`;
      }
      seen.set(coord, (seen.get(coord) ?? 0) + 1);
    }
    const ends = await withAdmin((admin) => admin.fetchTopicOffsets(topics.input));
    const missing: string[] = [];
    for (const p of ends)
      for (let o = 0; o < Number(p.high); o++)
        if (!seen.has(`${p.partition}:${o}`)) missing.push(`${p.partition}:${o}`);
    expect(missing, `inputs without a result: ${missing.slice(0, 10).join(', ')}`).toEqual([]);
    const duplicates = out.length - seen.size;
    expect(duplicates).toBeLessThanOrEqual(PARTITIONS * WINDOW);
    console.info(
      `crash test: ${total} events, committed ${committedAtCrash} at the kill, ${duplicates} duplicates after restart`,
    );
  }, 240_000);
});
