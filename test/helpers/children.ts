import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type Admin, Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import { afterAll, beforeAll } from 'vitest';
import { startCluster, startNode, stopCluster, stopNode } from '../../dev/kafka/cluster.mjs';
import { DLQ_HEADERS } from '../../src/contract/headers.js';
import { signupMessage } from '../../src/produce/publish-signups.js';
import { syntheticSignups } from '../../src/sim/synthetic.js';
import { resultType } from './processor.js';

/**
 * Processors as child processes (the real CLI, killable) and the bookkeeping to check what
 * they left in Kafka. Takes the broker list explicitly, so chaos tests can use clusters of
 * their own.
 */
const bin = fileURLToPath(new URL('../../bin/email-flow-validator.mjs', import.meta.url));

export interface ProcessorChild {
  child: ChildProcess;
  /** stderr lines (pino JSON) the child wrote so far. */
  lines: string[];
  exited: Promise<number | null>;
}

/**
 * A Kafka cluster of the calling test file's own, started before its tests and stopped after
 * them, together with any processor child still running. `brokers` is filled in beforeAll.
 */
export function useOwnCluster(prefix: string, nodes: number): { name: string; brokers: string[] } {
  const name = `${prefix}-${process.pid}`;
  const brokers: string[] = [];
  beforeAll(async () => {
    brokers.push(...(await startCluster({ name, nodes })).brokers.split(','));
  });
  afterAll(async () => {
    killAllChildren();
    await stopCluster({ name });
  });
  return { name, brokers };
}

/** Creates the topics with `partitions` partitions each (replication: the cluster's default). */
export async function createTopicsOn(brokers: string[], topics: string[], partitions: number): Promise<void> {
  await withAdminOn(brokers, (admin) =>
    admin.createTopics({ waitForLeaders: true, topics: topics.map((topic) => ({ topic, numPartitions: partitions })) }),
  );
}

const running = new Set<ChildProcess>();

/** SIGKILLs every child still running: a failed test must not leave processors behind. */
export function killAllChildren(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

export function startProcessorChild(env: Record<string, string>, name = 'child'): ProcessorChild {
  const child = spawn(process.execPath, [bin, 'run'], {
    // Test the sources, not a dist/ that may be stale.
    env: { ...process.env, EFV_FROM_SOURCE: '1', HTTP_PORT: '-1', CHECK_DNS: 'false', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const lines: string[] = [];
  let rest = '';
  child.stderr?.on('data', (d: Buffer) => {
    const parts = (rest + d.toString()).split('\n');
    rest = parts.pop() ?? '';
    lines.push(...parts);
    if (process.env.TEST_LOG_LEVEL) process.stderr.write(parts.map((l) => `[${name}] ${l}\n`).join(''));
  });
  running.add(child);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  return { child, lines, exited };
}

export function kafkaFor(brokers: string[]): Kafka {
  return new Kafka({ clientId: 'test-harness', brokers, logLevel: logLevel.NOTHING });
}

export async function withAdminOn<T>(brokers: string[], fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafkaFor(brokers).admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Sum of the group's committed offsets; asks again while the coordinator moves or loads. */
export async function committedTotal(brokers: string[], groupId: string, topic: string): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await withAdminOn(brokers, async (admin) => {
        const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
        return (t?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
      });
    } catch (err) {
      if (attempt >= 30) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

export async function endOffsets(brokers: string[], topic: string): Promise<Map<number, number>> {
  return withAdminOn(
    brokers,
    async (admin) => new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)])),
  );
}

export async function endTotal(brokers: string[], topic: string): Promise<number> {
  return [...(await endOffsets(brokers, topic)).values()].reduce((a, b) => a + b, 0);
}

/** Polls `cond` until true; errors (coordinator moves, group loading) count as "not yet". */
export async function waitFor(what: string, cond: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await cond().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export async function stableProducer(brokers: string[]): Promise<Producer> {
  const producer = kafkaFor(brokers).producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    // Not idempotent: KafkaJS 2.2.4's idempotent producer was seen to acknowledge records a
    // leader failover then lost. A plain producer with acks=all may duplicate, never lose.
    maxInFlightRequests: 1,
    retry: { retries: 50, maxRetryTime: 2000 },
  });
  await producer.connect();
  return producer;
}

/** Publishes `count` synthetic sign-ups in chunks, pausing between chunks: a stream, not a dump. */
export async function produceStream(
  producer: Producer,
  topic: string,
  count: number,
  options: { chunk?: number; pauseMs?: number; seed?: number } = {},
): Promise<void> {
  const chunk = options.chunk ?? 500;
  const all = [...syntheticSignups(count, options.seed ?? 11)].map((s) => signupMessage(s.event));
  for (let i = 0; i < all.length; i += chunk) {
    await producer.send({ topic, acks: -1, messages: all.slice(i, i + chunk) });
    if (options.pauseMs) await new Promise((r) => setTimeout(r, options.pauseMs));
  }
}

/** Publishes synthetic sign-ups in chunks until `stop()` is called; resolves with the count. */
export function produceUntilStopped(
  producer: Producer,
  topic: string,
  options: { chunk?: number; pauseMs?: number } = {},
): { stop(): Promise<number> } {
  const chunk = options.chunk ?? 250;
  let stopped = false;
  let sent = 0;
  const run = (async () => {
    for (let round = 0; !stopped; round++) {
      const messages = [...syntheticSignups(chunk, 1000 + round)].map((s) => signupMessage(s.event));
      await producer.send({ topic, acks: -1, messages });
      sent += messages.length;
      await new Promise((r) => setTimeout(r, options.pauseMs ?? 200));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await run;
      return sent;
    },
  };
}

/**
 * `topic:partition:offset` of every record a read_committed librdkafka consumer (kcat) sees in
 * `topic`: the reference for which records are committed, independent of KafkaJS's own
 * filtering of aborted transactions.
 */
export async function kcatCommitted(brokers: string[], topic: string): Promise<Set<string>> {
  const args = ['-C', '-q', '-e', '-o', 'beginning', '-X', 'isolation.level=read_committed'];
  const { stdout } = await promisify(execFile)(
    'kcat',
    [...args, '-b', brokers.join(','), '-t', topic, '-f', '%t:%p:%o\\n'],
    { maxBuffer: 256 * 1024 * 1024, timeout: 120_000, encoding: 'utf8' },
  );
  return new Set(stdout.split('\n').filter((l) => l.length > 0));
}

/**
 * Reads every output topic to its end and counts results per input coordinate
 * (`partition:offset` of the input topic): valid/invalid from the Avro sourceRecord,
 * dead letters from their headers.
 */
export async function resultsByInput(
  brokers: string[],
  outputs: { results: string[]; deadLetter: string },
  /** readCommitted: the records kcat reads with read_committed; kafkajsReadCommitted: KafkaJS's. */
  options: { readCommitted?: boolean; kafkajsReadCommitted?: boolean } = {},
): Promise<{ counts: Map<string, number>; records: number; locations: Map<string, string[]> }> {
  const topics = [...outputs.results, outputs.deadLetter];
  const ends = new Map<string, Map<number, number>>();
  for (const t of topics) ends.set(t, await endOffsets(brokers, t));
  // read_committed: which records count is kcat's answer (librdkafka); KafkaJS reads them all
  // and decodes those.
  let committed: Set<string> | undefined;
  if (options.readCommitted) {
    committed = new Set();
    for (const t of topics) for (const c of await kcatCommitted(brokers, t)) committed.add(c);
  }
  const consumer = kafkaFor(brokers).consumer({
    groupId: `reader-${Date.now()}-${Math.random().toString(36).slice(2)}`,
    readUncommitted: !options.kafkajsReadCommitted,
  });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  const counts = new Map<string, number>();
  /** Where each input's results are (topic:partition:offset), to tell duplicates apart. */
  const locations = new Map<string, string[]>();
  let records = 0;
  const remaining = new Set<string>();
  for (const [t, m] of ends) for (const [p, high] of m) if (high > 0) remaining.add(`${t}:${p}`);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`reading results timed out; left: ${[...remaining].join(', ')}`)),
      120_000,
    );
    if (remaining.size === 0) {
      clearTimeout(timer);
      resolve();
      return;
    }
    void consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          if (committed && !committed.has(`${batch.topic}:${batch.partition}:${m.offset}`)) continue;
          records++;
          let coord: string;
          if (batch.topic === outputs.deadLetter) {
            const h = m.headers!;
            coord = `${h[DLQ_HEADERS.partition]}:${h[DLQ_HEADERS.offset]}`;
          } else {
            const src = resultType.fromBuffer(m.value!).sourceRecord;
            coord = `${src.partition}:${src.offset}`;
          }
          counts.set(coord, (counts.get(coord) ?? 0) + 1);
          // The producer id and epoch tell two results of one transaction from results of two.
          const ctx = (m as { batchContext?: { producerId?: string; producerEpoch?: number } }).batchContext;
          const at = `${batch.topic}:${batch.partition}:${m.offset}@${ctx?.producerId}/${ctx?.producerEpoch}`;
          const where = locations.get(coord);
          if (where) where.push(at);
          else locations.set(coord, [at]);
        }
        // The batch's last offset (control records included) tells how far the partition is read.
        const high = ends.get(batch.topic)!.get(batch.partition)!;
        if (Number(batch.lastOffset()) + 1 >= high) remaining.delete(`${batch.topic}:${batch.partition}`);
        if (remaining.size === 0) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  return { counts, records, locations };
}

/** Input coordinates without any result. */
/**
 * Reads every result and dead letter of the run: which input offsets got none (`missing`)
 * and how many results there were beyond one per input (`duplicates`).
 */
export async function answeredInputs(
  brokers: string[],
  topics: { input: string; valid: string; invalid: string; dlq: string },
  options: { readCommitted?: boolean; kafkajsReadCommitted?: boolean } = {},
): Promise<{ missing: string[]; duplicates: number; results: number; duplicated: string[] }> {
  if (options.readCommitted) await waitForCommittedResults(brokers, topics);
  const { counts, records, locations } = await resultsByInput(
    brokers,
    { results: [topics.valid, topics.invalid], deadLetter: topics.dlq },
    options,
  );
  const missing = missingInputs(await endOffsets(brokers, topics.input), counts);
  // The first few inputs with more than one result, and where those results are.
  const duplicated = [...locations]
    .filter(([, at]) => at.length > 1)
    .slice(0, 5)
    .map(([coord, at]) => `${coord} -> ${at.join(' ')}`);
  return { missing, duplicates: records - counts.size, results: records, duplicated };
}

/**
 * Waits (at most 90 s) until read_committed readers see at least one result per input. A
 * killed processor's open transaction keeps its output partitions' last stable offset, and
 * with it every later committed result, from read_committed readers until the transaction
 * times out (20 s, plus up to the broker's 10 s check interval) when the next process has
 * another transactional id.
 */
async function waitForCommittedResults(
  brokers: string[],
  topics: { input: string; valid: string; invalid: string; dlq: string },
): Promise<void> {
  const inputs = await endTotal(brokers, topics.input);
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    let visible = 0;
    for (const t of [topics.valid, topics.invalid, topics.dlq]) visible += (await kcatCommitted(brokers, t)).size;
    if (visible >= inputs) return;
    await new Promise((r) => setTimeout(r, 2000));
  }
}

export function missingInputs(inputEnds: Map<number, number>, counts: Map<string, number>): string[] {
  const missing: string[] = [];
  for (const [p, high] of inputEnds)
    for (let o = 0; o < high; o++) if (!counts.has(`${p}:${o}`)) missing.push(`${p}:${o}`);
  return missing;
}

export function processorEnv(
  brokers: string[],
  topics: { input: string; valid: string; invalid: string; dlq: string },
  groupId: string,
) {
  return {
    KAFKA_BROKERS: brokers.join(','),
    KAFKA_GROUP_ID: groupId,
    INPUT_TOPIC: topics.input,
    VALID_TOPIC: topics.valid,
    INVALID_TOPIC: topics.invalid,
    DLQ_TOPIC: topics.dlq,
    RETRY_DELAYS: '',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'info',
    // A killed member's partitions move once its session expires; keep that short.
    KAFKA_SESSION_TIMEOUT_MS: '8000',
  };
}

async function leaderOf(brokers: string[], topic: string, partition: number): Promise<number> {
  return withAdminOn(brokers, async (admin) => {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    return topics[0]!.partitions.find((p) => p.partitionId === partition)!.leader;
  });
}

/**
 * For each target in turn: waits for 3,000 more committed inputs, SIGKILLs the leader of
 * partition 0 of the topic, waits for 1,000 more committed with it down, restarts it.
 * Returns how long progress took to resume after each kill.
 */
export async function killLeadersMidStream(
  cluster: string,
  brokers: string[],
  committed: () => Promise<number>,
  targets: (readonly [topic: string, label: string])[],
): Promise<string[]> {
  const recoveries: string[] = [];
  for (const [topic, label] of targets) {
    const before = await committed();
    await waitFor(
      `progress before killing the ${label} leader`,
      async () => (await committed()) >= before + 3000,
      120_000,
    );
    const leader = await leaderOf(brokers, topic, 0);
    const killedAt = Date.now();
    const atKill = await committed();
    await stopNode({ name: cluster, id: leader, signal: 'SIGKILL' });
    await waitFor(`progress with the ${label} leader down`, async () => (await committed()) > atKill + 1000, 120_000);
    recoveries.push(`${label} leader (node ${leader}) killed: progress again after ${Date.now() - killedAt} ms`);
    await new Promise((r) => setTimeout(r, 2000));
    await startNode({ name: cluster, id: leader });
  }
  return recoveries;
}

/** Keeps a processor running as Kubernetes would: started again whenever it exits, until stopped. */
export function supervisedProcessor(
  env: Record<string, string>,
  name: string,
): { current(): ProcessorChild; all(): ProcessorChild[]; restarts(): number; stop(): Promise<number | null> } {
  let child = startProcessorChild(env, name);
  const started = [child];
  let restarts = 0;
  let stopping = false;
  const loop = (async () => {
    for (;;) {
      await child.exited;
      if (stopping) return;
      restarts++;
      child = startProcessorChild(env, `${name}${restarts}`);
      started.push(child);
    }
  })();
  return {
    current: () => child,
    all: () => started,
    restarts: () => restarts,
    async stop() {
      stopping = true;
      child.child.kill('SIGTERM');
      const code = await child.exited;
      await loop;
      return code;
    },
  };
}
