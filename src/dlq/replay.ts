/**
 * Re-publishes dead-letter records to the input topic (or another one), bounded by the
 * dead-letter topic's end offsets taken at start.
 *
 * Idempotence: the replay reads with a consumer group named after its filter and
 * destination (`replayGroupId`) and commits a partition's offset only after the broker
 * acknowledged every replayed record below it. Running the same command again therefore
 * starts where the last run stopped and replays nothing already replayed; a crash in between
 * replays at most the one unacknowledged chunk again (at-least-once, like the processor).
 */
import { randomBytes } from 'node:crypto';
import type { Admin, Consumer, IHeaders, Kafka, KafkaMessage, Message, Producer } from 'kafkajs';
import { REPLAY_HEADERS } from '../contract/headers.js';
import { ProcessorError } from '../errors.js';
import { producerConfig, toolConsumerConfig } from '../kafka/clients.js';
import type { Logger } from '../telemetry/logger.js';
import { errorCodeOf, matchesFilter, type ReplayFilter, ReplayOptionError, replayGroupId } from './filter.js';

/** Replayed records per request: the unit of publish, acknowledgement and commit. */
const CHUNK = 500;

export interface ReplayOptions {
  dlqTopic: string;
  destination: string;
  filter: ReplayFilter;
  /** The processor's group id; the replay group is derived from it. */
  baseGroupId: string;
  dryRun: boolean;
  /** Called once with the number of records to scan, then with the number scanned so far. */
  onStart?: (total: number) => void;
  onProgress?: (scanned: number) => void;
}

export interface ReplaySummary {
  groupId: string;
  dryRun: boolean;
  /** Dead-letter records read (up to the end offsets taken at start). */
  scanned: number;
  /** Of those, the ones the filter takes. */
  matching: number;
  /** Records published to the destination (0 in a dry run). */
  published: number;
  byCode: Record<string, { scanned: number; matching: number }>;
}

/**
 * The original key, value and headers, minus the `efv-*` headers of the failure (the
 * processor sets fresh ones if it fails again), plus where and when it was replayed from.
 */
export function replayedRecord(
  message: Pick<KafkaMessage, 'key' | 'value' | 'offset' | 'headers'>,
  source: { topic: string; partition: number },
  replayedAt: string,
): Message {
  const headers: IHeaders = {};
  for (const [k, v] of Object.entries(message.headers ?? {})) {
    if (v !== undefined && !k.startsWith('efv-')) headers[k] = v;
  }
  headers[REPLAY_HEADERS.replayOf] = `${source.topic}/${source.partition}/${message.offset}`;
  headers[REPLAY_HEADERS.replayedAt] = replayedAt;
  return { key: message.key, value: message.value, headers };
}

interface PartitionRange {
  /** First offset this replay reads. */
  start: number;
  /** End offset at start: the replay stops before it. */
  end: number;
}

async function checkTopics(admin: Admin, opts: ReplayOptions): Promise<void> {
  if (opts.destination === opts.dlqTopic) {
    throw new ReplayOptionError(`--to ${opts.destination} is the dead-letter topic itself; replay needs another topic`);
  }
  const existing = new Set(await admin.listTopics());
  const missing = [opts.dlqTopic, opts.destination].filter((t) => !existing.has(t));
  if (missing.length === 1) throw new ProcessorError('TOPIC_MISSING', `topic ${missing[0]} does not exist`);
  if (missing.length > 1) throw new ProcessorError('TOPIC_MISSING', `topics ${missing.join(' and ')} do not exist`);
}

/**
 * KafkaJS retries admin offset fetches on connection errors but not on a coordinator that is
 * moving or still loading (NOT_COORDINATOR and the like, all flagged retriable), which a fresh
 * or failed-over cluster answers for a few seconds.
 */
async function retryingCoordinator<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!(err as { retriable?: boolean }).retriable || attempt >= 20) throw err;
      await new Promise((r) => setTimeout(r, Math.min(100 * attempt, 1000)));
    }
  }
}

async function partitionRanges(admin: Admin, topic: string, groupId: string): Promise<Map<number, PartitionRange>> {
  const offsets = await admin.fetchTopicOffsets(topic);
  const [committed] = await retryingCoordinator(() => admin.fetchOffsets({ groupId, topics: [topic] }));
  const committedBy = new Map((committed?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  const ranges = new Map<number, PartitionRange>();
  for (const o of offsets) {
    const low = Number(o.low);
    const end = Number(o.high);
    const c = committedBy.get(o.partition) ?? -1;
    // No commit yet, or records below it removed by retention: read from the earliest left.
    ranges.set(o.partition, { start: c >= low ? Math.min(c, end) : low, end });
  }
  return ranges;
}

export async function replayDeadLetters(kafka: Kafka, logger: Logger, opts: ReplayOptions): Promise<ReplaySummary> {
  const log = logger.child({ component: 'replay-dlq' });
  const groupId = replayGroupId(opts.baseGroupId, opts.filter, opts.destination);
  const summary: ReplaySummary = { groupId, dryRun: opts.dryRun, scanned: 0, matching: 0, published: 0, byCode: {} };
  const admin = kafka.admin();
  await admin.connect();
  try {
    await checkTopics(admin, opts);
    const ranges = await partitionRanges(admin, opts.dlqTopic, groupId);
    const pending = [...ranges].filter(([, r]) => r.start < r.end);
    const total = pending.reduce((sum, [, r]) => sum + r.end - r.start, 0);
    opts.onStart?.(total);
    log.info({ groupId, dlqTopic: opts.dlqTopic, destination: opts.destination, total }, 'replay starting');
    if (pending.length === 0) return summary;

    // A dry run must not move the replay group, or the real run after it would skip what it
    // counted: it reads from the same offsets under a throwaway group, deleted afterwards.
    let readGroup = groupId;
    if (opts.dryRun) {
      readGroup = `${groupId}.dry-run.${randomBytes(4).toString('hex')}`;
      await retryingCoordinator(() =>
        admin.setOffsets({
          groupId: readGroup,
          topic: opts.dlqTopic,
          partitions: [...ranges].map(([partition, r]) => ({ partition, offset: String(r.start) })),
        }),
      );
    }
    try {
      await scan(kafka, log, opts, readGroup, new Map(pending), summary);
    } finally {
      if (opts.dryRun) await admin.deleteGroups([readGroup]).catch(() => {});
    }
    log.info({ ...summary, byCode: undefined }, 'replay done');
    return summary;
  } finally {
    await admin.disconnect();
  }
}

async function scan(
  kafka: Kafka,
  log: Logger,
  opts: ReplayOptions,
  groupId: string,
  pending: Map<number, PartitionRange>,
  summary: ReplaySummary,
): Promise<void> {
  const topic = opts.dlqTopic;
  const position = new Map([...pending].map(([p, r]) => [p, r.start]));
  const committed = new Map(position);
  const done = new Set<number>();
  let scannedOffsets = 0;

  let finish!: (err?: Error) => void;
  const finished = new Promise<void>((resolve, reject) => {
    finish = (err) => (err ? reject(err) : resolve());
  });
  // It may fail while consumer.run is still starting, before anything awaits it.
  finished.catch(() => {});

  const producer: Producer | undefined = opts.dryRun
    ? undefined
    : // The murmur2 partitioner of sign-up producers: a replayed record lands in the partition
      // of its key, behind that user's other events. A send that fails after its bounded
      // retries fails the replay; nothing past it is committed, so a rerun replays it.
      kafka.producer(producerConfig());
  const consumer: Consumer = kafka.consumer(toolConsumerConfig(groupId));

  const advance = (partition: number, next: number) => {
    const prev = position.get(partition)!;
    if (next <= prev) return;
    position.set(partition, next);
    scannedOffsets += next - prev;
    opts.onProgress?.(scannedOffsets);
    if (next >= pending.get(partition)!.end && !done.has(partition)) {
      done.add(partition);
      consumer.pause([{ topic, partitions: [partition] }]);
      if (done.size === pending.size) finish();
    }
  };

  const commit = async (partition: number) => {
    const next = position.get(partition)!;
    if (opts.dryRun || next <= committed.get(partition)!) return;
    await consumer.commitOffsets([{ topic, partition, offset: String(next) }]);
    committed.set(partition, next);
  };

  consumer.on(consumer.events.CRASH, (e) => finish(e.payload.error));
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    const mine = new Set(e.payload.memberAssignment[topic] ?? []);
    const missing = [...pending.keys()].filter((p) => !mine.has(p) && !done.has(p));
    if (missing.length > 0) {
      finish(
        new ProcessorError(
          'REPLAY_CONCURRENT',
          `another replay with the same filter holds partitions ${missing.join(', ')} (group ${groupId})`,
        ),
      );
    }
  });
  // A batch of only transaction markers or aborted records never reaches eachBatch, but it
  // moves the position: without this a partition ending in a commit marker would never end.
  consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
    const { partition, batchSize, lastOffset } = e.payload;
    const range = pending.get(partition);
    if (batchSize === 0 && range && e.payload.topic === topic) {
      advance(partition, Math.min(Number(lastOffset) + 1, range.end));
    }
  });

  await producer?.connect();
  try {
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch, heartbeat, isRunning, isStale }) => {
          const { partition } = batch;
          const range = pending.get(partition);
          if (!range || done.has(partition)) return;
          try {
            const messages = batch.messages.filter((m) => Number(m.offset) < range.end);
            for (let i = 0; i < messages.length; i += CHUNK) {
              if (!isRunning() || isStale()) return;
              const chunk = messages.slice(i, i + CHUNK);
              const out: Message[] = [];
              const replayedAt = new Date().toISOString();
              for (const m of chunk) {
                const code = errorCodeOf(m);
                const counts = summary.byCode[code] ?? { scanned: 0, matching: 0 };
                summary.byCode[code] = counts;
                counts.scanned++;
                summary.scanned++;
                if (!matchesFilter(m, opts.filter)) continue;
                counts.matching++;
                summary.matching++;
                out.push(replayedRecord(m, { topic, partition }, replayedAt));
              }
              if (producer && out.length > 0) {
                // acks=all: once send resolves, every record is in the in-sync replicas, and
                // only then may the offset move past it (a retried send may duplicate, never lose).
                await producer.send({ topic: opts.destination, acks: -1, messages: out });
                summary.published += out.length;
              }
              advance(partition, Number(chunk[chunk.length - 1]!.offset) + 1);
              await commit(partition);
              await heartbeat();
            }
            // Transaction markers after the last record still count as read.
            advance(partition, Math.min(Number(batch.lastOffset()) + 1, range.end));
            await commit(partition);
          } catch (err) {
            // Not rethrown: KafkaJS would retry the batch and publish its first chunks again.
            finish(err as Error);
          }
        },
      });
      await finished;
      // Partitions whose tail was only transaction markers moved without a commit.
      for (const partition of pending.keys()) await commit(partition);
    } finally {
      await consumer.disconnect().catch((err: unknown) => log.warn({ err }, 'consumer disconnect failed'));
    }
  } finally {
    await producer?.disconnect();
  }
}
